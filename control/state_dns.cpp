// State's DNS part: the names table the embedded DNS answers from
// (dns/name_table.hpp), rebuilt whole after each published change so a
// detached container's name is gone at once. See state.hpp.
#include <cstdio>
#include <memory>
#include <set>

#include "config/model.hpp"
#include "control/resolv_conf.hpp"
#include "control/state.hpp"
#include "dns/dns_service.hpp"
#include "dns/name_table.hpp"

namespace dpdock::control {

void State::publish_names() {
    auto table = std::make_shared<dns::NameTable>();
    for (const auto& network : networks_) {
        if (network.name == config::kDefaultNetworkName) continue;  // Docker resolves no names on "bridge"
        table->set_internal(network_ids_.at(network.name), network.internal);
        table->set_gateway(network_ids_.at(network.name), Ipv4Cidr(network.gateway, network.subnet.prefix()));
    }
    for (const auto& ep : endpoints_) {
        const auto& req = ep.request;
        if (req.network == config::kDefaultNetworkName) continue;
        auto id = network_ids_.find(req.network);
        if (id == network_ids_.end()) continue;
        dns::NameEntry entry{req.container, req.network, id->second, req.ip, {}};
        for (const auto& c : deployment_.containers) {
            if (c.name != req.container) continue;
            for (const auto& e : c.networks) {
                if (e.network == req.network) entry.aliases = e.aliases;
            }
        }
        table->add(entry);
    }
    dp_.dns().set_names(std::move(table));
    sync_resolv_confs();
    const config::DnsSpec& spec = deployment_.dns;
    dp_.dns().set_options({spec.servers.empty() ? dns::upstream_from_resolv_conf("/etc/resolv.conf") : spec.servers,
                           spec.upstream_port, spec.queries_per_second, deployment_.exception.enabled});
}

// Each container in a named namespace whose first network is a user network
// gets that gateway as its nameserver; files of containers gone are removed.
void State::sync_resolv_confs() {
    std::set<std::string> wanted;
    if (deployment_.dns.resolv_conf) {
        for (const auto& ep : endpoints_) {
            const auto& req = ep.request;
            auto name = named_netns(req.netns);
            if (!name || !req.default_route || req.network == config::kDefaultNetworkName) continue;
            if (auto st = write_resolv_conf(*name, req.gateway); !st) {
                std::fprintf(stderr, "dpdockd: resolv.conf of %s: %s\n", req.container.c_str(), st.message().c_str());
                continue;
            }
            wanted.insert(*name);
        }
    }
    for (const auto& name : resolv_confs_) {
        if (!wanted.contains(name)) remove_resolv_conf(name);
    }
    resolv_confs_ = std::move(wanted);
}

}  // namespace dpdock::control
