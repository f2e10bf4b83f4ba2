// dns::respond: answers built from a NameTable, checked by parsing them back
// with ldns; malformed and hostile queries give Malformed, never a crash.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <ldns/ldns.h>

#include "dns/responder.hpp"

namespace dpdock::dns {
namespace {

Ipv4Address ip(const char* s) { return *Ipv4Address::parse(s); }

std::vector<std::uint8_t> query(const char* name, ldns_rr_type type, std::uint16_t id = 0x1234) {
    ldns_pkt* q = nullptr;
    EXPECT_EQ(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
    ldns_pkt_set_id(q, id);
    std::uint8_t* buf = nullptr;
    std::size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&buf, q, &size), LDNS_STATUS_OK);
    std::vector<std::uint8_t> out(buf, buf + size);
    std::free(buf);
    ldns_pkt_free(q);
    return out;
}

struct Parsed {
    ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR;
    std::uint16_t id = 0;
    bool aa = false;
    std::vector<std::string> answers;  // "ttl type rdata"
};

Parsed parse(const std::vector<std::uint8_t>& wire) {
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, wire.data(), wire.size()), LDNS_STATUS_OK);
    Parsed out;
    if (p == nullptr) return out;
    out.rcode = ldns_pkt_get_rcode(p);
    out.id = ldns_pkt_id(p);
    out.aa = ldns_pkt_aa(p);
    const ldns_rr_list* an = ldns_pkt_answer(p);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(an, i);
        char* rdata = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        out.answers.push_back(std::to_string(ldns_rr_ttl(rr)) + " " + std::to_string(ldns_rr_get_type(rr)) + " " + rdata);
        std::free(rdata);
    }
    ldns_pkt_free(p);
    return out;
}

class ResponderTest : public ::testing::Test {
protected:
    void SetUp() override {
        names_.set_internal(1, false);
        names_.set_internal(2, false);
        names_.add({"db", "app", 1, ip("10.0.0.2"), {"postgres", "pg"}});
        names_.add({"db2", "app", 1, ip("10.0.0.3"), {"pg"}});
        names_.add({"web", "app", 1, ip("10.0.0.4"), {}});
        names_.add({"web", "back", 2, ip("10.1.0.4"), {}});
        names_.add({"lone", "back", 2, ip("10.1.0.5"), {}});
    }
    Response ask(const char* name, ldns_rr_type type, Ipv4Address asker = Ipv4Address(0x0a000004), NetworkId net = 1,
                 std::uint64_t rotation = 0) {
        const auto q = query(name, type);
        return respond(names_, net, asker, q, rotation);
    }
    NameTable names_;
};

TEST_F(ResponderTest, ContainerNameIsAnsweredWithTtl600AndTheQueryId) {
    const Response r = ask("DB", LDNS_RR_TYPE_A);
    ASSERT_EQ(r.outcome, Outcome::Answered);
    const Parsed p = parse(r.wire);
    EXPECT_EQ(p.id, 0x1234);
    EXPECT_TRUE(p.aa);
    EXPECT_EQ(p.answers, std::vector<std::string>{"600 1 10.0.0.2"});
    EXPECT_EQ(r.name, "db");
}

TEST_F(ResponderTest, AliasesAndNetworkQualifiedNames) {
    EXPECT_EQ(parse(ask("postgres.", LDNS_RR_TYPE_A).wire).answers, std::vector<std::string>{"600 1 10.0.0.2"});
    EXPECT_EQ(parse(ask("db.app", LDNS_RR_TYPE_A).wire).answers, std::vector<std::string>{"600 1 10.0.0.2"});
    EXPECT_EQ(ask("db.back", LDNS_RR_TYPE_A).outcome, Outcome::NotLocal);
}

TEST_F(ResponderTest, SharedAliasRotates) {
    const auto a = parse(ask("pg", LDNS_RR_TYPE_A, ip("10.0.0.4"), 1, 0).wire).answers;
    const auto b = parse(ask("pg", LDNS_RR_TYPE_A, ip("10.0.0.4"), 1, 1).wire).answers;
    EXPECT_EQ(a, (std::vector<std::string>{"600 1 10.0.0.2", "600 1 10.0.0.3"}));
    EXPECT_EQ(b, (std::vector<std::string>{"600 1 10.0.0.3", "600 1 10.0.0.2"}));
}

TEST_F(ResponderTest, AskerSeesTheNamesOfEveryNetworkItIsOn) {
    // web is on app and back: lone (back) is known to it even when asking app's gateway.
    EXPECT_EQ(parse(ask("lone", LDNS_RR_TYPE_A, ip("10.0.0.4"), 1).wire).answers,
              std::vector<std::string>{"600 1 10.1.0.5"});
    // db is on app only.
    EXPECT_EQ(ask("lone", LDNS_RR_TYPE_A, ip("10.0.0.2"), 1).outcome, Outcome::NotLocal);
}

