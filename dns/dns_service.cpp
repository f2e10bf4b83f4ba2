#include "dns/dns_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"
#include "dns/responder.hpp"
#include "dns/tcp_server.hpp"

namespace dpdock::dns {
namespace {

using Clock = std::chrono::steady_clock;
constexpr unsigned kBatch = 32;
constexpr std::uint8_t kRcodeServfail = 2;
constexpr std::uint8_t kRcodeRefused = 5;
// How often a TCP listener whose bind failed is tried again.
constexpr auto kBindRetry = std::chrono::seconds(1);

// The DNS message inside a query mbuf (single segment only: queries are small).
std::span<std::uint8_t> payload(rte_mbuf* m) {
    const PacketMeta& meta = packet_meta(m);
    if (m->nb_segs != 1 || (meta.flags & kFlagL4Valid) == 0) return {};
    const auto* udp = header_at<const rte_udp_hdr>(m, meta.l4_offset);
    const std::size_t start = meta.l4_offset + sizeof(rte_udp_hdr);
    const std::size_t declared = rte_be_to_cpu_16(udp->dgram_len);
    if (declared < sizeof(rte_udp_hdr) || start + declared - sizeof(rte_udp_hdr) > rte_pktmbuf_data_len(m)) return {};
    return {rte_pktmbuf_mtod_offset(m, std::uint8_t*, start), declared - sizeof(rte_udp_hdr)};
}

}  // namespace

// Who asked: a UDP query in its mbuf (the answer is written into it), or a
// TCP connection of the TcpServer.
struct DnsService::Asker {
    rte_mbuf* m = nullptr;
    std::uint64_t connection = 0;
    NetworkId network = kNoNetwork;
    Ipv4Address address;
};

struct DnsService::State {
    explicit State(DnsCounters& counters) : tcp(counters) {}
    struct Bucket {
        double tokens = -1;  // full at the first query
        Clock::time_point last = Clock::now();
    };
    struct Forward {
        Asker asker;  // a UDP query's mbuf is rewritten into the answer when one comes
        std::uint16_t client_id = 0;
        std::size_t server = 0;  // index into options.upstream
        Clock::time_point deadline;
        std::vector<std::uint8_t> query;  // with the upstream id
    };
    int sock = -1;
    std::map<NetworkId, Bucket> buckets;
    std::map<std::uint16_t, Forward> forwards;  // by upstream id
    std::uint16_t next_id = 1;
    std::uint64_t rotation = 0;
    TcpServer tcp;
    std::vector<pollfd> fds;  // the upstream socket, then the TcpServer's
    std::vector<TcpQuery> tcp_queries;
};

std::unique_ptr<DnsService> DnsService::start(unsigned socket_id, sync::Doorbell* replies_bell) {
    std::unique_ptr<DnsService> s(new DnsService());
    if (!s->bell_.open()) return nullptr;
    s->rings_.dns_thread = &s->bell_;
    s->replies_bell_ = replies_bell;
    static std::atomic<unsigned> instance{0};
    const std::string suffix = std::to_string(instance.fetch_add(1));
    s->rings_.queries = rte_ring_create(("dns_q" + suffix).c_str(), kRingSize, static_cast<int>(socket_id), RING_F_SC_DEQ);
    s->rings_.replies = rte_ring_create(("dns_r" + suffix).c_str(), kRingSize, static_cast<int>(socket_id), RING_F_SP_ENQ);
    s->state_ = std::make_unique<State>(s->counters_);
    s->state_->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->rings_.queries == nullptr || s->rings_.replies == nullptr || s->state_->sock < 0) return nullptr;
    s->names_ = std::make_shared<NameTable>();
    s->thread_ = std::thread([p = s.get()] { p->run(); });
    return s;
}

DnsService::~DnsService() {
    stop_.store(true);
    bell_.ring();
    if (thread_.joinable()) thread_.join();
    rte_mbuf* m = nullptr;
    for (rte_ring* r : {rings_.queries, rings_.replies}) {
        if (r == nullptr) continue;
        while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        rte_ring_free(r);
    }
    if (state_) {
        for (auto& [id, f] : state_->forwards) rte_pktmbuf_free(f.asker.m);
        if (state_->sock >= 0) close(state_->sock);
    }
}

