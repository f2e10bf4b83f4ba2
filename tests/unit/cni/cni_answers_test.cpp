// run_cni against a dpdockd whose answers lack fields or have the wrong shape
// (tests/support/fake_daemon.hpp): ADD, DEL and CHECK return a CNI error,
// never a read past the JSON or an exception out of the plugin (before, the
// const operator[] of a missing key read through std::map's end, and a
// .value() on a non-object threw past main into std::terminate).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "control/cli/client.hpp"
#include "runtime/cni/cni_plugin.hpp"
#include "tests/support/fake_daemon.hpp"

namespace dpdock::cni {
namespace {

using nlohmann::json;
using test::FakeDaemon;

std::string socket_path() { return "/tmp/dpdock-cni-answers-" + std::to_string(::getpid()) + ".sock"; }

CniRequest request(CniCommand command) {
    CniRequest r;
    r.command = command;
    r.container = "pod1";
    r.netns = "/run/netns/pod1";
    r.ifname = "eth0";
    r.network = "bridge";
    return r;
}

// Whether `command` ended in a CNI error against a daemon giving `answers`.
bool refused(const std::map<std::string, json>& answers, CniCommand command) {
    FakeDaemon daemon(socket_path(), answers);
    EXPECT_TRUE(daemon.listening());
    auto client = cli::Client::connect(socket_path(), std::chrono::seconds(5));
    EXPECT_TRUE(client.ok()) << client.message();
    if (!client) return false;
    const auto outcome = run_cni(request(command), *client);
    return std::holds_alternative<CniError>(outcome);
}

TEST(CniAnswersTest, AContainerListedWithoutItsNetworksIsAnError) {
    const json listed = json::array({{{"name", "pod1"}, {"netns", "/run/netns/pod1"}}});
    EXPECT_TRUE(refused({{"container.ps", listed}}, CniCommand::kAdd));
    EXPECT_TRUE(refused({{"container.ps", listed}}, CniCommand::kDel));
    EXPECT_TRUE(refused({{"container.ps", listed}}, CniCommand::kCheck));
    // Not objects at all: skipped, so ADD attaches, and its answer lacks the endpoint's fields.
    EXPECT_TRUE(refused({{"container.ps", json::array({"junk", 7})}, {"container.attach", json::object()}},
                        CniCommand::kAdd));
}

TEST(CniAnswersTest, AnAttachAnswerWithoutItsAddressesIsAnError) {
    const json attached = {{"networks", json::array({{{"network", "bridge"}, {"interface", "eth0"}}})}};
    EXPECT_TRUE(refused({{"container.ps", json::array()}, {"container.attach", attached}}, CniCommand::kAdd));
}

}  // namespace
}  // namespace dpdock::cni
