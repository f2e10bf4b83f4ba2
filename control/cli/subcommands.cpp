#include "control/cli/subcommands.hpp"

#include <array>

namespace dpdock::cli {

std::span<const Subcommand> subcommands() {
    static constexpr std::array kTable{
        Subcommand{"attach",
                   "(--name NAME --netns PATH | --container NAME|ID [--docker-host URL] [--name NAME]) [--network NET] [--ip IP] [--mac MAC] [--alias NAME]... [--method veth|tap] "
                   "[-p SPEC]... "
                   "[--expose PORT]... [-P]",
                   "Attach a container (network namespace) to a network", run_attach},
        Subcommand{"capture", "[PORT] -w FILE [-c N] [--duration S]",
                   "Write the packets received on a port (or all) to a pcapng file, until N packets or S seconds",
                   run_capture},
        Subcommand{"cluster hosts", "", "List the hosts of the cluster store: name, VTEP, since, endpoints",
                   run_cluster_hosts},
        Subcommand{"cluster status", "", "Show this host's cluster membership: etcd, lease, revision, counters",
                   run_cluster_status},
        Subcommand{"config reload", "[FILE]", "Apply a changed YAML file to the running daemon (all or nothing)",
                   run_config_reload},
        Subcommand{"config save", "[FILE]", "Write the running state as YAML (atomically)", run_config_save},
        Subcommand{"conntrack", "[--proto tcp|udp|icmp] [--src IP] [--dst IP] [--limit N]",
                   "Show tracked NAT flows: tuples before and after translation, state, time left",
                   run_conntrack},
        Subcommand{"detach", "NAME", "Detach a container from all its networks", run_detach},
        Subcommand{"dns", "NETWORK", "Show the names a network's embedded DNS answers, with hit counters", run_dns},
        Subcommand{"mac", "[NETWORK]", "Show the MAC table: learned and static entries with port and age", run_mac},
        Subcommand{"nat", "", "Show NAT rules with packet and byte counters, as iptables -t nat -nvL", run_nat},
        Subcommand{"network connect", "[--ip IP] [--mac MAC] [--alias NAME]... NETWORK CONTAINER", "Connect a container to a network",
                   run_network_connect},
        Subcommand{"network create",
                   "[--driver bridge|overlay] [--scope local|global] [--subnet CIDR] [--gateway IP] [--ip-range CIDR] [--internal] "
                   "[--vni N] [--arp-suppression] [--opt K=V]... [--label K=V]... NAME",
                   "Create a network", run_network_create},
        Subcommand{"network disconnect", "NETWORK CONTAINER", "Disconnect a container from a network",
                   run_network_disconnect},
        Subcommand{"network inspect", "NAME...", "Show networks in detail, as docker network inspect",
                   run_network_inspect},
        Subcommand{"network ls", "", "List networks", run_network_ls},
        Subcommand{"network rm", "NAME...", "Remove networks that have no containers", run_network_rm},
        Subcommand{"port", "NAME [CPORT[/PROTO]]", "Show a container's published ports, as docker port", run_port},
        Subcommand{"overlay fdb", "NETWORK",
                   "Show an overlay network's forwarding database: local MACs and MACs behind remote VTEPs",
                   run_overlay_fdb},
        Subcommand{"overlay peer", "add|rm NETWORK IP | ls NETWORK",
                   "Add, remove or list the remote VTEPs of an overlay network", run_overlay_peer},
        Subcommand{"ps", "", "List attached containers with their networks, IPs and MACs", run_ps},
        Subcommand{"raw", "COMMAND [JSON-ARGS]", "Send any control command (see `dpdock raw help`) and print its JSON result", run_raw},
        Subcommand{"stats", "[--all] [--watch]", "Show packet counters per port, per drop reason and per worker",
                   run_stats},
        Subcommand{"stats clear", "", "Restart every counter shown by `dpdock stats` from zero", run_stats_clear},
        Subcommand{"uplink rm", "", "Remove the uplink (containers lose their way out)", run_uplink_rm},
        Subcommand{"uplink set",
                   "[--devargs DEVARGS] [--address CIDR] [--gateway IP] [--mtu N] [--arp-timeout S]",
                   "Create or change the uplink (all three of devargs, address, gateway when there is none)",
                   run_uplink_set},
        Subcommand{"uplink show", "", "Show the uplink and its ARP cache", run_uplink_show},
        Subcommand{"version", "", "Show the CLI's and the daemon's versions", run_version},
    };
    return kTable;
}

}  // namespace dpdock::cli
