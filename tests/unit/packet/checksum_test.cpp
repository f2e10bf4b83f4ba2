// Incremental checksum updates against full recomputation with DPDK's
// rte_ipv4_cksum / rte_ipv4_udptcp_cksum / rte_ipv4_phdr_cksum, over seeded
// random packets and the one's complement zero edge cases (0x0000 / 0xffff).
#include <netinet/in.h>

#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "base/packet/checksum.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock {
namespace {

using test::PacketBuilder;

constexpr int kIterations = 5000;
constexpr std::size_t kL3 = 14;
constexpr std::size_t kL4 = kL3 + sizeof(rte_ipv4_hdr);

class RandomPackets {
public:
    explicit RandomPackets(std::uint32_t seed) : rng_(seed) {}

    std::uint16_t u16() { return static_cast<std::uint16_t>(rng_()); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }
    // New field values: mostly random, often exactly the one's complement zeros.
    std::uint16_t value16() {
        switch (rng_() % 8) {
        case 0: return 0x0000;
        case 1: return 0xffff;
        default: return u16();
        }
    }
    std::uint32_t value32() {
        switch (rng_() % 8) {
        case 0: return 0x00000000;
        case 1: return 0xffffffff;
        case 2: return 0x0000ffff;
        default: return u32();
        }
    }

    std::vector<std::uint8_t> frame(std::uint8_t proto) {
        PacketBuilder b;
        b.eth(MacAddress::from_u64(rng_()), MacAddress::from_u64(rng_()))
            .ipv4(Ipv4Address(u32()), Ipv4Address(u32()), static_cast<std::uint8_t>(rng_()))
            .ipv4_id(u16())
            .payload(rng_() % 64);
        if (proto == IPPROTO_TCP) b.tcp(u16(), u16(), static_cast<std::uint8_t>(rng_()));
        if (proto == IPPROTO_UDP) b.udp(u16(), u16());
        return b.build();
    }

private:
    std::mt19937 rng_;
};

rte_ipv4_hdr* ip_of(std::vector<std::uint8_t>& f) { return reinterpret_cast<rte_ipv4_hdr*>(f.data() + kL3); }

std::uint16_t ip_recomputed(std::vector<std::uint8_t>& f) {
    rte_ipv4_hdr copy;
    std::memcpy(&copy, f.data() + kL3, sizeof copy);
    copy.hdr_checksum = 0;
    return rte_ipv4_cksum(&copy);
}

std::uint16_t l4_recomputed(std::vector<std::uint8_t>& f, std::size_t csum_offset) {
    std::vector<std::uint8_t> copy = f;
    copy.at(kL4 + csum_offset) = 0;
    copy.at(kL4 + csum_offset + 1) = 0;
    return rte_ipv4_udptcp_cksum(ip_of(copy), copy.data() + kL4);
}

std::uint16_t load16(const std::vector<std::uint8_t>& f, std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, f.data() + at, 2);
    return v;
}
void store16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) { std::memcpy(f.data() + at, &v, 2); }

TEST(Checksum, Update16MatchesRecomputedIpv4Header) {
    RandomPackets r(1);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_UDP);
        auto* ip = ip_of(f);
        ASSERT_EQ(ip->hdr_checksum, ip_recomputed(f));
        // Any 16-bit word of the header except the checksum itself (word 5).
        std::size_t word = r.u16() % 9;
        if (word >= 5) ++word;
        const std::uint16_t old_v = load16(f, kL3 + 2 * word);
        std::uint16_t new_v = r.value16();
        // Word 0 holds version/IHL (first byte on the wire): change only the TOS byte.
        if (word == 0) new_v = static_cast<std::uint16_t>((new_v & 0xff00) | (old_v & 0x00ff));
        store16(f, kL3 + 2 * word, new_v);
        ip->hdr_checksum = csum_update16(ip->hdr_checksum, old_v, new_v);
        ASSERT_EQ(ip->hdr_checksum, ip_recomputed(f)) << "iteration " << i << " word " << word;
    }
}

