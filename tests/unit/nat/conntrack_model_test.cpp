// Key ownership in the conntrack table, checked against a model: random
// sequences of new flows, packets and expiry over a tiny address and port
// universe (so new flows often land on tuples other flows hold, in either
// direction), and after every step each tuple the model knows must find its
// own flow in its own direction, and no other tuple any flow. A std::map of
// tuples is the model; time is a fake clock (hz = 1: `now` is in seconds).
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <rte_byteorder.h>

#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/unit/nat/rcu_fixture.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kHost = 0x0a000001;  // the host address: every reply tuple's destination
constexpr std::array<std::uint32_t, 3> kAddresses = {kHost, 0x0a000002, 0x0a000003};
constexpr std::uint16_t kPortLo = 1000, kPortHi = 1003;  // the host ports, and the only ports in the universe

struct ModelFlow {
    FlowKey original;
    FlowKey reply;
    std::uint64_t expires;
    bool replied;
};

class ConntrackModelTest : public RcuFixture {
protected:
    void SetUp() override {
        RcuFixture::SetUp();
        if (HasFatalFailure()) return;
        static unsigned tables = 0;
        ConntrackOptions o;
        o.name = "ctm" + std::to_string(tables++);
        o.capacity = 1024;  // never full here: early drop is not what this test models
        o.port_lo = kPortLo;
        o.port_hi = kPortHi;
        o.hz = 1;
        o.qsbr = rcu_->qsbr();
        auto ct = Conntrack::create(o);
        ASSERT_TRUE(ct.ok()) << ct.message();
        ct_ = std::move(*ct);
    }

    FlowKey random_key() {
        auto addr = [&] { return rte_cpu_to_be_32(kAddresses[rng_() % kAddresses.size()]); };
        auto port = [&] { return rte_cpu_to_be_16(static_cast<std::uint16_t>(kPortLo + rng_() % 4)); };
        return {addr(), addr(), port(), port(), IPPROTO_UDP, {}};
    }

    // Which model flow holds `k`, and in which direction.
    std::optional<std::pair<Entry*, Direction>> holder(const FlowKey& k) const {
        for (const auto& [e, f] : model_) {
            if (f.original == k) return std::pair{e, Direction::Original};
            if (f.reply == k) return std::pair{e, Direction::Reply};
        }
        return std::nullopt;
    }

    void new_flow(std::uint64_t now) {
        const FlowKey k = random_key();
        const auto held = holder(k);
        DropReason why = DropReason::Count;
        Entry* e = ct_->create(k, rte_cpu_to_be_32(kHost), MacAddress::from_u64(0x020000000001ULL), 0, 0, now, why);
        if (held && held->second == Direction::Original) {
            EXPECT_EQ(e, held->first) << "a flow that exists is found, not made twice";
            return;
        }
        if (held) {
            EXPECT_EQ(e, nullptr) << "a tuple that is another flow's reply is not taken over";
            EXPECT_EQ(why, DropReason::CtKeyTaken);
            return;
        }
        if (e == nullptr) {
            // Only when every host port towards that destination is held.
            EXPECT_EQ(why, DropReason::NatNoPort);
            for (std::uint16_t p = kPortLo; p <= kPortHi; ++p) {
                FlowKey translated = k;
                translated.src_ip = rte_cpu_to_be_32(kHost);
                translated.src_port = rte_cpu_to_be_16(p);
                const FlowKey reply = translated.reversed();
                EXPECT_TRUE(holder(reply) || reply == k) << "port " << p << " was free";
            }
            return;
        }
        EXPECT_EQ(e->original, k);
        EXPECT_FALSE(holder(e->reply)) << "the reply tuple was another flow's";
        EXPECT_EQ(model_.count(e), 0u);
        model_[e] = {k, e->reply, now + 30, false};
    }

    // A packet of a random flow in a random direction.
    void packet(std::uint64_t now) {
        if (model_.empty()) return;
        auto it = std::next(model_.begin(), static_cast<long>(rng_() % model_.size()));
        const Direction dir = rng_() % 2 == 0 ? Direction::Original : Direction::Reply;
        ModelFlow& f = it->second;
        ct_->track(*it->first, dir, 0, now);
        const bool state_changes = dir == Direction::Reply && !f.replied;
        f.replied = f.replied || dir == Direction::Reply;
        const std::uint64_t deadline = now + (f.replied ? 180 : 30);
        // At most one refresh a second, unless the state changes.
        if (state_changes || deadline > f.expires + 1) f.expires = deadline;
    }

    void expire(std::uint64_t now) {
        const std::uint32_t reaped = ct_->expire(now);
        std::uint32_t expected = 0;
        for (auto it = model_.begin(); it != model_.end();) {
            if (it->second.expires <= now) {
                it = model_.erase(it);
                ++expected;
            } else {
                ++it;
            }
        }
        EXPECT_EQ(reaped, expected);
    }

    void check_every_tuple() {
        ASSERT_EQ(ct_->entries(), model_.size());
        for (const auto& [e, f] : model_) {
            Direction dir = Direction::Reply;
            ASSERT_EQ(ct_->find(f.original, dir), e);
            ASSERT_EQ(dir, Direction::Original);
            ASSERT_EQ(ct_->find(f.reply, dir), e);
            ASSERT_EQ(dir, Direction::Reply);
        }
        for (int i = 0; i < 8; ++i) {
            const FlowKey k = random_key();
            Direction dir;
            if (!holder(k)) {
                ASSERT_EQ(ct_->find(k, dir), nullptr);
            }
        }
    }

    std::mt19937 rng_{20261202};
    std::unique_ptr<Conntrack> ct_;
    std::map<Entry*, ModelFlow> model_;
};

TEST_F(ConntrackModelTest, RandomCreateTrackExpireSequencesMatchTheModel) {
    std::uint64_t now = 0;
    for (int step = 0; step < 20'000; ++step) {
        const unsigned op = rng_() % 10;
        if (op < 5) {
            new_flow(now);
        } else if (op < 8) {
            packet(now);
        } else {
            now += rng_() % 40;
            expire(now);
        }
        check_every_tuple();
        if (HasFatalFailure() || HasNonfatalFailure()) FAIL() << "at step " << step;
    }
}

}  // namespace
}  // namespace dpdock::nat