void DnsService::set_names(std::shared_ptr<const NameTable> names) {
    {
        std::lock_guard lock(mutex_);
        names_ = std::move(names);
        hits_.retain(*names_);
    }
    bell_.ring();  // the TCP listeners follow at once
}

void DnsService::set_options(const DnsOptions& options) {
    {
        std::lock_guard lock(mutex_);
        options_ = options;
    }
    bell_.ring();
}

std::shared_ptr<const NameTable> DnsService::names() const {
    std::lock_guard lock(mutex_);
    return names_;
}

std::uint64_t DnsService::hits(NetworkId network, const std::string& name) const {
    std::lock_guard lock(mutex_);
    return hits_.get(network, name);
}

// Rewrites the query mbuf into an answer carrying `wire` and queues it for the
// workers; false (and the mbuf freed) when it does not fit or the ring is full.
bool DnsService::send_reply(rte_mbuf* m, std::span<const std::uint8_t> wire) {
    const PacketMeta& meta = packet_meta(m);
    const std::size_t len = meta.l4_offset + sizeof(rte_udp_hdr) + wire.size();
    if (wire.empty() || len > static_cast<std::size_t>(m->buf_len - m->data_off) || len > UINT16_MAX) {
        rte_pktmbuf_free(m);
        return false;
    }
    m->data_len = static_cast<std::uint16_t>(len);
    m->pkt_len = static_cast<std::uint32_t>(len);
    m->ol_flags = 0;
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    std::swap(eth->src_addr, eth->dst_addr);
    auto* ip = header_at<rte_ipv4_hdr>(m, meta.l3_offset);
    const rte_be32_t src = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = src;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(len - meta.l3_offset));
    ip->time_to_live = 64;
    ip->fragment_offset = 0;
    ip->packet_id = 0;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = header_at<rte_udp_hdr>(m, meta.l4_offset);
    const rte_be16_t sport = udp->src_port;
    udp->src_port = udp->dst_port;
    udp->dst_port = sport;
    udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + wire.size()));
    std::memcpy(udp + 1, wire.data(), wire.size());
    udp->dgram_cksum = 0;
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
    if (rte_ring_sp_enqueue(rings_.replies, m) != 0) {
        bump(counters_.reply_full);
        rte_pktmbuf_free(m);
        return false;
    }
    if (replies_bell_ != nullptr) replies_bell_->ring();
    return true;
}

bool DnsService::admit(NetworkId network, std::uint32_t rate) {
    State::Bucket& b = state_->buckets[network];
    const Clock::time_point now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.last = now;
    b.tokens = b.tokens < 0 ? rate : std::min<double>(rate, b.tokens + elapsed * rate);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
}

void DnsService::handle(rte_mbuf* m, const NameTable& names, const DnsOptions& options) {
    bump(counters_.queries);
    const PacketMeta& meta = packet_meta(m);
    if (!names.serves(meta.network)) {
        bump(counters_.not_served);
        rte_pktmbuf_free(m);
        return;
    }
    const auto* ip = header_at<const rte_ipv4_hdr>(m, meta.l3_offset);
    answer(Asker{m, 0, meta.network, Ipv4Address(rte_be_to_cpu_32(ip->src_addr))}, payload(m), names, options);
}

