// The test packet builder itself: every other packet test trusts its bytes,
// so its lengths and checksums are checked against DPDK's verifiers here.
#include <netinet/in.h>

#include <vector>

#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "base/packet/checksum.hpp"
#include "base/packet/packet_meta.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock {
namespace {

using test::PacketBuilder;

const MacAddress kMacA({0x02, 0, 0, 0, 0, 0x0a});
const MacAddress kMacB({0x02, 0, 0, 0, 0, 0x0b});
const Ipv4Address kIpA(0x0a000001);
const Ipv4Address kIpB(0x0a000002);

// Sum over pseudo-header and L4 bytes; 0xffff when the stored checksum is right.
std::uint16_t l4_sum(const rte_ipv4_hdr* ip, const std::uint8_t* l4, std::size_t len) {
    return csum_fold(std::uint32_t{rte_raw_cksum(l4, len)} + rte_ipv4_phdr_cksum(ip, 0));
}
std::uint16_t l4_sum(const rte_ipv6_hdr* ip, const std::uint8_t* l4, std::size_t len) {
    return csum_fold(std::uint32_t{rte_raw_cksum(l4, len)} + rte_ipv6_phdr_cksum(ip, 0));
}

template <typename H>
const H* at(const std::vector<std::uint8_t>& f, std::size_t offset) {
    return reinterpret_cast<const H*>(f.data() + offset);
}

TEST(PacketBuilder, EthernetHeaderAndVlanTags) {
    const auto f = PacketBuilder().eth(kMacB, kMacA).vlan(0x0123, 0x88a8).vlan(0x0456).ethertype(0x88b5).build();
    const std::vector<std::uint8_t> expected = {0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xa8,
                                                0x01, 0x23, 0x81, 0x00, 0x04, 0x56, 0x88, 0xb5};
    EXPECT_EQ(test::hex_diff(expected, f), "");
}

TEST(PacketBuilder, Ipv4TcpHasValidLengthsAndChecksums) {
    const auto f = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB, 17).ipv4_options(1).tcp(1234, 80, 0x12)
                       .tcp_options(2).payload(33).build();
    ASSERT_EQ(f.size(), 14u + 24 + 28 + 33);
    const auto* ip = at<rte_ipv4_hdr>(f, 14);
    EXPECT_EQ(ip->version_ihl, 0x46);
    EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), 24 + 28 + 33);
    EXPECT_EQ(ip->time_to_live, 17);
    EXPECT_EQ(ip->next_proto_id, IPPROTO_TCP);
    EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), kIpA.host());
    EXPECT_EQ(rte_ipv4_cksum(ip), 0) << "header checksum must verify";
    const auto* tcp = at<rte_tcp_hdr>(f, 14 + 24);
    EXPECT_EQ(rte_be_to_cpu_16(tcp->src_port), 1234);
    EXPECT_EQ(tcp->data_off, 7 << 4);
    EXPECT_EQ(tcp->tcp_flags, 0x12);
    EXPECT_EQ(l4_sum(ip, f.data() + 14 + 24, f.size() - 14 - 24), 0xffff);
}

TEST(PacketBuilder, Ipv4UdpAndIcmpChecksumsVerify) {
    const auto u = PacketBuilder().ipv4(kIpA, kIpB).udp(53, 5353).payload(7).build();
    const auto* uip = at<rte_ipv4_hdr>(u, 14);
    EXPECT_EQ(rte_be_to_cpu_16(at<rte_udp_hdr>(u, 34)->dgram_len), 15);
    EXPECT_EQ(l4_sum(uip, u.data() + 34, u.size() - 34), 0xffff);

    const auto i = PacketBuilder().ipv4(kIpA, kIpB).icmp_echo(0x77, 9).payload(56).build();
    EXPECT_EQ(rte_raw_cksum(i.data() + 34, i.size() - 34), 0xffff);
    EXPECT_EQ(i[34], RTE_IP_ICMP_ECHO_REQUEST);
}

