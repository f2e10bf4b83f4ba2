// The packet mbuf pool: every mbuf carries kMbufPrivSize bytes of private area
// for PacketMeta, between the rte_mbuf header and the buffer. Created and freed
// by the control thread; workers allocate and free mbufs through their
// per-lcore caches.
#pragma once

#include <cstdint>
#include <string>

#include <rte_mempool.h>

#include "base/util/status.hpp"

namespace dpdock::dataplane {

// `data_room` includes RTE_PKTMBUF_HEADROOM: RTE_MBUF_DEFAULT_BUF_SIZE for
// standard frames, 9216 + RTE_PKTMBUF_HEADROOM for jumbo frames in one
// segment. `mbufs` of the form 2^n - 1 uses the ring best. The caller frees
// the pool with rte_mempool_free once no port or worker holds its mbufs.
Result<rte_mempool*> create_packet_pool(const std::string& name, std::uint32_t mbufs, std::uint16_t data_room,
                                        int socket);

// A pool of indirect mbufs (no data room): rte_gso and rte_ip_frag attach them
// to the payload of the packet they cut, so segments and fragments share its
// data instead of copying it. Freed like a packet pool.
Result<rte_mempool*> create_indirect_pool(const std::string& name, std::uint32_t mbufs, int socket);

}  // namespace dpdock::dataplane