// One query, from UDP or TCP: rate limit, the table, else upstream.
void DnsService::answer(const Asker& asker, std::span<const std::uint8_t> query, const NameTable& names,
                        const DnsOptions& options) {
    if (!admit(asker.network, options.queries_per_second)) {
        bump(counters_.rate_limited);
        rte_pktmbuf_free(asker.m);
        return;
    }
    const std::size_t max_size = asker.m != nullptr ? kMaxUdpAnswer : kMaxTcpAnswer;
    Response r = respond(names, asker.network, asker.address, query, state_->rotation++, max_size);
    switch (r.outcome) {
    case Outcome::Malformed:
        bump(counters_.malformed);
        rte_pktmbuf_free(asker.m);
        return;
    case Outcome::Answered:
    case Outcome::NoData:
        bump(r.outcome == Outcome::Answered ? counters_.answered : counters_.nodata);
        count_hit(asker.network, r.name);
        reply(asker, r.wire);
        return;
    case Outcome::Refused:
        bump(counters_.refused);
        reply(asker, r.wire);
        return;
    case Outcome::NotLocal:
        break;
    }
    if (names.internal(asker.network)) {
        // An internal network has no way out: nothing is forwarded (Docker's rule).
        bump(counters_.refused);
        reply(asker, error_response(query, kRcodeRefused));
    } else if (options.upstream.empty()) {
        bump(counters_.servfail);
        reply(asker, error_response(query, kRcodeServfail));
    } else {
        forward(asker, query, options);
    }
}

void DnsService::reply(const Asker& asker, std::span<const std::uint8_t> wire) {
    if (asker.m != nullptr) {
        send_reply(asker.m, wire);
    } else {
        state_->tcp.send(asker.connection, wire);
    }
}

void DnsService::count_hit(NetworkId network, const std::string& name) {
    std::lock_guard lock(mutex_);
    hits_.count(*names_, network, name);  // the current table: a name detached meanwhile is not counted back in
}

bool DnsService::send_upstream(std::span<const std::uint8_t> query, Ipv4Address server, std::uint16_t port) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(server.host());
    return sendto(state_->sock, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) ==
           static_cast<ssize_t>(query.size());
}

void DnsService::forward(const Asker& asker, std::span<const std::uint8_t> query, const DnsOptions& options) {
    if (state_->forwards.size() >= kMaxPendingForwards || query.size() < 12) {
        bump(counters_.forward_full);
        reply(asker, error_response(query, kRcodeServfail));
        return;
    }
    // A fresh upstream id: the client's ids are not unique across clients.
    std::uint16_t id = state_->next_id;
    while (state_->forwards.contains(id)) ++id;
    state_->next_id = static_cast<std::uint16_t>(id + 1);
    State::Forward f;
    f.asker = asker;
    f.client_id = static_cast<std::uint16_t>(query[0] << 8 | query[1]);
    f.query.assign(query.begin(), query.end());
    f.query[0] = static_cast<std::uint8_t>(id >> 8);
    f.query[1] = static_cast<std::uint8_t>(id);
    f.deadline = Clock::now() + std::chrono::milliseconds(kForwardTimeoutMs);
    bump(counters_.forwarded);
    send_upstream(f.query, options.upstream[f.server], options.upstream_port);  // a failed send is retried on the next server at the deadline
    state_->forwards.emplace(id, std::move(f));
}

void DnsService::receive_upstream(const DnsOptions& options) {
    std::array<std::uint8_t, 4096> buf;
    for (;;) {
        sockaddr_in from{};
        socklen_t from_len = sizeof(from);
        const ssize_t n = recvfrom(state_->sock, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) return;
        if (n < 12) continue;
        const std::uint16_t id = static_cast<std::uint16_t>(buf[0] << 8 | buf[1]);
        auto it = state_->forwards.find(id);
        if (it == state_->forwards.end()) continue;
        State::Forward& f = it->second;
        // Only the server asked may answer (an off-path guess of the id is not enough).
        if (f.server >= options.upstream.size() || ntohl(from.sin_addr.s_addr) != options.upstream[f.server].host() ||
            ntohs(from.sin_port) != options.upstream_port) {
            continue;
        }
        buf[0] = static_cast<std::uint8_t>(f.client_id >> 8);
        buf[1] = static_cast<std::uint8_t>(f.client_id);
        bump(counters_.upstream_answers);
        reply(f.asker, {buf.data(), static_cast<std::size_t>(n)});
        state_->forwards.erase(it);
    }
}