TEST(Checksum, Update32MatchesRecomputedIpv4Header) {
    RandomPackets r(2);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_TCP);
        auto* ip = ip_of(f);
        const std::size_t field =
            kL3 + ((i % 2 == 0) ? offsetof(rte_ipv4_hdr, src_addr) : offsetof(rte_ipv4_hdr, dst_addr));
        std::uint32_t old_v;
        std::memcpy(&old_v, f.data() + field, 4);
        const std::uint32_t new_v = r.value32();
        std::memcpy(f.data() + field, &new_v, 4);
        ip->hdr_checksum = csum_update32(ip->hdr_checksum, old_v, new_v);
        ASSERT_EQ(ip->hdr_checksum, ip_recomputed(f)) << "iteration " << i;
    }
}

// What NAT does to a TCP packet: address (pseudo-header) and port, one delta.
TEST(Checksum, CombinedDeltaMatchesRecomputedTcp) {
    RandomPackets r(3);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_TCP);
        auto* ip = ip_of(f);
        auto* tcp = reinterpret_cast<rte_tcp_hdr*>(f.data() + kL4);
        ASSERT_EQ(tcp->cksum, l4_recomputed(f, offsetof(rte_tcp_hdr, cksum)));
        const std::uint32_t new_addr = r.value32();
        const std::uint16_t new_port = r.value16();
        const std::uint16_t delta =
            csum_delta_add(csum_delta32(ip->src_addr, new_addr), csum_delta16(tcp->src_port, new_port));
        ip->hdr_checksum = csum_update32(ip->hdr_checksum, ip->src_addr, new_addr);
        ip->src_addr = new_addr;
        tcp->src_port = new_port;
        tcp->cksum = csum_apply(tcp->cksum, delta);
        ASSERT_EQ(ip->hdr_checksum, ip_recomputed(f)) << "iteration " << i;
        ASSERT_EQ(tcp->cksum, l4_recomputed(f, offsetof(rte_tcp_hdr, cksum))) << "iteration " << i;
    }
}

TEST(Checksum, UdpUpdateMatchesRecomputedIncludingZeroResult) {
    RandomPackets r(4);
    int zero_results = 0;
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_UDP);
        auto* ip = ip_of(f);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(f.data() + kL4);
        const std::uint32_t old_addr = ip->dst_addr;
        std::uint32_t new_addr = r.value32();
        if (i % 4 == 0) {
            // Choose the address that makes the computed checksum 0 (sent as 0xffff).
            const std::uint16_t sum = static_cast<std::uint16_t>(~udp->dgram_cksum);
            const std::uint16_t low = csum_fold(std::uint32_t{static_cast<std::uint16_t>(old_addr >> 16)} +
                                                static_cast<std::uint16_t>(~sum));
            new_addr = (old_addr & 0xffff) | (std::uint32_t{low} << 16);
        }
        ip->dst_addr = new_addr;
        udp->dgram_cksum = udp_csum_apply(udp->dgram_cksum, csum_delta32(old_addr, new_addr));
        const std::uint16_t expected = l4_recomputed(f, offsetof(rte_udp_hdr, dgram_cksum));
        zero_results += expected == 0xffff;
        ASSERT_EQ(udp->dgram_cksum, expected) << "iteration " << i;
    }
    EXPECT_GT(zero_results, kIterations / 8);
}

TEST(Checksum, UdpWithoutChecksumStaysWithout) {
    EXPECT_EQ(udp_csum_apply(0, csum_delta32(0x0a000001, 0xc0a80001)), 0);
    EXPECT_EQ(udp_csum_apply(0, csum_delta16(0, 0xffff)), 0);
}

