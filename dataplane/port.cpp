// rte_devargs_reset() is still "experimental" in 22.11; without it a parsed
// devargs leaks its copy of the string.
#ifndef ALLOW_EXPERIMENTAL_API  // dpdock_capture sets it for the whole engine (librte_pcapng)
#define ALLOW_EXPERIMENTAL_API
#endif

#include "dataplane/port.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "base/util/tap_ring.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint64_t kPassedOffloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_TCP_TSO |
                                          RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

std::string describe(PortId port) {
    const std::string name = port_name(port);
    return "port " + std::to_string(port) + (name.empty() ? "" : " (" + name + ")");
}

Status no_port(PortId port) { return Status::error("no port " + std::to_string(port)); }

// DPDK calls return -errno; this turns one into "<what>: <reason>".
Status dpdk_error(PortId port, const std::string& what, int ret) {
    return Status::error(describe(port) + ": " + what + ": " + rte_strerror(-ret));
}

struct DeviceName {
    std::string bus;
    std::string name;
};

Result<DeviceName> parse_devargs(const std::string& devargs) {
    rte_devargs da;
    std::memset(&da, 0, sizeof(da));
    const int ret = rte_devargs_parse(&da, devargs.c_str());
    if (ret != 0) {
        return Result<DeviceName>::error("invalid device arguments '" + devargs + "': " + rte_strerror(-ret));
    }
    DeviceName out{da.bus != nullptr ? rte_bus_name(da.bus) : "", da.name};
    rte_devargs_reset(&da);
    return out;
}

}  // namespace

Result<PortId> probe_port(const std::string& devargs) {
    using R = Result<PortId>;
    auto device = parse_devargs(devargs);
    if (!device) return device.status();
    const std::string& name = device->name;

    PortId existing = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &existing) == 0) {
        return R::error("device " + name + " already exists (port " + std::to_string(existing) + ")");
    }
    if (const int ret = rte_dev_probe(devargs.c_str()); ret != 0) {
        // Most drivers fail their probe with -1, which reads as "Operation not
        // permitted"; their real reason is only in the log DPDK just wrote.
        const std::string reason = ret == -EPERM ? "the driver refused it (its reason is in the log above)"
                                                 : std::string(rte_strerror(-ret));
        return R::error("cannot probe '" + devargs + "': " + reason);
    }
    PortId port = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
        // Probed, but not as an ethdev of that name (another class of device,
        // or a driver that names its ports differently): undo the probe.
        rte_eal_hotplug_remove(device->bus.c_str(), name.c_str());
        return R::error("device " + name + " was probed but is not an ethdev port of that name");
    }
    return port;
}

namespace {

// af_packet fans received packets out over all its qpairs sockets by flow
// hash at probe time: an rx queue left unconfigured silently swallows its
// share of the flows (measured: half of them with qpairs=2, one rx queue).
bool spreads_rx_over_all_queues(const rte_eth_dev_info& info) {
    return std::strcmp(info.driver_name, "net_af_packet") == 0;
}

// net_tap's rx "interrupt" is its queue's own file descriptor (the TAP's):
// asking for rx interrupts only makes the driver list it, for an idle worker
// to wait on (rx_wake_fds). Other drivers' interrupts would need arming.
bool rx_queue_is_fd(const rte_eth_dev_info& info) { return std::strcmp(info.driver_name, "net_tap") == 0; }

}  // namespace

std::uint16_t rx_queues_needed(PortId port, std::uint16_t tx_queues) {
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0) return 1;
    if (spreads_rx_over_all_queues(info)) return info.max_rx_queues;
    // 22.11's tap_dev_configure fails (-1, "Operation not permitted") unless
    // the counts are equal. The kernel then spreads what it sends into the
    // TAP over the queues by flow hash, so every one is polled.
    if (rx_queue_is_fd(info)) return tx_queues;
    return 1;
}

std::vector<int> rx_wake_fds(PortId port, std::uint16_t rx_queues) {
    std::vector<int> fds(rx_queues, -1);
    rte_eth_dev_info info;
    rte_eth_conf conf;
    if (rte_eth_dev_info_get(port, &info) != 0 || !rx_queue_is_fd(info) || rte_eth_dev_conf_get(port, &conf) != 0 ||
        conf.intr_conf.rxq == 0) {
        return fds;
    }
    for (std::uint16_t q = 0; q < rx_queues; ++q) fds[q] = rte_eth_dev_rx_intr_ctl_q_get_fd(port, q);
    return fds;
}

