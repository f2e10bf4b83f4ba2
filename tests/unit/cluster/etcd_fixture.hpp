// A real etcd for the cluster tests: one member in a network namespace of
// its own (its own data dir, ports free by construction), killed and removed
// when the fixture ends. Tests run their body with in_store_ns() so that their
// sockets (and the threads an Agent starts) live in that namespace.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::cluster {

class EtcdFixture : public ::testing::Test {
public:
    static constexpr const char* kUrl = "http://127.0.0.1:2379";

protected:
    void SetUp() override;
    void TearDown() override;
    // Runs fn on a thread inside the store's namespace; fails the test if it could not.
    void in_store_ns(const std::function<void()>& fn);

    std::optional<test::Netns> ns_;
    std::optional<test::ChildProcess> etcd_;
    std::string dir_;
};

}  // namespace dpdock::cluster
