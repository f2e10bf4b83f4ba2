// dns::HitCounters: bounded by the names table. A name detached (gone from the
// next table) loses its counter; names the table never held (PTR questions,
// names of another network) are not counted at all.
#include <gtest/gtest.h>

#include "dns/hit_counters.hpp"

namespace dpdock::dns {
namespace {

Ipv4Address ip(const char* s) { return *Ipv4Address::parse(s); }

NameTable table_with(std::initializer_list<const char*> containers) {
    NameTable t;
    t.set_internal(1, false);
    std::uint32_t host = 2;
    for (const char* c : containers) t.add({c, "app", 1, Ipv4Address(0x0a000000 + host++), {}});
    return t;
}

TEST(HitCountersTest, CountsNamesOfTheTableCaseInsensitively) {
    const NameTable t = table_with({"db"});
    HitCounters hits;
    hits.count(t, 1, "db");
    hits.count(t, 1, "DB");
    hits.count(t, 1, "db.app");
    EXPECT_EQ(hits.get(1, "db"), 2u);
    EXPECT_EQ(hits.get(1, "db.app"), 1u);
}

TEST(HitCountersTest, NamesTheTableDoesNotHoldAreNotCounted) {
    const NameTable t = table_with({"db"});
    HitCounters hits;
    hits.count(t, 1, "2.0.0.10.in-addr.arpa");
    hits.count(t, 2, "db");  // asked from another network
    hits.count(t, 1, "nosuch");
    EXPECT_EQ(hits.size(), 0u);
}

TEST(HitCountersTest, DetachedNamesAreForgottenWhenTheTableChanges) {
    HitCounters hits;
    // 200 containers attached, asked for, and detached one after another:
    // before, every name stayed in the map for good.
    for (int i = 0; i < 200; ++i) {
        const std::string name = "c" + std::to_string(i);
        NameTable with;
        with.set_internal(1, false);
        with.add({name, "app", 1, ip("10.0.0.2"), {}});
        hits.retain(with);
        hits.count(with, 1, name);
        hits.count(with, 1, name + ".app");
        hits.retain(table_with({}));
    }
    EXPECT_EQ(hits.size(), 0u);
    const NameTable kept = table_with({"db"});
    hits.count(kept, 1, "db");
    hits.retain(table_with({"db", "web"}));
    EXPECT_EQ(hits.get(1, "db"), 1u);
}

}  // namespace
}  // namespace dpdock::dns
