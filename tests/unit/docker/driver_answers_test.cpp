// Driver against a dpdockd whose answers lack fields or have the wrong shape
// (tests/support/fake_daemon.hpp: one canned answer per command): every
// call gets an {"Err": ...} answer, never a read past the JSON (before, the
// const operator[] of a missing key read through std::map's end).
#include <gtest/gtest.h>

#include <unistd.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/docker/driver.hpp"
#include "tests/support/fake_daemon.hpp"

namespace dpdock::docker {
namespace {

using nlohmann::json;
using test::FakeDaemon;

const std::string kEndpoint = "0123456789abcdef";
const std::string kName = "docker-" + kEndpoint.substr(0, 12);

std::string socket_path() { return "/tmp/dpdock-driver-answers-" + std::to_string(::getpid()) + ".sock"; }

// The Err of `method` with `body` against a daemon giving `answers`.
std::string error_of(const std::map<std::string, json>& answers, const std::string& method, const json& body) {
    FakeDaemon daemon(socket_path(), answers);
    EXPECT_TRUE(daemon.listening());
    Driver driver(socket_path(), "/proc/self/ns/net", false);
    const auto answer = driver.handle(method, body);
    EXPECT_TRUE(answer.has_value());
    if (!answer || !answer->contains("Err")) return "";
    return answer->at("Err").get<std::string>();
}

TEST(DriverAnswersTest, AContainerListedWithoutItsFieldsIsAnErrorAnswer) {
    const json join = {{"NetworkID", "abc"}, {"EndpointID", kEndpoint}, {"SandboxKey", "/x"}};
    // No "networks": the endpoint is not found.
    EXPECT_NE(error_of({{"container.ps", json::array({{{"name", kName}}})}}, "NetworkDriver.Join", join), "");
    // Not an object at all.
    EXPECT_NE(error_of({{"container.ps", json::array({"junk", 7})}}, "NetworkDriver.Join", join), "");
    // A network without its interface and gateway.
    const json bare = json::array({{{"name", kName}, {"networks", json::array({{{"network", "n"}}})}}});
    EXPECT_NE(error_of({{"container.ps", bare}, {"network.ls", json::array({{{"name", "n"}}})}}, "NetworkDriver.Join",
                       join),
              "");
    // Oper info reads the MAC.
    EXPECT_NE(error_of({{"container.ps", bare}, {"container.port", json::array()}}, "NetworkDriver.EndpointOperInfo",
                       join),
              "");
}

TEST(DriverAnswersTest, AnAttachAnswerWithoutItsAddressIsAnErrorAnswer) {
    const json create = {{"NetworkID", "abc"}, {"EndpointID", kEndpoint}, {"Interface", json::object()}};
    EXPECT_NE(error_of({{"container.attach", json::object()}}, "NetworkDriver.CreateEndpoint", create), "");
    EXPECT_NE(error_of({{"container.attach", {{"networks", json::array({json::object()})}}}},
                       "NetworkDriver.CreateEndpoint", create),
              "");
}

}  // namespace
}  // namespace dpdock::docker
