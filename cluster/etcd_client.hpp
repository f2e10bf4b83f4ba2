// EtcdClient: etcd v3 through its JSON gateway (etcd 3.4: /v3/kv/range, put,
// deleterange, txn, /v3/lease/grant|keepalive|revoke, /v3/watch as a streamed
// response) over cpp-httplib; keys and values travel base64-encoded.
// Several endpoint URLs (a cluster's members): a request that cannot reach
// one moves on to the next. Not thread-safe: one client per thread; stop()
// is the exception (any thread: it aborts a blocked watch()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/util/status.hpp"

namespace httplib {
class Client;
}

namespace dpdock::cluster {

struct KeyValue {
    std::string key;
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
    std::int64_t lease = 0;
};

struct RangeResult {
    std::int64_t revision = 0;  // the store's revision when it answered
    std::vector<KeyValue> kvs;
};

// A transaction's guard: the key's create revision (0: absent) or its value.
struct Compare {
    enum class Target { CreateRevision, Value };
    std::string key;
    Target target = Target::CreateRevision;
    std::int64_t create_revision = 0;
    std::string value;
    std::string range_end;  // non-empty: every key in [key, range_end) must match
};

struct TxnOp {
    enum class Kind { Put, Delete, Range };
    Kind kind = Kind::Put;
    std::string key;
    std::string value;      // Put
    std::int64_t lease = 0; // Put
    std::string range_end;  // Delete, Range
};

// Guards and operations, spelled out.
inline Compare key_absent(std::string key, std::string range_end = {}) {
    Compare c;
    c.key = std::move(key);
    c.range_end = std::move(range_end);
    return c;
}
inline Compare value_is(std::string key, std::string value) {
    Compare c;
    c.key = std::move(key);
    c.target = Compare::Target::Value;
    c.value = std::move(value);
    return c;
}
inline TxnOp put_op(std::string key, std::string value, std::int64_t lease = 0) {
    TxnOp op;
    op.key = std::move(key);
    op.value = std::move(value);
    op.lease = lease;
    return op;
}
inline TxnOp delete_op(std::string key, std::string range_end = {}) {
    TxnOp op;
    op.kind = TxnOp::Kind::Delete;
    op.key = std::move(key);
    op.range_end = std::move(range_end);
    return op;
}
inline TxnOp range_op(std::string key, std::string range_end = {}) {
    TxnOp op;
    op.kind = TxnOp::Kind::Range;
    op.key = std::move(key);
    op.range_end = std::move(range_end);
    return op;
}

struct TxnResult {
    bool succeeded = false;
    std::int64_t revision = 0;
    std::vector<RangeResult> ranges;  // one per Range op of the branch that ran, in order
};

struct WatchEvent {
    bool deleted = false;
    KeyValue kv;  // for a delete: key and mod_revision (the deletion's)
};

struct WatchBatch {
    std::int64_t revision = 0;       // header revision
    std::int64_t compact_revision = 0;  // > 0: the start revision was compacted, resync needed
    std::vector<WatchEvent> events;
};

struct EtcdOptions {
    std::vector<std::string> endpoints;  // "http://10.0.0.5:2379"
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds request_timeout{2000};
};

// The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(const std::string& prefix);

class EtcdClient {
public:
    explicit EtcdClient(EtcdOptions options);
    ~EtcdClient();
    EtcdClient(const EtcdClient&) = delete;
    EtcdClient& operator=(const EtcdClient&) = delete;

    Result<RangeResult> range(const std::string& key, const std::string& range_end = {});
    Result<std::int64_t> put(const std::string& key, const std::string& value, std::int64_t lease = 0);
    Result<std::int64_t> delete_range(const std::string& key, const std::string& range_end = {});
    Result<TxnResult> txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                          const std::vector<TxnOp>& failure = {});
    // Returns the lease id.
    Result<std::int64_t> lease_grant(std::int64_t ttl_s);
    // Returns the remaining TTL; 0 when the lease has expired (or never existed).
    Result<std::int64_t> lease_keepalive(std::int64_t id);
    Status lease_revoke(std::int64_t id);

    // Streams the changes of [key, range_end) from start_revision, calling
    // on_batch for each response, until on_batch returns false, stop() is
    // called, or the stream breaks (error). Blocks.
    Status watch(const std::string& key, const std::string& range_end, std::int64_t start_revision,
                 const std::function<bool(const WatchBatch&)>& on_batch);
    // Any thread: makes a blocked watch() return.
    void stop();

    const std::string& endpoint() const { return options_.endpoints[current_]; }

private:
    Result<std::string> post(const std::string& path, const std::string& body);
    void connect(std::size_t index);

    EtcdOptions options_;
    std::size_t current_ = 0;
    std::mutex http_mutex_;  // guards http_ against stop() from another thread
    std::unique_ptr<httplib::Client> http_;
    std::atomic<bool> stopped_{false};
};

}  // namespace dpdock::cluster
