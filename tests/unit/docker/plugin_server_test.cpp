// PluginServer: Docker's plugin calls over HTTP on a Unix socket (curl as
// the client): answers, status codes for unknown methods, bad bodies and a
// failing handler, keep-alive, and who may own the socket path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>

#include "runtime/docker/plugin_server.hpp"
#include "tests/support/process.hpp"

namespace dpdock::docker {
namespace {

using nlohmann::json;
using test::shell;
using test::shell_output;

std::optional<json> handler(const std::string& method, const json& body) {
    if (method == "Echo") return body;
    if (method == "Throw") throw std::runtime_error("boom");
    return std::nullopt;
}

class PluginServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = "/tmp/dpdock-plugin-server-" + std::to_string(::getpid());
        path_ = dir_ + "/p.sock";
        ASSERT_TRUE(server_.listen(path_)) << path_;
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        boost::asio::post(io_, [this] { server_.close(); io_.stop(); });
        thread_.join();
        shell("rm -rf " + dir_);
    }
    // curl's output: the status code, then the body.
    std::string post(const std::string& method, const std::string& body, const std::string& extra = "") const {
        return shell_output("curl -s -w ' %{http_code}' --unix-socket " + path_ + " " + extra + " -d " +
                            test::shell_quote(body) + " http://plugin/" + method);
    }

    boost::asio::io_context io_;
    PluginServer server_{io_, handler};
    std::thread thread_;
    std::string dir_;
    std::string path_;
};

TEST_F(PluginServerTest, AnswersAndStatusCodes) {
    EXPECT_EQ(post("Echo", R"({"a":1})"), R"({"a":1} 200)");
    EXPECT_EQ(post("Nope", "{}"), R"({"Err":"dpdock's plugin does not implement Nope"} 404)");
    EXPECT_EQ(post("Echo", "{"), R"({"Err":"the request body is not JSON"} 400)");
    EXPECT_EQ(post("Throw", "{}"), R"({"Err":"dpdock's plugin failed: boom"} 500)");
    EXPECT_EQ(post("Echo", "{}", "-X GET"), R"({"Err":"plugin calls are POST requests"} 405)");
    // Docker posts Plugin.Activate without a body.
    EXPECT_EQ(shell_output("curl -s -X POST --unix-socket " + path_ + " http://plugin/Echo"), "{}");
    const std::string headers = shell_output("curl -s -D - -o /dev/null --unix-socket " + path_ + " -d '{}' http://plugin/Echo");
    EXPECT_NE(headers.find("application/vnd.docker.plugins.v1.2+json"), std::string::npos) << headers;
}

// A body nested a few hundred thousand levels deep (Beast takes up to 1 MiB)
// would overflow the stack when the handler copies or prints it: refused.
TEST_F(PluginServerTest, ADeeplyNestedBodyIsRefusedAndTheServerLives) {
    const std::string file = dir_ + "/deep.json";
    std::ofstream(file) << "{\"a\":" << std::string(200000, '[') << std::string(200000, ']') << "}";
    EXPECT_EQ(shell_output("curl -s -w ' %{http_code}' --unix-socket " + path_ + " -d @" + file + " http://plugin/Echo"),
              R"({"Err":"the request body nests deeper than 64 levels"} 400)");
    EXPECT_EQ(post("Echo", R"({"a":[[1]]})"), R"({"a":[[1]]} 200)");
}

TEST_F(PluginServerTest, KeepsTheConnectionForTheNextCall) {
    const std::string call = "--unix-socket " + path_ + " -d '{\"n\":";
    const std::string out = shell_output("curl -s -v " + call + "1}' http://plugin/Echo --next " + call +
                                         "2}' http://plugin/Echo 2>&1");
    EXPECT_NE(out.find("{\"n\":1}"), std::string::npos) << out;
    EXPECT_NE(out.find("{\"n\":2}"), std::string::npos) << out;
    EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
}

TEST_F(PluginServerTest, TheSocketPathIsTakenOnlyWhenNobodyServesIt) {
    boost::asio::io_context other_io;
    PluginServer other(other_io, handler);
    EXPECT_EQ(other.listen(path_).message(), "another plugin is already serving " + path_);
    const std::string file = dir_ + "/file.sock";
    std::ofstream(file) << "x";
    EXPECT_EQ(other.listen(file).message(), file + " exists and is not a socket");
    EXPECT_EQ(post("Echo", "{}"), "{} 200");  // the first server still answers
}

}  // namespace
}  // namespace dpdock::docker
