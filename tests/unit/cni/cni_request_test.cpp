// parse_cni_request: the CNI environment and netconf become a request, or the
// spec's error code, before anything reaches dpdockd.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "runtime/cni/cni_request.hpp"

namespace dpdock::cni {
namespace {

using Env = std::map<std::string, std::string>;

Env add_env() {
    return {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "abc"}, {"CNI_NETNS", "/run/netns/x"}, {"CNI_IFNAME", "eth0"}};
}

std::variant<CniRequest, CniError> parse(const Env& env, const std::string& netconf) {
    return parse_cni_request(
        [&](const char* k) -> const char* {
            auto it = env.find(k);
            return it == env.end() ? nullptr : it->second.c_str();
        },
        netconf);
}

int code_of(const Env& env, const std::string& netconf) {
    auto r = parse(env, netconf);
    const auto* e = std::get_if<CniError>(&r);
    return e ? static_cast<int>(e->code) : 0;
}

const std::string kConf = R"({"cniVersion":"1.0.0","name":"front","type":"dpdock"})";

TEST(CniRequest, DefaultsComeFromTheNetconfName) {
    auto r = parse(add_env(), kConf);
    ASSERT_TRUE(std::holds_alternative<CniRequest>(r)) << std::get<CniError>(r).msg;
    const auto& req = std::get<CniRequest>(r);
    EXPECT_EQ(req.command, CniCommand::kAdd);
    EXPECT_EQ(req.network, "front");
    EXPECT_EQ(req.socket, kDefaultSocket);
    EXPECT_EQ(req.container, "abc");
    EXPECT_TRUE(req.publish.empty());
}

TEST(CniRequest, NetworkSocketNetnsAndLongIds) {
    Env env = add_env();
    env["CNI_NETNS"] = "/var/run/netns/cni-1";
    env["CNI_CONTAINERID"] = std::string(64, 'f');
    auto r = parse(env, R"({"cniVersion":"1.0.0","name":"n","network":"web","socket":"/tmp/s.sock"})");
    ASSERT_TRUE(std::holds_alternative<CniRequest>(r));
    const auto& req = std::get<CniRequest>(r);
    EXPECT_EQ(req.network, "web");
    EXPECT_EQ(req.socket, "/tmp/s.sock");
    EXPECT_EQ(req.netns, "/run/netns/cni-1");
    EXPECT_EQ(req.container, std::string(63, 'f'));
}

TEST(CniRequest, PortMappingsBecomeDockerPublishStrings) {
    auto r = parse(add_env(), R"({"cniVersion":"1.0.0","name":"n","runtimeConfig":{"portMappings":[
        {"hostPort":8080,"containerPort":80,"protocol":"tcp"},
        {"hostPort":5353,"containerPort":53,"protocol":"UDP","hostIP":"0.0.0.0"},
        {"hostPort":9000,"containerPort":90}]}})");
    ASSERT_TRUE(std::holds_alternative<CniRequest>(r)) << std::get<CniError>(r).msg;
    EXPECT_EQ(std::get<CniRequest>(r).publish,
              (std::vector<std::string>{"8080:80/tcp", "0.0.0.0:5353:53/udp", "9000:90/tcp"}));
}

TEST(CniRequest, WrongInputGetsTheSpecsCodes) {
    EXPECT_EQ(code_of({}, kConf), 4);
    Env bad = add_env();
    bad["CNI_COMMAND"] = "UPDATE";
    EXPECT_EQ(code_of(bad, kConf), 4);
    for (const char* missing : {"CNI_CONTAINERID", "CNI_IFNAME", "CNI_NETNS"}) {
        Env env = add_env();
        env.erase(missing);
        EXPECT_EQ(code_of(env, kConf), 4) << missing;
    }
    EXPECT_EQ(code_of(add_env(), "{\"cniVersion\":"), 6);
    EXPECT_EQ(code_of(add_env(), "[1]"), 6);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"0.4.0","name":"n"})"), 1);
    EXPECT_EQ(code_of(add_env(), R"({"name":"n"})"), 1);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0"})"), 7);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0","name":"n","network":3})"), 7);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0","name":"n","dns":[]})"), 7);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0","name":"n","runtimeConfig":{"portMappings":{}}})"), 7);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0","name":"n","runtimeConfig":{"portMappings":[
        {"hostPort":0,"containerPort":80}]}})"), 7);
    EXPECT_EQ(code_of(add_env(), R"({"cniVersion":"1.0.0","name":"n","runtimeConfig":{"portMappings":[
        {"hostPort":80,"containerPort":80,"protocol":"sctp"}]}})"), 7);
}

TEST(CniRequest, DelNeedsNoNetnsAndVersionNoEnvironment) {
    Env del = add_env();
    del["CNI_COMMAND"] = "DEL";
    del.erase("CNI_NETNS");
    EXPECT_EQ(code_of(del, kConf), 0);
    EXPECT_EQ(code_of({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"0.3.1"})"), 0);
}

}  // namespace
}  // namespace dpdock::cni
