#include "tests/support/packet_builder.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "base/packet/packet_meta.hpp"
#include "tests/support/eal_environment.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint8_t kIpProtoExperimental = 253;  // RFC 3692, for IP frames without L4
constexpr std::uint8_t kNop = 1;                     // IPv4 and TCP NOP option

void put16(std::vector<std::uint8_t>& out, std::uint16_t host) {
    out.push_back(static_cast<std::uint8_t>(host >> 8));
    out.push_back(static_cast<std::uint8_t>(host));
}

void put_mac(std::vector<std::uint8_t>& out, MacAddress mac) {
    for (std::uint8_t byte : mac.bytes()) out.push_back(byte);
}

template <typename H>
H* view(std::vector<std::uint8_t>& out, std::size_t offset) {
    return reinterpret_cast<H*>(out.data() + offset);
}

// Appends a zeroed header and returns a view of it (valid until the next append).
template <typename H>
H* append(std::vector<std::uint8_t>& out) {
    const std::size_t at = out.size();
    out.resize(at + sizeof(H));
    return view<H>(out, at);
}

}  // namespace

PacketBuilder& PacketBuilder::eth(MacAddress dst, MacAddress src) {
    dst_ = dst;
    src_ = src;
    return *this;
}

PacketBuilder& PacketBuilder::vlan(std::uint16_t tci, std::uint16_t tpid) {
    vlans_.emplace_back(tpid, tci);
    return *this;
}

PacketBuilder& PacketBuilder::ethertype(std::uint16_t type) {
    ethertype_ = type;
    return *this;
}

PacketBuilder& PacketBuilder::ipv4(Ipv4Address src, Ipv4Address dst, std::uint8_t ttl) {
    l3_ = L3::Ipv4;
    ip_src_ = src;
    ip_dst_ = dst;
    ttl_ = ttl;
    return *this;
}

PacketBuilder& PacketBuilder::ipv6(const Ipv6Bytes& src, const Ipv6Bytes& dst, std::uint8_t hop_limit) {
    l3_ = L3::Ipv6;
    ip6_src_ = src;
    ip6_dst_ = dst;
    ttl_ = hop_limit;
    return *this;
}

PacketBuilder& PacketBuilder::tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags) {
    l4_ = L4::Tcp;
    sport_ = sport;
    dport_ = dport;
    tcp_flags_ = flags;
    return *this;
}

PacketBuilder& PacketBuilder::tcp_seq(std::uint32_t seq) {
    tcp_seq_ = seq;
    return *this;
}

PacketBuilder& PacketBuilder::udp(std::uint16_t sport, std::uint16_t dport) {
    l4_ = L4::Udp;
    sport_ = sport;
    dport_ = dport;
    return *this;
}

PacketBuilder& PacketBuilder::icmp_echo(std::uint16_t id, std::uint16_t seq) {
    l4_ = L4::IcmpEcho;
    sport_ = id;
    dport_ = seq;
    return *this;
}

PacketBuilder& PacketBuilder::icmp_type(std::uint8_t type) {
    icmp_type_ = type;
    return *this;
}

PacketBuilder& PacketBuilder::icmp_error(std::uint8_t type, std::uint8_t code, std::uint16_t mtu,
                                         std::span<const std::uint8_t> quote) {
    icmp_echo(0, mtu);
    icmp_type_ = type;
    icmp_code_ = code;
    return payload(quote);
}

PacketBuilder& PacketBuilder::arp_request(MacAddress sha, Ipv4Address spa, Ipv4Address tpa) {
    return arp_reply(sha, spa, MacAddress(), tpa).arp_op(RTE_ARP_OP_REQUEST);
}

PacketBuilder& PacketBuilder::arp_reply(MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa) {
    l3_ = L3::Arp;
    arp_op_ = RTE_ARP_OP_REPLY;
    arp_sha_ = sha;
    arp_spa_ = spa;
    arp_tha_ = tha;
    arp_tpa_ = tpa;
    return *this;
}

PacketBuilder& PacketBuilder::arp_op(std::uint16_t op) {
    arp_op_ = op;
    return *this;
}

PacketBuilder& PacketBuilder::payload(std::span<const std::uint8_t> bytes) {
    payload_.assign(bytes.begin(), bytes.end());
    return *this;
}

PacketBuilder& PacketBuilder::payload(std::size_t size) {
    payload_.resize(size);
    for (std::size_t i = 0; i < size; ++i) payload_[i] = static_cast<std::uint8_t>(i);
    return *this;
}

