#include "cluster/etcd_client.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "cluster/base64.hpp"

namespace dpdock::cluster {
namespace {

using nlohmann::json;

// The gateway writes int64 fields as strings ("5") and leaves out zero values.
std::int64_t int_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return 0;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_string()) {
        try {
            return std::stoll(it->get<std::string>());
        } catch (const std::exception&) {
            return 0;
        }
    }
    return 0;
}

std::string bytes_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return {};
    auto decoded = base64_decode(it->get<std::string>());
    return decoded ? *decoded : std::string();
}

KeyValue parse_kv(const json& j) {
    return KeyValue{.key = bytes_field(j, "key"),
                    .value = bytes_field(j, "value"),
                    .create_revision = int_field(j, "create_revision"),
                    .mod_revision = int_field(j, "mod_revision"),
                    .lease = int_field(j, "lease")};
}

RangeResult parse_range(const json& j) {
    RangeResult r;
    if (auto h = j.find("header"); h != j.end()) r.revision = int_field(*h, "revision");
    if (auto kvs = j.find("kvs"); kvs != j.end() && kvs->is_array()) {
        for (const auto& kv : *kvs) r.kvs.push_back(parse_kv(kv));
    }
    return r;
}

json key_range(const std::string& key, const std::string& range_end) {
    json j{{"key", base64_encode(key)}};
    if (!range_end.empty()) j["range_end"] = base64_encode(range_end);
    return j;
}

json op_json(const TxnOp& op) {
    switch (op.kind) {
    case TxnOp::Kind::Put: {
        json put{{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
        if (op.lease != 0) put["lease"] = std::to_string(op.lease);
        return json{{"request_put", put}};
    }
    case TxnOp::Kind::Delete:
        return json{{"request_delete_range", key_range(op.key, op.range_end)}};
    case TxnOp::Kind::Range:
        return json{{"request_range", key_range(op.key, op.range_end)}};
    }
    return {};
}

// An error the server reported in its body ({"error": ..., "message": ...}).
Status body_error(const json& j) {
    if (auto e = j.find("error"); e != j.end()) {
        auto m = j.find("message");
        return Status::error("etcd: " + (m != j.end() && m->is_string() ? m->get<std::string>() : e->dump()));
    }
    return {};
}

}  // namespace

std::string prefix_end(const std::string& prefix) {
    std::string end = prefix;
    while (!end.empty()) {
        auto& c = reinterpret_cast<unsigned char&>(end.back());
        if (c < 0xff) {
            ++c;
            return end;
        }
        end.pop_back();
    }
    return std::string(1, '\0');  // the whole key space
}

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
    if (options_.endpoints.empty()) options_.endpoints.push_back("http://127.0.0.1:2379");
    connect(0);
}

EtcdClient::~EtcdClient() = default;

void EtcdClient::connect(std::size_t index) {
    auto client = std::make_unique<httplib::Client>(options_.endpoints[index]);
    client->set_connection_timeout(options_.connect_timeout);
    client->set_read_timeout(options_.request_timeout);
    client->set_write_timeout(options_.request_timeout);
    client->set_keep_alive(true);
    std::lock_guard lock(http_mutex_);
    current_ = index;
    http_ = std::move(client);
}

void EtcdClient::stop() {
    stopped_ = true;
    std::lock_guard lock(http_mutex_);
    if (http_) http_->stop();
}

Result<std::string> EtcdClient::post(const std::string& path, const std::string& body) {
    std::string last_error;
    // Each endpoint once, starting with the one that answered last.
    for (std::size_t tried = 0; tried < options_.endpoints.size(); ++tried) {
        auto res = http_->Post(path, body, "application/json");
        if (res && res->status == 200) return res->body;
        if (res) {
            // The server answered: its error is the answer, another member would say the same.
            std::string message = res->body;
            try {
                if (auto st = body_error(json::parse(res->body)); !st) return st;
            } catch (const std::exception&) {
            }
            return Result<std::string>::error("etcd " + endpoint() + path + ": HTTP " + std::to_string(res->status) +
                                              " " + message);
        }
        last_error = "etcd " + endpoint() + ": " + httplib::to_string(res.error());
        if (stopped_) break;
        connect((current_ + 1) % options_.endpoints.size());
    }
    return Result<std::string>::error(last_error);
}

