// The conntrack tests' common ground: the EAL, and one RCU reader whose grace
// periods gate the table's lock-free deletes (the workers' role in dpdockd).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "base/sync/rcu.hpp"
#include "tests/support/eal_environment.hpp"

namespace dpdock::nat {

class RcuFixture : public ::testing::Test {
protected:
    void SetUp() override {
        test::ensure_eal();
        auto rcu = sync::Rcu::create(1);
        ASSERT_TRUE(rcu.ok()) << rcu.message();
        rcu_ = std::move(*rcu);
    }

    std::unique_ptr<sync::Rcu> rcu_;
};

}  // namespace dpdock::nat