bool takes_tx_offloads(PortId port) {
    rte_eth_conf conf;
    if (rte_eth_dev_conf_get(port, &conf) != 0) return false;
    return (conf.txmode.offloads & kPassedOffloads) == kPassedOffloads;
}

bool rx_queue_follows_tx(PortId port) {
    rte_eth_dev_info info;
    return rte_eth_dev_info_get(port, &info) == 0 && rx_queue_is_fd(info);
}

Status configure_and_start_port(PortId port, const PortOptions& options) {
    if (!rte_eth_dev_is_valid_port(port)) return no_port(port);
    if (options.pool == nullptr) return Status::error(describe(port) + ": no mbuf pool for rx");
    if (options.rx_queues == 0 || options.tx_queues == 0) {
        return Status::error(describe(port) + ": needs at least one rx and one tx queue");
    }

    rte_eth_dev_info info;
    if (const int ret = rte_eth_dev_info_get(port, &info); ret != 0) {
        return dpdk_error(port, "cannot read device info", ret);
    }
    if (options.rx_queues > info.max_rx_queues) {
        return Status::error(describe(port) + " supports at most " + std::to_string(info.max_rx_queues) +
                             " rx queues, " + std::to_string(options.rx_queues) + " requested");
    }
    if (spreads_rx_over_all_queues(info) && options.rx_queues < info.max_rx_queues) {
        return Status::error(describe(port) + " spreads received packets over its " +
                             std::to_string(info.max_rx_queues) + " queue pairs: all " +
                             std::to_string(info.max_rx_queues) + " rx queues must be configured and polled, " +
                             std::to_string(options.rx_queues) + " requested");
    }
    if (options.tx_queues > info.max_tx_queues) {
        // One tx queue per worker; af_packet needs qpairs=<workers> for that.
        return Status::error(describe(port) + " supports at most " + std::to_string(info.max_tx_queues) +
                             " tx queues, " + std::to_string(options.tx_queues) +
                             " requested (one per worker)");
    }

    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    }
    // Super-frames and partial checksums go to such a port as they are. Not to
    // net_tap: 22.11's software TSO counts the Ethernet header against the MTU
    // and refuses full-size segments (TCP through a TAP stalled), so dpdock
    // segments for it (rte_gso) like for any port without TSO.
    if ((info.tx_offload_capa & kPassedOffloads) == kPassedOffloads && std::strcmp(info.driver_name, "net_tap") != 0) {
        conf.txmode.offloads |= kPassedOffloads;
    }
    if (rx_queue_is_fd(info)) conf.intr_conf.rxq = 1;
    if (const int ret = rte_eth_dev_configure(port, options.rx_queues, options.tx_queues, &conf); ret != 0) {
        return dpdk_error(port, "cannot configure", ret);
    }

    std::uint16_t rx_ring = options.rx_ring;
    // A TAP with one queue per worker would otherwise pin workers x rx-ring
    // mbufs (base/util/tap_ring.hpp).
    if (rx_queue_is_fd(info)) rx_ring = std::min(rx_ring, kTapRxDescriptors);
    std::uint16_t tx_ring = options.tx_ring;
    if (const int ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_ring, &tx_ring); ret != 0) {
        return dpdk_error(port, "cannot size the rx/tx rings", ret);
    }
    // SOCKET_ID_ANY for virtual devices, which queue setup accepts.
    const int socket = rte_eth_dev_socket_id(port);

    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    for (std::uint16_t q = 0; q < options.rx_queues; ++q) {
        if (const int ret = rte_eth_rx_queue_setup(port, q, rx_ring, socket, &rxconf, options.pool); ret != 0) {
            return dpdk_error(port, "cannot set up rx queue " + std::to_string(q), ret);
        }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (std::uint16_t q = 0; q < options.tx_queues; ++q) {
        if (const int ret = rte_eth_tx_queue_setup(port, q, tx_ring, socket, &txconf); ret != 0) {
            return dpdk_error(port, "cannot set up tx queue " + std::to_string(q), ret);
        }
    }

    if (options.mtu != 0) {
        if (options.mtu > UINT16_MAX) {
            return Status::error(describe(port) + ": MTU " + std::to_string(options.mtu) + " is too large");
        }
        // af_packet/tap/null/ring may have no MTU operation: they carry what they are given.
        const int ret = rte_eth_dev_set_mtu(port, static_cast<std::uint16_t>(options.mtu));
        if (ret != 0 && ret != -ENOTSUP) {
            return dpdk_error(port,
                              "cannot set MTU " + std::to_string(options.mtu) + " (device range " +
                                  std::to_string(info.min_mtu) + ".." + std::to_string(info.max_mtu) + ")",
                              ret);
        }
    }
    if (const int ret = rte_eth_promiscuous_enable(port); ret != 0 && ret != -ENOTSUP) {
        return dpdk_error(port, "cannot enable promiscuous mode", ret);
    }
    if (const int ret = rte_eth_dev_start(port); ret != 0) return dpdk_error(port, "cannot start", ret);
    return {};
}

