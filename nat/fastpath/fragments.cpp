// FragmentTable: the first fragment's ports for the later ones. See fragments.hpp.
#include "nat/fastpath/fragments.hpp"

#include <rte_hash_crc.h>
#include <rte_ip.h>

#include "base/packet/headers.hpp"
#include "nat/fastpath/masquerade.hpp"

namespace dpdock::nat {

std::optional<FlowKey> FragmentTable::key_of(rte_mbuf* m, const PacketMeta& meta, std::uint64_t now,
                                             std::uint64_t lifetime) {
    if ((meta.flags & kFlagFragment) == 0 || meta.l3_type != L3Type::Ipv4) return flow_key_of(m, meta);
    const auto* ip = header_at<const rte_ipv4_hdr>(m, meta.l3_offset);
    std::uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->packet_id);
    h = rte_hash_crc_4byte(ip->dst_addr, h);
    Slot& slot = slots_[rte_hash_crc_1byte(ip->next_proto_id, h) % kSlots];
    const bool first = (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;
    if (first) {
        auto key = flow_key_of_headers(m, meta);
        if (key) {
            slot = {ip->src_addr, ip->dst_addr, ip->packet_id, ip->next_proto_id, true, key->src_port, key->dst_port,
                    now + lifetime};
        }
        return key;
    }
    if (!slot.used || slot.src_ip != ip->src_addr || slot.dst_ip != ip->dst_addr || slot.ip_id != ip->packet_id ||
        slot.proto != ip->next_proto_id || now > slot.expires) {
        return std::nullopt;
    }
    FlowKey key;
    key.src_ip = ip->src_addr;
    key.dst_ip = ip->dst_addr;
    key.proto = ip->next_proto_id;
    key.src_port = slot.src_port;
    key.dst_port = slot.dst_port;
    return key;
}

}  // namespace dpdock::nat