void DnsService::expire_forwards(const DnsOptions& options) {
    const Clock::time_point now = Clock::now();
    for (auto it = state_->forwards.begin(); it != state_->forwards.end();) {
        State::Forward& f = it->second;
        if (f.deadline > now) {
            ++it;
            continue;
        }
        if (++f.server < options.upstream.size()) {
            f.deadline = now + std::chrono::milliseconds(kForwardTimeoutMs);
            send_upstream(f.query, options.upstream[f.server], options.upstream_port);
            ++it;
            continue;
        }
        // Every server failed: SERVFAIL with the client's own id.
        f.query[0] = static_cast<std::uint8_t>(f.client_id >> 8);
        f.query[1] = static_cast<std::uint8_t>(f.client_id);
        bump(counters_.servfail);
        reply(f.asker, error_response(f.query, kRcodeServfail));
        it = state_->forwards.erase(it);
    }
}

void DnsService::run() {
    std::shared_ptr<const NameTable> listening_for;
    bool tcp = false;
    Clock::time_point bind_tried;
    while (!stop_.load(std::memory_order_relaxed)) {
        rte_mbuf* batch[kBatch];
        const unsigned n = rte_ring_sc_dequeue_burst(rings_.queries, reinterpret_cast<void**>(batch), kBatch, nullptr);
        std::shared_ptr<const NameTable> names;
        DnsOptions options;
        {
            std::lock_guard lock(mutex_);
            names = names_;
            options = options_;
        }
        // A bind that failed (the port held by another socket) is tried again
        // every kBindRetry, not only when the names change.
        const bool retry = state_->tcp.bind_pending() && Clock::now() - bind_tried >= kBindRetry;
        if (names != listening_for || options.tcp != tcp || retry) {
            state_->tcp.listen_on(options.tcp ? names->gateways() : std::map<NetworkId, Ipv4Cidr>{}, kDnsPort);
            listening_for = names;
            tcp = options.tcp;
            bind_tried = Clock::now();
        }
        for (unsigned i = 0; i < n; ++i) handle(batch[i], *names, options);
        receive_upstream(options);
        if (!state_->forwards.empty()) expire_forwards(options);
        serve_tcp(*names, options, n == 0);
    }
}

// One poll() over the doorbell, the upstream socket and the TCP sockets: idle,
// it is also the thread's sleep (at most kIdleWaitMs), which a punted query
// or a set_*() ends through the doorbell.
void DnsService::serve_tcp(const NameTable& names, const DnsOptions& options, bool idle) {
    std::vector<pollfd>& fds = state_->fds;
    fds.clear();
    fds.push_back({bell_.fd(), POLLIN, 0});
    fds.push_back({state_->sock, POLLIN, 0});
    state_->tcp.add_poll_fds(fds);
    if (fds.size() == 2 && !idle) return;
    int timeout_ms = 0;
    if (idle) {
        bell_.arm();
        // The last look: a query punted before the doorbell was armed.
        if (rte_ring_count(rings_.queries) == 0 && !stop_.load(std::memory_order_relaxed)) timeout_ms = kIdleWaitMs;
    }
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (idle) bell_.disarm(ready > 0 && (fds[0].revents & POLLIN) != 0);
    if (ready < 0) return;
    // serve() also when nothing is ready: that is when idle connections expire.
    state_->tcp_queries.clear();
    state_->tcp.serve(std::span<const pollfd>(fds).subspan(2), state_->tcp_queries);
    for (const TcpQuery& q : state_->tcp_queries) {
        bump(counters_.queries);
        bump(counters_.tcp_queries);
        answer(Asker{nullptr, q.connection, q.network, q.asker}, q.message, names, options);
    }
}

std::vector<Ipv4Address> upstream_from_resolv_conf(const std::string& path) {
    std::vector<Ipv4Address> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        if (!(words >> key >> value) || key != "nameserver") continue;
        auto ip = Ipv4Address::parse(value);
        if (ip && (ip->host() >> 24) != 127) out.push_back(*ip);
    }
    return out;
}

}  // namespace dpdock::dns