Status remove_port(PortId port) {
    if (!rte_eth_dev_is_valid_port(port)) return no_port(port);
    rte_eth_dev_info info;
    if (const int ret = rte_eth_dev_info_get(port, &info); ret != 0) {
        return dpdk_error(port, "cannot read device info", ret);
    }
    // Each step is tried even when an earlier one failed, so as much as
    // possible is released; the first failure is reported.
    const std::string name = describe(port);
    Status result;
    auto note = [&](const char* what, int ret) {
        if (ret != 0 && result.ok()) result = Status::error(name + ": " + what + ": " + rte_strerror(-ret));
    };
    note("cannot stop", rte_eth_dev_stop(port));
    note("cannot close", rte_eth_dev_close(port));
    // Closing frees the port id but leaves the device probed: without this
    // the same devargs could never be probed again.
    if (info.device != nullptr) note("cannot remove the device", rte_dev_remove(info.device));
    return result;
}

Result<PortStats> read_port_stats(PortId port) {
    if (!rte_eth_dev_is_valid_port(port)) return no_port(port);
    rte_eth_stats s;
    if (const int ret = rte_eth_stats_get(port, &s); ret != 0) return dpdk_error(port, "cannot read stats", ret);
    PortStats stats{.rx_packets = s.ipackets,
                    .rx_bytes = s.ibytes,
                    .tx_packets = s.opackets,
                    .tx_bytes = s.obytes,
                    .rx_missed = s.imissed,
                    .rx_errors = s.ierrors,
                    .tx_errors = s.oerrors,
                    .rx_nombuf = s.rx_nombuf,
                    .rx_queue_packets = {},
                    .tx_queue_packets = {}};
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) == 0) {
        const auto rx = std::min<unsigned>(info.nb_rx_queues, RTE_ETHDEV_QUEUE_STAT_CNTRS);
        const auto tx = std::min<unsigned>(info.nb_tx_queues, RTE_ETHDEV_QUEUE_STAT_CNTRS);
        stats.rx_queue_packets.assign(s.q_ipackets, s.q_ipackets + rx);
        stats.tx_queue_packets.assign(s.q_opackets, s.q_opackets + tx);
    }
    return stats;
}

std::string port_name(PortId port) {
    // Checked first: DPDK logs an error for every lookup of an unknown id.
    char name[RTE_ETH_NAME_MAX_LEN];
    if (!rte_eth_dev_is_valid_port(port) || rte_eth_dev_get_name_by_port(port, name) != 0) return {};
    return name;
}

MacAddress port_mac(PortId port) {
    rte_ether_addr addr;
    if (!rte_eth_dev_is_valid_port(port) || rte_eth_macaddr_get(port, &addr) != 0) return {};
    std::array<std::uint8_t, 6> bytes{};
    std::memcpy(bytes.data(), addr.addr_bytes, bytes.size());
    return MacAddress(bytes);
}

bool link_up(PortId port) {
    rte_eth_link link;
    std::memset(&link, 0, sizeof(link));
    return rte_eth_dev_is_valid_port(port) && rte_eth_link_get_nowait(port, &link) == 0 &&
           link.link_status == RTE_ETH_LINK_UP;
}

}  // namespace dpdock::dataplane
