// StoreView: this host's copy of everything under /dpdock/, kept current by
// the watch. Raw entries carry their mod revision, so an event older than
// what a key already shows (a transaction's own result written directly,
// then its watch event) never rolls it back; deletions leave a tombstone
// until the watch has passed their revision. typed() turns the raw keys
// into records, skipping (and counting) malformed ones.
// Not thread-safe: the agent guards it with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cluster/etcd_client.hpp"
#include "cluster/records.hpp"

namespace dpdock::cluster {

struct TypedView {
    std::int64_t revision = 0;
    std::map<std::string, HostRecord> hosts;        // by host name
    std::map<std::string, NetworkRecord> networks;  // by network name
    std::vector<EndpointRecord> endpoints;          // by key order: network, then address text
    std::uint64_t malformed = 0;                    // values that are no record of their key
};

class StoreView {
public:
    // Replaces everything: a full read at `revision`.
    void reset(const RangeResult& all);
    void put(const KeyValue& kv);
    void erase(const std::string& key, std::int64_t revision);
    // The watch has seen everything up to `revision`.
    void advance(std::int64_t revision);

    std::int64_t revision() const { return revision_; }
    TypedView typed() const;

private:
    struct Entry {
        std::string value;
        std::int64_t mod_revision = 0;
        bool deleted = false;
    };
    std::map<std::string, Entry> entries_;
    std::int64_t revision_ = 0;
};

}  // namespace dpdock::cluster
