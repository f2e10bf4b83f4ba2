// Small helpers shared by the dataplane port tests: an owning mbuf pool and
// raw Ethernet frames turned into mbufs and back. Test-only; main thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace dpdock::test {

struct PoolDeleter {
    void operator()(rte_mempool* pool) const { rte_mempool_free(pool); }
};
using PoolPtr = std::unique_ptr<rte_mempool, PoolDeleter>;

// An EtherType from the IEEE "local experimental" range, so frames a test
// sends cannot be mistaken for the kernel's own traffic on a veth.
inline constexpr std::uint16_t kTestEtherType = 0x88b5;

// dst, src, kTestEtherType, then `payload_len` bytes counting up from `seed`.
inline std::vector<std::uint8_t> test_frame(std::uint8_t seed, std::size_t payload_len = 50) {
    std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, kTestEtherType >> 8,
                                   kTestEtherType & 0xff};
    for (std::size_t i = 0; i < payload_len; ++i) f.push_back(static_cast<std::uint8_t>(seed + i));
    return f;
}

// An IPv4/UDP frame between two TEST-NET-1 addresses (192.0.2.1 -> .2) to a
// MAC nobody owns, so a kernel that sees it drops it; flows differ by source
// port. The IPv4 checksum is valid, the UDP checksum is left 0 (none).
inline std::vector<std::uint8_t> udp_test_frame(std::uint16_t src_port) {
    std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
                                   // IPv4: version/IHL, TOS, total length 38, id, flags/fragment, TTL 64, UDP
                                   0x45, 0, 0, 38, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
                                   // UDP: ports, length 18, checksum
                                   static_cast<std::uint8_t>(src_port >> 8), static_cast<std::uint8_t>(src_port),
                                   0x07, 0xd0, 0, 18, 0, 0};
    std::uint32_t sum = 0;
    for (std::size_t i = 14; i < 34; i += 2) sum += static_cast<std::uint32_t>(f[i] << 8 | f[i + 1]);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    f[24] = static_cast<std::uint8_t>(~sum >> 8);
    f[25] = static_cast<std::uint8_t>(~sum);
    for (std::uint8_t i = 0; i < 10; ++i) f.push_back(i);
    return f;
}

inline rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<std::uint8_t>& bytes) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return nullptr;
    char* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
    if (data == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::copy(bytes.begin(), bytes.end(), data);
    return m;
}

// The frame's bytes across all segments.
inline std::vector<std::uint8_t> to_bytes(const rte_mbuf* m) {
    std::vector<std::uint8_t> out(rte_pktmbuf_pkt_len(m));
    const void* p = rte_pktmbuf_read(m, 0, static_cast<std::uint32_t>(out.size()), out.data());
    if (p != out.data()) std::copy_n(static_cast<const std::uint8_t*>(p), out.size(), out.begin());
    return out;
}

inline void free_all(std::vector<rte_mbuf*>& mbufs) {
    for (rte_mbuf* m : mbufs) rte_pktmbuf_free(m);
    mbufs.clear();
}

}  // namespace dpdock::test