#define DPDOCK_ETCD_POST(var, path, body)                         \
    auto var##_text = post(path, body);                           \
    if (!var##_text) return var##_text.status();                  \
    json var;                                                     \
    try {                                                         \
        var = json::parse(*var##_text);                           \
    } catch (const std::exception& e) {                           \
        return Status::error(std::string("etcd: bad JSON: ") + e.what()); \
    }                                                             \
    if (auto st = body_error(var); !st) return st

Result<RangeResult> EtcdClient::range(const std::string& key, const std::string& range_end) {
    DPDOCK_ETCD_POST(j, "/v3/kv/range", key_range(key, range_end).dump());
    return parse_range(j);
}

Result<std::int64_t> EtcdClient::put(const std::string& key, const std::string& value, std::int64_t lease) {
    json body{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease != 0) body["lease"] = std::to_string(lease);
    DPDOCK_ETCD_POST(j, "/v3/kv/put", body.dump());
    return j.contains("header") ? int_field(j["header"], "revision") : 0;
}

Result<std::int64_t> EtcdClient::delete_range(const std::string& key, const std::string& range_end) {
    DPDOCK_ETCD_POST(j, "/v3/kv/deleterange", key_range(key, range_end).dump());
    return j.contains("header") ? int_field(j["header"], "revision") : 0;
}

Result<TxnResult> EtcdClient::txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                                  const std::vector<TxnOp>& failure) {
    json body{{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
    for (const auto& c : compares) {
        json cj = key_range(c.key, c.range_end);
        cj["result"] = "EQUAL";
        if (c.target == Compare::Target::CreateRevision) {
            cj["target"] = "CREATE";
            cj["create_revision"] = std::to_string(c.create_revision);
        } else {
            cj["target"] = "VALUE";
            cj["value"] = base64_encode(c.value);
        }
        body["compare"].push_back(cj);
    }
    for (const auto& op : success) body["success"].push_back(op_json(op));
    for (const auto& op : failure) body["failure"].push_back(op_json(op));
    DPDOCK_ETCD_POST(j, "/v3/kv/txn", body.dump());
    TxnResult r;
    r.succeeded = j.value("succeeded", false);
    if (j.contains("header")) r.revision = int_field(j["header"], "revision");
    if (auto responses = j.find("responses"); responses != j.end() && responses->is_array()) {
        for (const auto& resp : *responses) {
            if (auto range = resp.find("response_range"); range != resp.end()) {
                RangeResult rr = parse_range(*range);
                rr.revision = r.revision;
                r.ranges.push_back(std::move(rr));
            }
        }
    }
    return r;
}

Result<std::int64_t> EtcdClient::lease_grant(std::int64_t ttl_s) {
    DPDOCK_ETCD_POST(j, "/v3/lease/grant", json({{"TTL", std::to_string(ttl_s)}}).dump());
    const std::int64_t id = int_field(j, "ID");
    if (id == 0) return Result<std::int64_t>::error("etcd: lease grant returned no ID");
    return id;
}

Result<std::int64_t> EtcdClient::lease_keepalive(std::int64_t id) {
    DPDOCK_ETCD_POST(j, "/v3/lease/keepalive", json({{"ID", std::to_string(id)}}).dump());
    // A streamed answer: {"result": {...}}.
    const json& result = j.contains("result") ? j["result"] : j;
    return int_field(result, "TTL");
}

Status EtcdClient::lease_revoke(std::int64_t id) {
    DPDOCK_ETCD_POST(j, "/v3/lease/revoke", json({{"ID", std::to_string(id)}}).dump());
    return {};
}

#undef DPDOCK_ETCD_POST

Status EtcdClient::watch(const std::string& key, const std::string& range_end, std::int64_t start_revision,
                         const std::function<bool(const WatchBatch&)>& on_batch) {
    json create = key_range(key, range_end);
    create["start_revision"] = std::to_string(start_revision);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v3/watch";
    req.body = json({{"create_request", create}}).dump();
    req.set_header("Content-Type", "application/json");
    std::string buffer;
    Status failed;
    bool finished = false;
    // The gateway writes one JSON object per line.
    req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
        buffer.append(data, size);
        for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
            const std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
            json j;
            try {
                j = json::parse(line);
            } catch (const std::exception& e) {
                failed = Status::error(std::string("etcd watch: bad JSON: ") + e.what());
                return false;
            }
            if (auto st = body_error(j); !st) {
                failed = st;
                return false;
            }
            const json& result = j.contains("result") ? j["result"] : j;
            WatchBatch batch;
            if (result.contains("header")) batch.revision = int_field(result["header"], "revision");
            batch.compact_revision = int_field(result, "compact_revision");
            if (auto events = result.find("events"); events != result.end() && events->is_array()) {
                for (const auto& e : *events) {
                    WatchEvent ev;
                    ev.deleted = e.value("type", std::string("PUT")) == "DELETE";
                    if (e.contains("kv")) ev.kv = parse_kv(e["kv"]);
                    batch.events.push_back(std::move(ev));
                }
            }
            if (!on_batch(batch) || result.value("canceled", false)) {
                finished = true;
                return false;
            }
        }
        return !stopped_;
    };
    httplib::Client* client = nullptr;
    {
        std::lock_guard lock(http_mutex_);
        if (stopped_) return Status::error("etcd watch: stopped");
        client = http_.get();
        // A watch is quiet for as long as nothing changes.
        client->set_read_timeout(std::chrono::hours(24));
    }
    auto res = client->send(req);
    client->set_read_timeout(options_.request_timeout);
    if (finished) return {};
    if (!failed) return failed;
    if (stopped_) return Status::error("etcd watch: stopped");
    if (!res) {
        const std::string message = "etcd watch " + endpoint() + ": " + httplib::to_string(res.error());
        connect((current_ + 1) % options_.endpoints.size());
        return Status::error(message);
    }
    return Status::error("etcd watch " + endpoint() + ": stream ended (HTTP " + std::to_string(res->status) + ")");
}

}  // namespace dpdock::cluster