PacketBuilder& PacketBuilder::ipv4_options(std::size_t words) {
    ip_option_words_ = words;
    return *this;
}

PacketBuilder& PacketBuilder::ipv4_fragment(std::uint16_t offset_units, bool more_fragments) {
    frag_ = static_cast<std::uint16_t>((offset_units & RTE_IPV4_HDR_OFFSET_MASK) |
                                       (more_fragments ? RTE_IPV4_HDR_MF_FLAG : 0));
    return *this;
}

PacketBuilder& PacketBuilder::ipv4_id(std::uint16_t id) {
    ip_id_ = id;
    return *this;
}

PacketBuilder& PacketBuilder::ipv4_dont_fragment() {
    frag_ = static_cast<std::uint16_t>(frag_ | RTE_IPV4_HDR_DF_FLAG);
    return *this;
}

PacketBuilder& PacketBuilder::ipv4_tos(std::uint8_t tos) {
    tos_ = tos;
    return *this;
}

PacketBuilder& PacketBuilder::tcp_options(std::size_t words) {
    tcp_option_words_ = words;
    return *this;
}

PacketBuilder& PacketBuilder::pad_to(std::size_t frame_len) {
    pad_to_ = frame_len;
    return *this;
}

PacketBuilder& PacketBuilder::set_ihl(std::uint8_t ihl) {
    ihl_ = ihl;
    return *this;
}

PacketBuilder& PacketBuilder::set_total_length(std::uint16_t total_length) {
    total_length_ = total_length;
    return *this;
}

PacketBuilder& PacketBuilder::set_ipv6_payload_length(std::uint16_t payload_length) {
    ipv6_payload_length_ = payload_length;
    return *this;
}

PacketBuilder& PacketBuilder::flip_ipv4_checksum() {
    flip_ipv4_checksum_ = true;
    return *this;
}

PacketBuilder& PacketBuilder::flip_l4_checksum() {
    flip_l4_checksum_ = true;
    return *this;
}

PacketBuilder& PacketBuilder::set_tcp_data_offset(std::uint8_t words) {
    tcp_data_offset_ = words;
    return *this;
}

PacketBuilder& PacketBuilder::truncate(std::size_t frame_len) {
    truncate_ = frame_len;
    return *this;
}

std::vector<std::uint8_t> PacketBuilder::build() const {
    std::vector<std::uint8_t> out;
    put_mac(out, dst_);
    put_mac(out, src_);
    for (auto [tpid, tci] : vlans_) {
        put16(out, tpid);
        put16(out, tci);
    }
    switch (l3_) {
    case L3::Ipv4: put16(out, RTE_ETHER_TYPE_IPV4); break;
    case L3::Ipv6: put16(out, RTE_ETHER_TYPE_IPV6); break;
    case L3::Arp: put16(out, RTE_ETHER_TYPE_ARP); break;
    case L3::None: put16(out, ethertype_); break;
    }

    std::size_t l4_len = payload_.size();
    switch (l4_) {
    case L4::Tcp: l4_len += sizeof(rte_tcp_hdr) + 4 * tcp_option_words_; break;
    case L4::Udp: l4_len += sizeof(rte_udp_hdr); break;
    case L4::IcmpEcho: l4_len += sizeof(rte_icmp_hdr); break;
    case L4::None: break;
    }

    const std::size_t l3 = out.size();
    put_l3(out, l4_len);
    const std::size_t l4 = out.size();
    put_l4(out);
    fix_l4_checksum(out, l3, l4);
    if (out.size() < pad_to_) out.resize(pad_to_, 0);
    corrupt(out, l3, l4);
    return out;
}