TEST(PacketBuilder, Ipv6UdpChecksumVerifies) {
    const test::Ipv6Bytes a{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const test::Ipv6Bytes b{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const auto f = PacketBuilder().ipv6(a, b, 9).udp(1, 2).payload(11).build();
    const auto* ip = at<rte_ipv6_hdr>(f, 14);
    EXPECT_EQ(rte_be_to_cpu_16(ip->payload_len), 19);
    EXPECT_EQ(ip->hop_limits, 9);
    EXPECT_EQ(l4_sum(ip, f.data() + 54, f.size() - 54), 0xffff);
}

TEST(PacketBuilder, ArpRequestAndReply) {
    const auto req = PacketBuilder().arp_request(kMacA, kIpA, kIpB).build();
    ASSERT_EQ(req.size(), 14u + 28);
    const auto* arp = at<rte_arp_hdr>(req, 14);
    EXPECT_EQ(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REQUEST);
    EXPECT_EQ(rte_be_to_cpu_32(arp->arp_data.arp_tip), kIpB.host());
    EXPECT_TRUE(rte_is_zero_ether_addr(&arp->arp_data.arp_tha));

    const auto rep = PacketBuilder().arp_reply(kMacA, kIpA, kMacB, kIpB).build();
    const auto* r = at<rte_arp_hdr>(rep, 14);
    EXPECT_EQ(rte_be_to_cpu_16(r->arp_opcode), RTE_ARP_OP_REPLY);
    EXPECT_EQ(r->arp_data.arp_tha.addr_bytes[5], 0x0b);
}

TEST(PacketBuilder, FragmentPaddingAndCorruptionKnobs) {
    const auto frag = PacketBuilder().ipv4(kIpA, kIpB).ipv4_fragment(185, true).payload(8).build();
    EXPECT_EQ(rte_be_to_cpu_16(at<rte_ipv4_hdr>(frag, 14)->fragment_offset), RTE_IPV4_HDR_MF_FLAG | 185);
    EXPECT_EQ(rte_ipv4_cksum(at<rte_ipv4_hdr>(frag, 14)), 0);

    const auto padded = PacketBuilder().ipv4(kIpA, kIpB).udp(1, 2).pad_to(60).build();
    EXPECT_EQ(padded.size(), 60u);
    EXPECT_EQ(rte_be_to_cpu_16(at<rte_ipv4_hdr>(padded, 14)->total_length), 28);

    const auto bad = PacketBuilder().ipv4(kIpA, kIpB).tcp(1, 2).set_ihl(3).set_total_length(999)
                         .set_tcp_data_offset(2).truncate(50).build();
    ASSERT_EQ(bad.size(), 50u);
    EXPECT_EQ(bad[14], 0x43);
    EXPECT_EQ(rte_be_to_cpu_16(at<rte_ipv4_hdr>(bad, 14)->total_length), 999);
    EXPECT_EQ(bad[34 + 12], 2 << 4);
}

TEST(PacketBuilder, MbufRoundTripSingleAndChained) {
    auto pool = test::make_test_pool(32);
    ASSERT_TRUE(pool);
    const auto f = PacketBuilder().ipv4(kIpA, kIpB).udp(1, 2).payload(5000).build();
    test::MbufPtr chained(test::to_mbuf(pool.get(), f));
    ASSERT_TRUE(chained);
    EXPECT_GT(chained->nb_segs, 1);
    EXPECT_EQ(chained->pkt_len, f.size());
    EXPECT_EQ(test::hex_diff(f, test::from_mbuf(chained.get())), "");

    test::MbufPtr capped(test::to_mbuf(pool.get(), f, 1000));
    ASSERT_TRUE(capped);
    EXPECT_EQ(capped->data_len, 1000);
    EXPECT_EQ(capped->nb_segs, (f.size() + 999) / 1000);
    EXPECT_EQ(test::hex_diff(f, test::from_mbuf(capped.get())), "");

    const auto small = PacketBuilder().arp_request(kMacA, kIpA, kIpB).build();
    test::MbufPtr single(test::to_mbuf(pool.get(), small));
    ASSERT_TRUE(single);
    EXPECT_EQ(single->nb_segs, 1);
    EXPECT_EQ(test::from_mbuf(single.get()), small);
    EXPECT_GE(rte_pktmbuf_priv_size(pool.get()), sizeof(PacketMeta));
}

TEST(PacketBuilder, ToMbufReturnsNullWhenPoolRunsDry) {
    auto pool = test::make_test_pool(4);
    ASSERT_TRUE(pool);
    const std::vector<std::uint8_t> big(20000, 0x5a);
    EXPECT_EQ(test::to_mbuf(pool.get(), big), nullptr);
    EXPECT_EQ(rte_mempool_avail_count(pool.get()), 4u) << "partial chains must go back to the pool";
}

TEST(HexDiff, ShowsOnlyDifferingRowsAndLengths) {
    std::vector<std::uint8_t> a(40, 0x11);
    auto b = a;
    EXPECT_EQ(test::hex_diff(a, b), "");
    b[17] = 0x22;
    b.push_back(0x33);
    const std::string diff = test::hex_diff(a, b);
    EXPECT_NE(diff.find("expected 40 bytes, actual 41 bytes"), std::string::npos) << diff;
    EXPECT_EQ(diff.find("0000 "), std::string::npos) << "identical first row must be skipped\n" << diff;
    EXPECT_NE(diff.find("0010 expected: 11 [11]"), std::string::npos) << diff;
    EXPECT_NE(diff.find("0010   actual: 11 [22]"), std::string::npos) << diff;
    EXPECT_NE(diff.find("[33]"), std::string::npos) << diff;
}

}  // namespace
}  // namespace dpdock
