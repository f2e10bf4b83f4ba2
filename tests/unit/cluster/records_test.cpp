// The key layout and the JSON of the records: round trips, and malformed
// values refused (a reader counts and skips them, never crashes); the store
// view's revision rules; base64 as etcd's gateway writes it.
#include <gtest/gtest.h>

#include "cluster/base64.hpp"
#include "cluster/records.hpp"
#include "cluster/store_view.hpp"

namespace dpdock::cluster {
namespace {

TEST(Base64Test, RoundTripsAndRejectsMalformedText) {
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode(""), "");
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
    for (const char* bad : {"Zm9", "Zm9v!A==", "Z===", "Zg==Zg==", "Zm=v"}) EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(RecordsTest, KeysLiveUnderOnePrefix) {
    EXPECT_EQ(host_key("h1"), "/dpdock/hosts/h1");
    EXPECT_EQ(network_key("prod"), "/dpdock/networks/prod");
    EXPECT_EQ(vni_key(300), "/dpdock/vnis/300");
    EXPECT_EQ(endpoint_key("prod", *Ipv4Address::parse("10.40.0.2")), "/dpdock/endpoints/prod/10.40.0.2");
    EXPECT_EQ(prefix_end("/dpdock/"), "/dpdock0");
    EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
}

TEST(RecordsTest, RecordsRoundTrip) {
    NetworkRecord n;
    n.name = "prod";
    n.subnet = *Ipv4Cidr::parse("10.40.0.0/16");
    n.gateway = *Ipv4Address::parse("10.40.0.1");
    n.ip_range = Ipv4Cidr::parse("10.40.1.0/24");
    n.vni = 4097;
    n.internal = true;
    n.options = {{"k", "v"}};
    n.labels = {{"team", "a"}};
    n.created_by = "h1";
    EXPECT_EQ(parse_network(to_json(n)), n);
    HostRecord h{"h1", *Ipv4Address::parse("192.168.80.2"), "2026-12-02T19:00:00Z"};
    EXPECT_EQ(parse_host(to_json(h)), h);
    EndpointRecord e{"prod", "api", *Ipv4Address::parse("10.40.0.2"), *MacAddress::parse("02:42:0a:28:00:02"), "h1",
                     *Ipv4Address::parse("192.168.80.2")};
    EXPECT_EQ(parse_endpoint(to_json(e)), e);
    // The model and back: a global overlay network.
    const config::NetworkSpec spec = spec_of(n);
    EXPECT_TRUE(spec.global);
    EXPECT_EQ(spec.driver, "overlay");
    EXPECT_EQ(record_of(spec, "h1"), n);
}

TEST(RecordsTest, MalformedValuesAreRefused) {
    for (const char* bad : {"", "not json", "[]", "{}", R"({"name":"x","vtep":"300.1.1.1"})", R"({"name":"","vtep":"1.2.3.4"})"}) {
        EXPECT_FALSE(parse_host(bad)) << bad;
    }
    for (const char* bad : {R"({"name":"p","subnet":"10.0.0.0/33","gateway":"10.0.0.1","vni":5,"mtu":1450})",
                            R"({"name":"p","subnet":"10.0.0.0/24","gateway":"10.0.0.1","vni":0,"mtu":1450})",
                            R"({"name":"p","subnet":"10.0.0.0/24","gateway":"10.0.0.1","vni":16777216,"mtu":1450})",
                            R"({"name":"p","subnet":"10.0.0.0/24","gateway":"10.0.0.1","vni":-1,"mtu":1450})",
                            R"({"name":"p","subnet":"10.0.0.0/24","gateway":"10.0.0.1","vni":5,"mtu":1450,"options":{"a":1}})"}) {
        EXPECT_FALSE(parse_network(bad)) << bad;
    }
    EXPECT_FALSE(parse_endpoint(R"({"network":"p","container":"c","ip":"10.0.0.2","mac":"zz","host":"h","vtep":"1.2.3.4"})"));
}

TEST(StoreViewTest, OlderEventsNeverRollBackAndMalformedRecordsAreCounted) {
    StoreView view;
    const HostRecord h{"h1", *Ipv4Address::parse("192.168.80.2"), ""};
    view.put(KeyValue{host_key("h1"), to_json(h), 5, 5, 0});
    view.erase(host_key("h1"), 4);  // older than what we know: ignored
    EXPECT_EQ(view.typed().hosts.size(), 1u);
    view.erase(host_key("h1"), 7);
    view.put(KeyValue{host_key("h1"), to_json(h), 5, 6, 0});  // the watch catching up: still deleted
    EXPECT_TRUE(view.typed().hosts.empty());
    view.advance(7);
    view.put(KeyValue{host_key("h2"), "garbage", 8, 8, 0});
    view.put(KeyValue{host_key("h3"), to_json(h), 9, 9, 0});  // names another host than its key
    const TypedView typed = view.typed();
    EXPECT_TRUE(typed.hosts.empty());
    EXPECT_EQ(typed.malformed, 2u);
    EXPECT_EQ(typed.revision, 7);
}

}  // namespace
}  // namespace dpdock::cluster