void PacketBuilder::put_l3(std::vector<std::uint8_t>& out, std::size_t l4_len) const {
    std::uint8_t proto = kIpProtoExperimental;
    switch (l4_) {
    case L4::Tcp: proto = IPPROTO_TCP; break;
    case L4::Udp: proto = IPPROTO_UDP; break;
    case L4::IcmpEcho: proto = l3_ == L3::Ipv6 ? std::uint8_t{IPPROTO_ICMPV6} : std::uint8_t{IPPROTO_ICMP}; break;
    case L4::None: break;
    }
    switch (l3_) {
    case L3::Ipv4: {
        const std::size_t at = out.size();
        const std::size_t header_len = sizeof(rte_ipv4_hdr) + 4 * ip_option_words_;
        auto* ip = append<rte_ipv4_hdr>(out);
        ip->version_ihl = static_cast<std::uint8_t>(0x40 | (header_len / 4));
        ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(header_len + l4_len));
        ip->packet_id = rte_cpu_to_be_16(ip_id_);
        ip->type_of_service = tos_;
        ip->fragment_offset = rte_cpu_to_be_16(frag_);
        ip->time_to_live = ttl_;
        ip->next_proto_id = proto;
        ip->src_addr = ip_src_.be().raw();
        ip->dst_addr = ip_dst_.be().raw();
        out.resize(at + header_len, kNop);
        ip = view<rte_ipv4_hdr>(out, at);
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        break;
    }
    case L3::Ipv6: {
        auto* ip = append<rte_ipv6_hdr>(out);
        ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
        ip->payload_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(l4_len));
        ip->proto = proto;
        ip->hop_limits = ttl_;
        std::memcpy(ip->src_addr, ip6_src_.data(), 16);
        std::memcpy(ip->dst_addr, ip6_dst_.data(), 16);
        break;
    }
    case L3::Arp: {
        auto* arp = append<rte_arp_hdr>(out);
        arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
        arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        arp->arp_hlen = RTE_ETHER_ADDR_LEN;
        arp->arp_plen = 4;
        arp->arp_opcode = rte_cpu_to_be_16(arp_op_);
        std::memcpy(&arp->arp_data.arp_sha, arp_sha_.bytes().data(), 6);
        arp->arp_data.arp_sip = arp_spa_.be().raw();
        std::memcpy(&arp->arp_data.arp_tha, arp_tha_.bytes().data(), 6);
        arp->arp_data.arp_tip = arp_tpa_.be().raw();
        break;
    }
    case L3::None: break;
    }
}

void PacketBuilder::put_l4(std::vector<std::uint8_t>& out) const {
    switch (l4_) {
    case L4::Tcp: {
        const std::size_t at = out.size();
        auto* tcp = append<rte_tcp_hdr>(out);
        tcp->src_port = rte_cpu_to_be_16(sport_);
        tcp->dst_port = rte_cpu_to_be_16(dport_);
        tcp->sent_seq = rte_cpu_to_be_32(tcp_seq_);
        tcp->data_off = static_cast<std::uint8_t>((5 + tcp_option_words_) << 4);
        tcp->tcp_flags = tcp_flags_;
        tcp->rx_win = rte_cpu_to_be_16(65535);
        out.resize(at + sizeof(rte_tcp_hdr) + 4 * tcp_option_words_, kNop);
        break;
    }
    case L4::Udp: {
        auto* udp = append<rte_udp_hdr>(out);
        udp->src_port = rte_cpu_to_be_16(sport_);
        udp->dst_port = rte_cpu_to_be_16(dport_);
        udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + payload_.size()));
        break;
    }
    case L4::IcmpEcho: {
        auto* icmp = append<rte_icmp_hdr>(out);
        icmp->icmp_type = l3_ == L3::Ipv6 ? 128 : icmp_type_;
        icmp->icmp_code = icmp_code_;
        icmp->icmp_ident = rte_cpu_to_be_16(sport_);
        icmp->icmp_seq_nb = rte_cpu_to_be_16(dport_);
        break;
    }
    case L4::None: break;
    }
    out.insert(out.end(), payload_.begin(), payload_.end());
}

std::size_t PacketBuilder::l4_checksum_offset() const {
    return l4_ == L4::Tcp   ? offsetof(rte_tcp_hdr, cksum)
           : l4_ == L4::Udp ? offsetof(rte_udp_hdr, dgram_cksum)
                            : offsetof(rte_icmp_hdr, icmp_cksum);
}

void PacketBuilder::fix_l4_checksum(std::vector<std::uint8_t>& out, std::size_t l3, std::size_t l4) const {
    if (l4_ == L4::None || l4 == out.size()) return;
    std::uint16_t sum = 0;
    if (l4_ == L4::IcmpEcho && l3_ == L3::Ipv4) {
        sum = static_cast<std::uint16_t>(~rte_raw_cksum(out.data() + l4, out.size() - l4));
    } else if (l3_ == L3::Ipv4) {
        sum = rte_ipv4_udptcp_cksum(view<rte_ipv4_hdr>(out, l3), out.data() + l4);
    } else if (l3_ == L3::Ipv6) {
        sum = rte_ipv6_udptcp_cksum(view<rte_ipv6_hdr>(out, l3), out.data() + l4);
    }
    std::memcpy(out.data() + l4 + l4_checksum_offset(), &sum, sizeof sum);
}

