#include "config/defaults.hpp"

namespace dpdock::config {

const char* embedded_demo_yaml() {
    return R"yaml(# dpdock demo: two containers on Docker's default bridge network.
# Create the namespaces first (ip netns add dpdock-demo1; ip netns add dpdock-demo2),
# then start dpdockd; each container gets eth0 with an address from 172.17.0.0/16.

dataplane:
  socket: /run/dpdock/dpdock.sock

# The default network "bridge", with the names of Docker's daemon.json.
bridge:
  bip: 172.17.0.1/16   # the gateway address (owned by the dataplane) and its prefix
  mtu: 1500

containers:
  - name: demo1
    netns: /run/netns/dpdock-demo1
    method: veth        # veth pair: host end is a DPDK af_packet port, eth0 inside
    networks: [bridge]  # gets 172.17.0.2, mac 02:42:ac:11:00:02
  - name: demo2
    netns: /run/netns/dpdock-demo2
    method: veth
    networks: [bridge]  # gets 172.17.0.3, mac 02:42:ac:11:00:03
)yaml";
}

}  // namespace dpdock::config
