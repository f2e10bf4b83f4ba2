// libFuzzer target: arbitrary bytes as a DNS query to the embedded DNS's
// responder (dns/responder.hpp), the code that reads untrusted packets. Any
// crash, leak or sanitizer report is a finding; an answer must itself parse.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dns/responder.hpp"

// After the C++ headers: with clang, ldns's <stdbool.h> breaks libstdc++'s <optional> comparisons.
#include <ldns/ldns.h>

namespace {

const dpdock::dns::NameTable& table() {
    static const dpdock::dns::NameTable t = [] {
        dpdock::dns::NameTable n;
        n.set_internal(1, false);
        n.add({"db", "app", 1, dpdock::Ipv4Address(0x0a000002), {"postgres", "pg"}});
        n.add({"db2", "app", 1, dpdock::Ipv4Address(0x0a000003), {"pg"}});
        return n;
    }();
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto r = dpdock::dns::respond(table(), 1, dpdock::Ipv4Address(0x0a000004), {data, size}, size);
    if (!r.wire.empty()) {
        ldns_pkt* p = nullptr;
        if (ldns_wire2pkt(&p, r.wire.data(), r.wire.size()) != LDNS_STATUS_OK) __builtin_trap();
        ldns_pkt_free(p);
    }
    (void)dpdock::dns::error_response({data, size}, 2);
    return 0;
}
