#!/usr/bin/env bash
# Installs everything dpdock needs on Debian 12 (build, tests, demo, benchmarks).
# Idempotent: asks apt only for what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libdpdk-dev dpdk dpdk-dev
  libyaml-cpp-dev libboost-program-options-dev libboost-dev nlohmann-json3-dev libmnl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  iproute2 iputils-ping ethtool socat iperf3 procps python3 tcpdump  # tcpdump: reads `dpdock capture` files (capture_test)
  clang libclang-rt-14-dev
  # tests/system/podman_cni_test: Podman (CNI backend) on a dpdock network; runc, because
  # crun refuses hybrid cgroup hierarchies with a controller left in v2 (this machine kind's)
  podman runc busybox-static
  docker.io  # tests/system: docker_plugin_test (dpdock-docker-plugin), docker_container_test (attach --container)
  libldns-dev bind9-dnsutils dnsmasq-base
  libcpp-httplib-dev etcd-server etcd-client curl
  iptables   # bench/container_path.py: Docker's rules on the kernel bridge, the baseline
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
