#!/usr/bin/env bash
# Installs everything dpdock needs on Debian 12 (build, tests, demo, benchmarks).
# Idempotent: asks apt only for what is missing.
# --bench also installs Open vSwitch's DPDK datapath (openvswitch-switch-dpdk),
# which `bench/run.py --systems dpdock,ovs,baseline` runs beside dpdockd. The
# harness starts its own ovsdb-server and ovs-vswitchd-dpdk; if the package's
# postinst started the system's Open vSwitch service, it is stopped again.
set -euo pipefail

BENCH=0
for arg in "$@"; do
  case "$arg" in
    --bench) BENCH=1 ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
  esac
done

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

((BENCH)) && PACKAGES+=(openvswitch-switch-dpdk)

ovs_running() { pgrep -x ovs-vswitchd >/dev/null || pgrep -x ovsdb-server >/dev/null; }
ovs_was_running=0
ovs_running && ovs_was_running=1

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

# The bench runs its own Open vSwitch: a system service the install just
# started (systemd, or the init script where there is none) is stopped again.
if ((BENCH)) && ((!ovs_was_running)) && ovs_running; then
  echo "install-deps: stopping the openvswitch-switch service the package started"
  if [[ -d /run/systemd/system ]]; then
    systemctl stop openvswitch-switch
  else
    /usr/share/openvswitch/scripts/ovs-ctl stop
  fi
fi