void PacketBuilder::corrupt(std::vector<std::uint8_t>& out, std::size_t l3, std::size_t l4) const {
    if (ihl_) {
        out[l3] = static_cast<std::uint8_t>((out[l3] & 0xf0) | (*ihl_ & 0x0f));
    }
    if (total_length_) {
        view<rte_ipv4_hdr>(out, l3)->total_length = rte_cpu_to_be_16(*total_length_);
    }
    if (ipv6_payload_length_) {
        view<rte_ipv6_hdr>(out, l3)->payload_len = rte_cpu_to_be_16(*ipv6_payload_length_);
    }
    if (tcp_data_offset_) {
        view<rte_tcp_hdr>(out, l4)->data_off = static_cast<std::uint8_t>(*tcp_data_offset_ << 4);
    }
    if (flip_ipv4_checksum_) view<rte_ipv4_hdr>(out, l3)->hdr_checksum ^= 0xffff;
    if (flip_l4_checksum_) {
        out[l4 + l4_checksum_offset()] ^= 0xff;
        out[l4 + l4_checksum_offset() + 1] ^= 0xff;
    }
    if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
}

MempoolPtr make_test_pool(unsigned mbufs, std::uint16_t data_room) {
    ensure_eal();
    static std::atomic<unsigned> counter{0};
    char name[RTE_MEMPOOL_NAMESIZE];
    std::snprintf(name, sizeof name, "tp%d_%u", static_cast<int>(getpid()), counter++);
    return MempoolPtr(rte_pktmbuf_pool_create(name, mbufs, 0, kMbufPrivSize, data_room, SOCKET_ID_ANY));
}

rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<std::uint8_t>& bytes, std::size_t max_segment) {
    rte_mbuf* head = nullptr;
    std::size_t done = 0;
    do {
        rte_mbuf* seg = rte_pktmbuf_alloc(pool);
        if (seg == nullptr) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        std::size_t len = std::min<std::size_t>(bytes.size() - done, rte_pktmbuf_tailroom(seg));
        if (max_segment > 0) len = std::min(len, max_segment);
        auto* dst = rte_pktmbuf_append(seg, static_cast<std::uint16_t>(len));
        if (len > 0) std::memcpy(dst, bytes.data() + done, len);
        done += len;
        if (head == nullptr) {
            head = seg;
        } else if (rte_pktmbuf_chain(head, seg) != 0) {
            rte_pktmbuf_free(seg);
            rte_pktmbuf_free(head);
            return nullptr;
        }
    } while (done < bytes.size());
    return head;
}

std::vector<std::uint8_t> from_mbuf(const rte_mbuf* m) {
    std::vector<std::uint8_t> out;
    out.reserve(m->pkt_len);
    for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
        const auto* data = rte_pktmbuf_mtod(seg, const std::uint8_t*);
        out.insert(out.end(), data, data + seg->data_len);
    }
    return out;
}

std::string hex_diff(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> actual) {
    if (std::ranges::equal(expected, actual)) return {};
    std::string text = "expected " + std::to_string(expected.size()) + " bytes, actual " +
                       std::to_string(actual.size()) + " bytes\n";
    const std::size_t len = std::max(expected.size(), actual.size());
    auto row_text = [](std::span<const std::uint8_t> side, std::span<const std::uint8_t> other, std::size_t row) {
        std::string s;
        char cell[8];
        for (std::size_t i = row; i < row + 16; ++i) {
            if (i >= side.size()) {
                s += "    ";
                continue;
            }
            const bool differs = i >= other.size() || side[i] != other[i];
            std::snprintf(cell, sizeof cell, differs ? "[%02x]" : " %02x ", side[i]);
            s += cell;
        }
        return s;
    };
    for (std::size_t row = 0; row < len; row += 16) {
        const std::size_t end = std::min(row + 16, len);
        bool differs = false;
        for (std::size_t i = row; i < end && !differs; ++i) {
            differs = i >= expected.size() || i >= actual.size() || expected[i] != actual[i];
        }
        if (!differs) continue;
        char offset[24];
        std::snprintf(offset, sizeof offset, "%04zx", row);
        text += std::string(offset) + " expected:" + row_text(expected, actual, row) + "\n";
        text += std::string(offset) + "   actual:" + row_text(actual, expected, row) + "\n";
    }
    return text;
}

}  // namespace dpdock::test
