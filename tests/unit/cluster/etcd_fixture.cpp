#include "tests/unit/cluster/etcd_fixture.hpp"

#include <chrono>

namespace dpdock::cluster {

void EtcdFixture::SetUp() {
    ns_.emplace(test::make_netns("etc"));
    ASSERT_EQ(ns_->exec("ip link set lo up"), 0);
    dir_ = test::shell_output("mktemp -d /tmp/dpdock-etcd.XXXXXX | tr -d '\\n'");
    ASSERT_FALSE(dir_.empty());
    auto etcd = test::ChildProcess::spawn(
        {"ip", "netns", "exec", ns_->name(), "etcd", "--data-dir", dir_ + "/data", "--listen-client-urls", kUrl,
         "--advertise-client-urls", kUrl, "--listen-peer-urls", "http://127.0.0.1:2380"},
        dir_ + "/etcd.log");
    ASSERT_TRUE(etcd.ok()) << etcd.message();
    etcd_.emplace(std::move(*etcd));
    const std::string probe = "curl -s -m 1 -X POST " + std::string(kUrl) + "/v3/kv/range -d '{\"key\":\"AA==\"}'";
    ASSERT_TRUE(test::wait_until([&] { return ns_->exec(probe + " >/dev/null") == 0; }, std::chrono::seconds(10)))
        << test::shell_output("cat " + dir_ + "/etcd.log");
}

void EtcdFixture::TearDown() {
    etcd_.reset();  // SIGKILL and reap
    if (!dir_.empty()) test::shell("rm -rf " + test::shell_quote(dir_));
    ns_.reset();
}

void EtcdFixture::in_store_ns(const std::function<void()>& fn) {
    auto st = test::run_in(*ns_, fn);
    ASSERT_TRUE(st.ok()) << st.message();
}

}  // namespace dpdock::cluster