TEST_F(ResponderTest, AaaaOfAKnownNameIsNoErrorWithoutAnswer) {
    const Response r = ask("db", LDNS_RR_TYPE_AAAA);
    ASSERT_EQ(r.outcome, Outcome::NoData);
    const Parsed p = parse(r.wire);
    EXPECT_EQ(p.rcode, LDNS_RCODE_NOERROR);
    EXPECT_TRUE(p.answers.empty());
}

TEST_F(ResponderTest, PtrOfAContainerAddress) {
    EXPECT_EQ(parse(ask("2.0.0.10.in-addr.arpa", LDNS_RR_TYPE_PTR).wire).answers,
              std::vector<std::string>{"600 12 db.app."});
    EXPECT_EQ(ask("5.0.1.10.in-addr.arpa", LDNS_RR_TYPE_PTR, ip("10.0.0.2")).outcome, Outcome::NotLocal);
    EXPECT_EQ(ask("1.2.3.4.5.in-addr.arpa", LDNS_RR_TYPE_PTR).outcome, Outcome::NotLocal);
    EXPECT_EQ(ask("256.0.0.10.in-addr.arpa", LDNS_RR_TYPE_PTR).outcome, Outcome::NotLocal);
}

TEST_F(ResponderTest, MalformedQueriesAreNotAnswered) {
    const NameTable& t = names_;
    auto outcome = [&](std::vector<std::uint8_t> q) { return respond(t, 1, ip("10.0.0.4"), q, 0).outcome; };
    EXPECT_EQ(outcome({}), Outcome::Malformed);
    EXPECT_EQ(outcome({1, 2, 3}), Outcome::Malformed);
    // A question whose name is a compression pointer to itself.
    EXPECT_EQ(outcome({0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}), Outcome::Malformed);
    // A label running past the end.
    EXPECT_EQ(outcome({0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a', 'b'}), Outcome::Malformed);
    // A response (QR set) is never answered: no loops between resolvers.
    auto resp = query("db", LDNS_RR_TYPE_A);
    resp[2] |= 0x80;
    EXPECT_EQ(outcome(resp), Outcome::Malformed);
    // Two questions.
    auto two = query("db", LDNS_RR_TYPE_A);
    two[5] = 2;
    EXPECT_EQ(outcome(two), Outcome::Malformed);
}

TEST_F(ResponderTest, ErrorResponseKeepsTheIdAndQuestion) {
    const auto q = query("example.org", LDNS_RR_TYPE_A, 0xbeef);
    const Parsed p = parse(error_response(q, LDNS_RCODE_SERVFAIL));
    EXPECT_EQ(p.id, 0xbeef);
    EXPECT_EQ(p.rcode, LDNS_RCODE_SERVFAIL);
    EXPECT_TRUE(error_response(std::vector<std::uint8_t>{1, 2}, LDNS_RCODE_SERVFAIL).empty());
}

// 32 containers sharing an alias make an A answer over 512 bytes: over UDP
// the header and question with TC set (the resolver then asks over TCP), over
// TCP (max size 65535) every address.
TEST_F(ResponderTest, AnAnswerTooLargeForUdpIsTruncatedAndWholeOverTcp) {
    for (std::uint32_t i = 0; i < kMaxAnswers; ++i) {
        names_.add({"many" + std::to_string(i), "app", 1, Ipv4Address(0x0a000100 + i), {"crowd"}});
    }
    const auto q = query("crowd", LDNS_RR_TYPE_A);
    const Response udp = respond(names_, 1, ip("10.0.0.4"), q, 0);
    ASSERT_EQ(udp.outcome, Outcome::Answered);
    EXPECT_LE(udp.wire.size(), kMaxUdpAnswer);
    EXPECT_NE(udp.wire[2] & 0x02, 0) << "TC";
    EXPECT_TRUE(parse(udp.wire).answers.empty());
    const Response tcp = respond(names_, 1, ip("10.0.0.4"), q, 0, kMaxTcpAnswer);
    ASSERT_EQ(tcp.outcome, Outcome::Answered);
    EXPECT_GT(tcp.wire.size(), kMaxUdpAnswer);
    EXPECT_EQ(tcp.wire[2] & 0x02, 0) << "TC";
    EXPECT_EQ(parse(tcp.wire).answers.size(), kMaxAnswers);
}

}  // namespace
}  // namespace dpdock::dns
