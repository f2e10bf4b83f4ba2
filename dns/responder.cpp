#include "dns/responder.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <arpa/inet.h>

#include <ldns/ldns.h>

namespace dpdock::dns {
namespace {

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

PktPtr parse(std::span<const std::uint8_t> query) {
    ldns_pkt* p = nullptr;
    if (ldns_wire2pkt(&p, query.data(), query.size()) != LDNS_STATUS_OK) return nullptr;
    return PktPtr(p);
}

std::vector<std::uint8_t> to_wire(const ldns_pkt* p) {
    std::uint8_t* buf = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK) return {};
    std::vector<std::uint8_t> out(buf, buf + size);
    std::free(buf);
    return out;
}

// A reply skeleton: same id, RD copied, QR/AA/RA set, the question echoed.
PktPtr reply_to(const ldns_pkt* q, ldns_pkt_rcode rcode) {
    PktPtr r(ldns_pkt_new());
    if (!r) return nullptr;
    ldns_pkt_set_id(r.get(), ldns_pkt_id(q));
    ldns_pkt_set_qr(r.get(), true);
    ldns_pkt_set_opcode(r.get(), ldns_pkt_get_opcode(q));
    ldns_pkt_set_rd(r.get(), ldns_pkt_rd(q));
    ldns_pkt_set_ra(r.get(), true);
    ldns_pkt_set_rcode(r.get(), rcode);
    const ldns_rr_list* question = ldns_pkt_question(q);
    for (std::size_t i = 0; question != nullptr && i < ldns_rr_list_rr_count(question); ++i) {
        ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(question, i)));
    }
    return r;
}

// The owner name as text, lower case, without the trailing dot.
std::string name_of(const ldns_rdf* owner) {
    char* text = ldns_rdf2str(owner);
    if (text == nullptr) return {};
    std::string s = lower(text);
    std::free(text);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// "4.3.2.1.in-addr.arpa" -> 1.2.3.4
std::optional<Ipv4Address> reverse_address(std::string_view name) {
    constexpr std::string_view kSuffix = ".in-addr.arpa";
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
    name.remove_suffix(kSuffix.size());
    std::uint32_t ip = 0;
    for (int i = 0; i < 4; ++i) {
        const std::size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        unsigned octet = 256;
        auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), octet);
        if (ec != std::errc{} || end != label.data() + label.size() || octet > 255 || label.empty()) return std::nullopt;
        ip |= octet << (8 * i);
        if ((dot == std::string_view::npos) != (i == 3)) return std::nullopt;
        if (dot != std::string_view::npos) name.remove_prefix(dot + 1);
    }
    return Ipv4Address(ip);
}

void push_answer(ldns_pkt* r, const ldns_rdf* owner, ldns_rr_type type, ldns_rdf* data) {
    ldns_rr* rr = ldns_rr_new();
    ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, kTtl);
    ldns_rr_push_rdf(rr, data);
    ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
}

}  // namespace

Response respond(const NameTable& names, NetworkId network, Ipv4Address asker, std::span<const std::uint8_t> query,
                 std::uint64_t rotation, std::size_t max_size) {
    PktPtr q = parse(query);
    if (!q || ldns_pkt_qr(q.get())) return {};  // unreadable, or a response: never answered (no loops)
    if (ldns_pkt_qdcount(q.get()) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(q.get())) != 1) return {};
    if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
        PktPtr r = reply_to(q.get(), LDNS_RCODE_NOTIMPL);
        return r ? Response{Outcome::Refused, to_wire(r.get()), {}} : Response{};
    }
    const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.get()), 0);
    const ldns_rdf* owner = ldns_rr_owner(question);
    const ldns_rr_type type = ldns_rr_get_type(question);
    if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) return {Outcome::NotLocal, {}, {}};
    const std::string name = name_of(owner);

    PktPtr r = reply_to(q.get(), LDNS_RCODE_NOERROR);
    if (!r) return {};
    ldns_pkt_set_aa(r.get(), true);
    Outcome outcome = Outcome::Answered;
    if (auto ip = reverse_address(name)) {
        const std::string target = names.reverse(network, asker, *ip);
        if (target.empty()) return {Outcome::NotLocal, {}, {}};
        if (type != LDNS_RR_TYPE_PTR) {
            outcome = Outcome::NoData;
        } else {
            ldns_rdf* dname = ldns_dname_new_frm_str((target + ".").c_str());
            if (dname == nullptr) return {};
            push_answer(r.get(), owner, LDNS_RR_TYPE_PTR, dname);
        }
    } else {
        std::vector<Ipv4Address> ips = names.lookup(network, asker, name);
        if (ips.empty()) return {Outcome::NotLocal, {}, {}};
        if (type != LDNS_RR_TYPE_A) {
            outcome = Outcome::NoData;  // AAAA, MX... of a container name: it exists, with no such record
        } else {
            std::rotate(ips.begin(), ips.begin() + static_cast<std::ptrdiff_t>(rotation % ips.size()), ips.end());
            if (ips.size() > kMaxAnswers) ips.resize(kMaxAnswers);
            for (Ipv4Address ip : ips) {
                const std::uint32_t be = htonl(ip.host());
                push_answer(r.get(), owner, LDNS_RR_TYPE_A, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &be));
            }
        }
    }
    if (outcome == Outcome::NoData) ldns_pkt_set_ancount(r.get(), 0);
    std::vector<std::uint8_t> wire = to_wire(r.get());
    if (wire.empty()) return {};
    if (wire.size() > max_size) {
        // Too many addresses for a plain UDP answer: the header and question with TC set.
        ldns_rr_list_deep_free(ldns_pkt_answer(r.get()));
        ldns_pkt_set_answer(r.get(), ldns_rr_list_new());
        ldns_pkt_set_ancount(r.get(), 0);
        ldns_pkt_set_tc(r.get(), true);
        wire = to_wire(r.get());
    }
    return {outcome, std::move(wire), name};
}

std::vector<std::uint8_t> error_response(std::span<const std::uint8_t> query, std::uint8_t rcode) {
    PktPtr q = parse(query);
    if (!q || ldns_pkt_qr(q.get())) return {};
    PktPtr r = reply_to(q.get(), static_cast<ldns_pkt_rcode>(rcode));
    return r ? to_wire(r.get()) : std::vector<std::uint8_t>{};
}

}  // namespace dpdock::dns
