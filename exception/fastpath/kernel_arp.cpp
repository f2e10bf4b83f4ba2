#include "exception/fastpath/kernel_arp.hpp"

#include <cstring>

#include <rte_arp.h>
#include <rte_ether.h>

#include "base/packet/headers.hpp"

namespace dpdock::exception {
namespace {

// Pointers, not references: ARP fields are packed.
void put_mac(rte_ether_addr* to, MacAddress mac) { std::memcpy(to->addr_bytes, mac.bytes().data(), RTE_ETHER_ADDR_LEN); }

}  // namespace

void relay_request_into_network(rte_mbuf* m, const PacketMeta& meta, MacAddress gateway_mac) {
    put_mac(&rte_pktmbuf_mtod(m, rte_ether_hdr*)->src_addr, gateway_mac);
    put_mac(&header_at<rte_arp_hdr>(m, meta.l3_offset)->arp_data.arp_sha, gateway_mac);
}

bool relay_reply_to_kernel(rte_mbuf* m, const PacketMeta& meta, MacAddress kernel_mac) {
    auto* arp = header_at<rte_arp_hdr>(m, meta.l3_offset);
    if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY)) return false;
    put_mac(&rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr, kernel_mac);
    put_mac(&arp->arp_data.arp_tha, kernel_mac);
    return true;
}

}  // namespace dpdock::exception