TEST(Checksum, ZeroRepresentationsAsOldAndNewValues) {
    // 0x0000 and 0xffff are both one's complement zero: swapping one for the
    // other leaves the checksum as it was.
    EXPECT_EQ(csum_update16(0x1234, 0x0000, 0xffff), 0x1234);
    EXPECT_EQ(csum_update16(0x1234, 0xffff, 0x0000), 0x1234);
    EXPECT_EQ(csum_update16(0x0000, 0x0000, 0xffff), 0x0000);
    EXPECT_EQ(csum_update16(0xfffe, 0xffff, 0x0000), 0xfffe);
    EXPECT_EQ(csum_update32(0x1234, 0x00000000, 0xffffffff), 0x1234);
    // A stored 0xffff (negative zero) comes out as the canonical 0x0000.
    EXPECT_EQ(csum_update16(0xffff, 0x0000, 0xffff), 0x0000);
    EXPECT_EQ(csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
    EXPECT_EQ(csum_update32(0x1234, 0xdeadbeef, 0xdeadbeef), 0x1234);
    EXPECT_EQ(csum_partial_update16(0x1234, 0x0000, 0xffff), 0x1234);
}

// Pseudo-header-only (CHECKSUM_PARTIAL) packets: the field holds the
// un-complemented pseudo-header sum; after NAT patches the address (and leaves
// the port alone), completing the sum as a NIC would gives the full checksum.
TEST(Checksum, PartialUpdateMatchesRecomputedPseudoHeader) {
    RandomPackets r(5);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_TCP);
        auto* ip = ip_of(f);
        auto* tcp = reinterpret_cast<rte_tcp_hdr*>(f.data() + kL4);
        tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
        const std::uint32_t new_addr = r.value32();
        const std::uint16_t new_port = r.value16();
        tcp->cksum = csum_partial_update32(tcp->cksum, ip->dst_addr, new_addr);
        ip->dst_addr = new_addr;
        tcp->dst_port = new_port;
        ASSERT_EQ(tcp->cksum, rte_ipv4_phdr_cksum(ip, 0)) << "iteration " << i;

        const std::size_t l4_len = f.size() - kL4;
        const auto completed = static_cast<std::uint16_t>(~rte_raw_cksum(tcp, l4_len));
        ASSERT_EQ(completed, l4_recomputed(f, offsetof(rte_tcp_hdr, cksum))) << "iteration " << i;
    }
}

TEST(Checksum, PartialUpdate16MatchesRecomputedPseudoHeader) {
    RandomPackets r(6);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_UDP);
        auto* ip = ip_of(f);
        std::uint16_t psum = rte_ipv4_phdr_cksum(ip, 0);
        // Half of the source address, as a 16-bit field.
        const std::size_t field = kL3 + offsetof(rte_ipv4_hdr, src_addr);
        const std::uint16_t half = load16(f, field);
        const std::uint16_t new_half = r.value16();
        store16(f, field, new_half);
        psum = csum_partial_update16(psum, half, new_half);
        ASSERT_EQ(psum, rte_ipv4_phdr_cksum(ip, 0)) << "iteration " << i;
    }
}

TEST(Checksum, TtlDecrementMatchesRecomputed) {
    RandomPackets r(7);
    for (int i = 0; i < kIterations; ++i) {
        auto f = r.frame(IPPROTO_TCP);
        auto* ip = ip_of(f);
        ip->time_to_live = static_cast<std::uint8_t>(2 + r.u16() % 254);
        ip->hdr_checksum = ip_recomputed(f);
        const std::uint8_t ttl = ip->time_to_live;
        ASSERT_TRUE(ipv4_decrement_ttl(*ip));
        ASSERT_EQ(ip->time_to_live, ttl - 1);
        ASSERT_EQ(ip->hdr_checksum, ip_recomputed(f)) << "iteration " << i;
    }
}

TEST(Checksum, TtlOneOrZeroIsNotForwarded) {
    for (std::uint8_t ttl : {0, 1}) {
        auto f = PacketBuilder().ipv4(Ipv4Address(1), Ipv4Address(2), ttl).udp(1, 2).build();
        const auto before = f;
        EXPECT_FALSE(ipv4_decrement_ttl(*ip_of(f)));
        EXPECT_EQ(test::hex_diff(before, f), "");
    }
}

}  // namespace
}  // namespace dpdock
