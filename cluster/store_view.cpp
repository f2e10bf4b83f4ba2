#include "cluster/store_view.hpp"

namespace dpdock::cluster {

void StoreView::reset(const RangeResult& all) {
    entries_.clear();
    for (const auto& kv : all.kvs) entries_[kv.key] = Entry{kv.value, kv.mod_revision, false};
    revision_ = all.revision;
}

void StoreView::put(const KeyValue& kv) {
    auto [it, inserted] = entries_.try_emplace(kv.key);
    if (!inserted && it->second.mod_revision > kv.mod_revision) return;  // we know a newer state
    it->second = Entry{kv.value, kv.mod_revision, false};
}

void StoreView::erase(const std::string& key, std::int64_t revision) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        entries_[key] = Entry{{}, revision, true};
        return;
    }
    if (it->second.mod_revision > revision) return;
    it->second = Entry{{}, revision, true};
}

void StoreView::advance(std::int64_t revision) {
    if (revision <= revision_) return;
    revision_ = revision;
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.deleted && kv.second.mod_revision <= revision_; });
}

TypedView StoreView::typed() const {
    TypedView v;
    v.revision = revision_;
    const std::string hosts = hosts_prefix(), networks = networks_prefix(), endpoints = endpoints_prefix(),
                      vnis = vnis_prefix();
    for (const auto& [key, entry] : entries_) {
        if (entry.deleted) continue;
        if (key.starts_with(hosts)) {
            auto r = parse_host(entry.value);
            if (r && r->name == key.substr(hosts.size())) {
                v.hosts[r->name] = *r;
                continue;
            }
        } else if (key.starts_with(networks)) {
            auto r = parse_network(entry.value);
            if (r && r->name == key.substr(networks.size())) {
                v.networks[r->name] = *r;
                continue;
            }
        } else if (key.starts_with(endpoints)) {
            auto r = parse_endpoint(entry.value);
            if (r && key == endpoint_key(r->network, r->ip)) {
                v.endpoints.push_back(*r);
                continue;
            }
        } else if (key.starts_with(vnis)) {
            continue;  // the VNI claims: only transactions read them
        }
        ++v.malformed;
    }
    return v;
}

}  // namespace dpdock::cluster
