// The deployment model: plain structs that say what dpdock should run. YAML,
// the CLI and `config save` all produce and consume these, so the model knows
// nothing about YAML beyond the positions it keeps for error messages.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/publish.hpp"
#include "base/packet/net_types.hpp"
#include "nat/timeouts.hpp"

namespace dpdock::config {

// Where an object came from. line/column are 1-based; 0 means "not from a file"
// (created at run time through the control socket).
struct SourcePos {
    std::string file;
    int line = 0;
    int column = 0;
    friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

struct DataplaneSpec {
    unsigned workers = 1;                 // worker lcores (lcore 0 is the control thread)
    std::uint32_t mbufs = 8191;           // mbufs in the pool; 2^n - 1 is optimal for rte_mempool
    std::uint16_t burst = 32;             // rx/tx burst size
    std::uint16_t rx_ring = 1024;         // rx descriptors per queue
    std::uint16_t tx_ring = 1024;         // tx descriptors per queue
    std::uint32_t mac_table_size = 65536; // learned + static MAC entries, all networks together
    std::uint32_t mac_ageing_s = 300;     // like the Linux bridge's ageing_time
    // Idle workers sleep: once idle_poll_us passed since the last packet,
    // idle_sleep_us, doubling up to idle_sleep_max_us while nothing arrives.
    // idle_sleep_us 0: pure polling.
    std::uint32_t idle_sleep_us = 10;
    std::uint32_t idle_sleep_max_us = 1000;
    std::uint32_t idle_poll_us = 200;
    // With several workers, each port's flows are shared among them
    // (dataplane/fastpath/spread.hpp); false: a port's worker forwards all of it.
    bool spread_flows = false;
    std::uint32_t memory_mb = 512;        // EAL memory when no hugepages are mounted (--no-huge -m)
    std::string socket_path = "/run/dpdock/dpdock.sock";
    std::vector<std::string> eal_args;    // extra EAL arguments, appended verbatim
    std::uint32_t icmp_errors_per_s = 1000;  // ICMP errors a worker may send (Linux's icmp_msgs_per_sec); 0: no limit
    std::uint32_t icmp_errors_burst = 50;    // saved up while quiet (Linux's icmp_msgs_burst)
    SourcePos pos;
    friend bool operator==(const DataplaneSpec&, const DataplaneSpec&) = default;
};

// Docker's daemon.json "bip"/"fixed-cidr"/"mtu": the default network "bridge".
struct BridgeSpec {
    Ipv4Cidr bip{Ipv4Address(0xac110001), 16};  // 172.17.0.1/16, the gateway and its prefix
    std::optional<Ipv4Cidr> fixed_cidr;         // containers get addresses only from here
    std::uint32_t mtu = 1500;
    SourcePos pos;
    friend bool operator==(const BridgeSpec&, const BridgeSpec&) = default;
};

inline constexpr const char* kDefaultNetworkName = "bridge";

struct StaticMacSpec {
    MacAddress mac;
    std::string port;  // a container name (its interface on this network) or a raw port name
    SourcePos pos;
    friend bool operator==(const StaticMacSpec&, const StaticMacSpec&) = default;
};

// A MAC that lives behind a remote VTEP (one of the network's peers).
struct RemoteMacSpec {
    MacAddress mac;
    Ipv4Address vtep;
    std::optional<Ipv4Address> ip;  // its IPv4 address, answered locally under ARP suppression
    SourcePos pos;
    friend bool operator==(const RemoteMacSpec&, const RemoteMacSpec&) = default;
};

struct NetworkSpec {
    std::string name;
    std::string driver = "bridge";
    Ipv4Cidr subnet;                       // network address + prefix, host bits zero
    Ipv4Address gateway;                   // the dataplane's own address on this network
    std::optional<Ipv4Cidr> ip_range;      // allocation limited to this range
    bool internal = false;                 // no route out of the host
    std::uint32_t mtu = 1500;
    std::map<std::string, std::string> options;  // Docker's --opt KEY=VALUE, validated by name
    std::map<std::string, std::string> labels;   // Docker's --label KEY=VALUE: metadata, never interpreted
    std::vector<StaticMacSpec> static_macs;
    SourcePos pos;
    // driver "overlay" only (config/overlay.hpp): the VXLAN network identifier
    // (allocated from vxlan.vni-range when absent), the remote VTEPs, and
    // static FDB entries pointing at them.
    std::optional<std::uint32_t> vni;
    std::vector<Ipv4Address> peers;
    std::vector<RemoteMacSpec> remote_macs;
    bool arp_suppression = false;  // answer ARP for known addresses instead of flooding it
    // Scope global (cluster/): an overlay network shared through etcd; the
    // store, not this host's YAML, owns it, its VNI, peers and remote MACs.
    bool global = false;
    friend bool operator==(const NetworkSpec&, const NetworkSpec&) = default;
};

// Docker's per-network switch for MASQUERADE ("true" by default).
inline constexpr const char* kOptMasquerade = "com.docker.network.bridge.enable_ip_masquerade";

// Docker's default address for published ports of the network's containers.
inline constexpr const char* kOptHostBinding = "com.docker.network.bridge.host_binding_ipv4";

inline bool masquerades(const NetworkSpec& n) {
    auto it = n.options.find(kOptMasquerade);
    return it == n.options.end() || it->second != "false";
}

// Docker's per-network switch for traffic between its containers ("true" by default).
inline constexpr const char* kOptIcc = "com.docker.network.bridge.enable_icc";

inline bool icc_enabled(const NetworkSpec& n) {
    auto it = n.options.find(kOptIcc);
    return it == n.options.end() || it->second != "false";
}

// Docker: a veth whose container end is left unconfigured in `netns` (the
// Docker plugin's, which is dockerd's) for Docker to move into the sandbox
// and configure (runtime/docker, docs/docker.md). Such a container has one
// network: Docker makes an endpoint per network.
enum class AttachMethod { Veth, Tap, Docker };

inline const char* method_name(AttachMethod m) {
    return m == AttachMethod::Tap ? "tap" : m == AttachMethod::Docker ? "docker" : "veth";
}

// One interface of a container: its address on one network.
struct EndpointSpec {
    std::string network;
    std::optional<Ipv4Address> ip;   // allocated from the network when absent
    std::optional<MacAddress> mac;   // derived from the IP (02:42:...) when absent
    std::vector<std::string> aliases;  // more DNS names on this network (docker network connect --alias)
    SourcePos pos;
    friend bool operator==(const EndpointSpec&, const EndpointSpec&) = default;
};

struct ContainerSpec {
    std::string name;
    std::string netns;  // /run/netns/NAME or /proc/PID/ns/net
    AttachMethod method = AttachMethod::Veth;
    std::vector<EndpointSpec> networks;  // first one gives the default route
    SourcePos pos;
    // Published ports (docker run -p), reached at the uplink's address and
    // delivered to the container's address on its first network. Dynamic host
    // ports are filled in by resolve(), so `config save` writes them.
    std::vector<PublishSpec> publish;
    std::vector<ExposeSpec> expose;  // --expose: what publish_all publishes
    bool publish_all = false;        // -P
    friend bool operator==(const ContainerSpec&, const ContainerSpec&) = default;
};

// A raw DPDK port that is a member of a network: a generator's memif, a NIC, a ring.
struct PortSpec {
    std::string name;
    std::string devargs;  // e.g. "net_memif0,role=server,socket=/run/dpdock/gen.sock"
    std::string network;
    SourcePos pos;
    friend bool operator==(const PortSpec&, const PortSpec&) = default;
};

// The port to the outside world: any DPDK device, with the host's address on
// it and the next hop for everything off its subnet. Without an uplink,
// traffic through a network's gateway has nowhere to go.
struct UplinkSpec {
    std::string devargs;               // e.g. "net_af_packet0,iface=eth1"
    Ipv4Cidr address;                  // the host's address and prefix on the uplink
    Ipv4Address gateway;               // the default gateway, inside `address`'s subnet
    std::uint32_t mtu = 1500;
    std::uint32_t arp_timeout_s = 60;  // a resolved next hop is trusted this long, then asked again
    SourcePos pos;
    // The gateway's MAC, fixed (`ip neigh add ... nud permanent`): the gateway is never
    // asked with ARP and the entry never ages. Other next hops on the subnet still use ARP.
    std::optional<MacAddress> gateway_mac;
    friend bool operator==(const UplinkSpec&, const UplinkSpec&) = default;
};

// MASQUERADE's connection tracking. Fixed when the daemon starts.
struct NatSpec {
    std::uint32_t capacity = 1 << 20;  // tracked flows; new flows beyond it are dropped (ct_full)
    std::uint16_t port_lo = 1024;      // host ports (and ICMP echo ids) given to translated flows
    std::uint16_t port_hi = 65535;
    nat::Timeouts timeouts;
    // Flows one client outside may have open to published ports (like
    // iptables' connlimit); beyond it new ones are dropped (ct_source_limit). 0: no limit.
    std::uint32_t flows_per_source = 0;
    SourcePos pos;
    // Host ports given to published ports without one (Linux's ip_local_port_range default).
    PortRange dynamic_ports{32768, 60999};
    friend bool operator==(const NatSpec&, const NatSpec&) = default;
};

// The YAML names of the timeouts (nat.timeouts), for the reader and the writer.
struct TimeoutKey {
    const char* key;
    std::uint32_t nat::Timeouts::*field;
};
inline constexpr std::array<TimeoutKey, 8> kTimeoutKeys = {{
    {"tcp-syn-sent", &nat::Timeouts::tcp_syn_sent},
    {"tcp-syn-recv", &nat::Timeouts::tcp_syn_recv},
    {"tcp-established", &nat::Timeouts::tcp_established},
    {"tcp-fin-wait", &nat::Timeouts::tcp_fin_wait},
    {"tcp-close", &nat::Timeouts::tcp_close},
    {"udp-unreplied", &nat::Timeouts::udp_unreplied},
    {"udp-assured", &nat::Timeouts::udp_assured},
    {"icmp", &nat::Timeouts::icmp},
}};

// The VTEP of overlay networks (RFC 7348). Fixed per host; peers are per network.
struct VxlanSpec {
    std::uint16_t port = 4789;            // UDP destination port, sent and accepted
    std::uint8_t ttl = 64;                // outer IPv4 TTL
    bool df = false;                      // set DF on outer packets (like Linux's "df set")
    bool learn_unknown_peers = false;     // accept frames from VTEPs that are no network's peer
    std::uint32_t vni_lo = 256;           // VNIs given to overlay networks created without one
    std::uint32_t vni_hi = 1000;
    SourcePos pos;
    friend bool operator==(const VxlanSpec&, const VxlanSpec&) = default;
};

// The exception path (exception/): a kernel interface in the daemon's netns,
// docker0's twin, holding the uplink address and every gateway; what the
// dataplane does not serve at those addresses goes to the kernel through it.
// Off by default: the interface and its routes land in whatever namespace
// dpdockd runs in. Fixed per host.
struct ExceptionSpec {
    bool enabled = false;
    std::string interface = "dpdock0";  // created with DPDK's net_tap (virtio_user once /dev/vhost-net exists)
    // Packets a second each worker may hand to the kernel (0: no limit), and
    // how many may come at once; beyond: dropped as punt_rate_limited.
    std::uint32_t punt_rate = 100000;
    std::uint32_t punt_burst = 1024;
    SourcePos pos;
    friend bool operator==(const ExceptionSpec&, const ExceptionSpec&) = default;
};

// The embedded DNS (dns/): upstream servers for names that are not
// containers' (daemon.json's "dns"); empty: the host's /etc/resolv.conf
// nameservers minus loopback ones. resolv_conf: write /etc/netns/NAME/resolv.conf
// for containers in /run/netns/NAME.
struct DnsSpec {
    std::vector<Ipv4Address> servers;
    std::uint16_t upstream_port = 53;
    std::uint32_t queries_per_second = 2000;  // per network, answered or forwarded; beyond: dropped (rate_limited)
    bool resolv_conf = true;
    SourcePos pos;
    friend bool operator==(const DnsSpec&, const DnsSpec&) = default;
};

// Membership of a cluster whose global overlay networks live in etcd
// (cluster/). Read once at start; dpdockd's --etcd/--host-name override it.
struct ClusterSpec {
    std::vector<std::string> etcd;  // member URLs, http://HOST:PORT
    std::string host_name;          // "": the system's host name
    std::uint32_t lease_ttl_s = 5;  // the others forget this host this long after it stops
    SourcePos pos;
    friend bool operator==(const ClusterSpec&, const ClusterSpec&) = default;
};

struct Deployment {
    DataplaneSpec dataplane;
    BridgeSpec bridge;
    std::vector<NetworkSpec> networks;  // user networks; the default "bridge" is derived from `bridge`
    std::vector<ContainerSpec> containers;
    std::vector<PortSpec> ports;
    std::optional<UplinkSpec> uplink;
    NatSpec nat;
    VxlanSpec vxlan;
    ExceptionSpec exception;
    DnsSpec dns;
    std::optional<ClusterSpec> cluster;
    std::string source_file;  // "" for the embedded default
    friend bool operator==(const Deployment&, const Deployment&) = default;
};

}  // namespace dpdock::config
