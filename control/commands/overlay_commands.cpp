// overlay.peer.add|rm|ls and overlay.fdb: an overlay network's remote VTEPs
// (edited like every other change: a copy of the model through
// State::apply()) and its forwarding database (the MAC table's entries of
// that network, remote ones named by their VTEP).
#include <algorithm>

#include <rte_cycles.h>

#include <nlohmann/json.hpp>

#include "config/overlay.hpp"
#include "control/commands/command_context.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

struct PeerArgs {
    std::string network;
    Ipv4Address ip;
};

// The overlay network named by args["network"] in `d`.
Result<config::NetworkSpec*> overlay_network(config::Deployment& d, const json& args) {
    using R = Result<config::NetworkSpec*>;
    auto name = require_string(args, "network");
    if (!name) return R::error(name.message());
    auto it = std::find_if(d.networks.begin(), d.networks.end(), [&](const auto& n) { return n.name == *name; });
    if (it == d.networks.end() && *name != config::kDefaultNetworkName) return R::error("network " + *name + " not found");
    if (it == d.networks.end() || !config::is_overlay(*it)) {
        return R::error("network " + *name + " is not an overlay network (create it with --driver overlay)");
    }
    return &*it;
}

Result<Ipv4Address> ip_arg(const json& args) {
    auto text = require_string(args, "ip");
    if (!text) return Result<Ipv4Address>::error(text.message());
    auto ip = Ipv4Address::parse(*text);
    if (!ip) return Result<Ipv4Address>::error("ip: \"" + *text + "\" is not an IPv4 address");
    return *ip;
}

json peers_json(const config::NetworkSpec& n) {
    json peers = json::array();
    for (const auto& ip : n.peers) peers.push_back(ip.to_string());
    return {{"network", n.name}, {"vni", n.vni.value_or(0)}, {"peers", peers}};
}

// Adds (add = true) or removes a peer; removing one also removes the static
// FDB entries that point at it.
Result<json> change_peer(CommandContext& ctx, const json& args, bool add) {
    if (auto st = reject_unknown_keys(args, {"network", "ip"}); !st) return st;
    config::Deployment target = ctx.state.deployment();
    auto network = overlay_network(target, args);
    if (!network) return Result<json>::error(network.message());
    auto ip = ip_arg(args);
    if (!ip) return Result<json>::error(ip.message());
    auto& peers = (*network)->peers;
    const bool present = std::find(peers.begin(), peers.end(), *ip) != peers.end();
    const std::string name = (*network)->name;
    if (add && present) return Result<json>::error(ip->to_string() + " is already a peer of " + name);
    if (!add && !present) return Result<json>::error(ip->to_string() + " is not a peer of " + name);
    if (add) {
        peers.push_back(*ip);
    } else {
        std::erase(peers, *ip);
        std::erase_if((*network)->remote_macs, [&](const auto& rm) { return rm.vtep == *ip; });
    }
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    config::Deployment now = ctx.state.deployment();
    return peers_json(**overlay_network(now, args));
}

Result<json> peer_ls(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network"}); !st) return st;
    config::Deployment d = ctx.state.deployment();
    auto network = overlay_network(d, args);
    if (!network) return Result<json>::error(network.message());
    return peers_json(**network);
}

Result<json> fdb(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network"}); !st) return st;
    config::Deployment d = ctx.state.deployment();
    auto network = overlay_network(d, args);
    if (!network) return Result<json>::error(network.message());
    const NetworkId id = *ctx.state.network_id((*network)->name);
    const double hz = static_cast<double>(rte_get_tsc_hz());
    json entries = json::array();
    for (const auto& e : ctx.dataplane.macs().dump(rte_rdtsc())) {
        if (e.network != id) continue;
        const bool remote = vxlan::is_vtep_port(e.port);
        entries.push_back({{"mac", e.mac.to_string()},
                           {"vtep", remote ? ctx.dataplane.vteps().address(e.port).to_string() : "local"},
                           {"port", remote ? "vxlan" : ctx.state.port_owner(e.port)},
                           {"static", e.is_static},
                           {"age_s", e.is_static ? 0.0 : static_cast<double>(e.age_ticks) / hz}});
    }
    json out = peers_json(**network);
    out["entries"] = entries;
    return out;
}

}  // namespace

void register_overlay_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("overlay.peer.add", "add a remote VTEP to an overlay network (network, ip)",
                 [&ctx](const json& a) { return change_peer(ctx, a, true); });
    registry.add("overlay.peer.rm", "remove a remote VTEP and its static FDB entries (network, ip)",
                 [&ctx](const json& a) { return change_peer(ctx, a, false); });
    registry.add("overlay.peer.ls", "an overlay network's VNI and peers (network)",
                 [&ctx](const json& a) { return peer_ls(ctx, a); });
    registry.add("overlay.fdb", "an overlay network's forwarding database: local and remote MACs (network)",
                 [&ctx](const json& a) { return fdb(ctx, a); });
}

}  // namespace dpdock::control
