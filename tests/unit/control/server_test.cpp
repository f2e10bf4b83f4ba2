// ControlServer over real Unix sockets: framing, envelope errors, limits,
// slow and silent clients, many clients, socket file life cycle.
#include <fcntl.h>

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "tests/unit/control/control_test_util.hpp"

namespace dpdock::control::test {
namespace {

json ok(json result) { return {{"ok", true}, {"result", std::move(result)}}; }
json error(const std::string& message) { return {{"ok", false}, {"error", message}}; }

class ServerTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.start()); }
    TestServer server_;
};

TEST_F(ServerTest, AnswersAValidRequest) {
    TestClient c(server_.path());
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.call({{"cmd", "echo"}, {"args", {{"a", 1}}}}), ok({{"a", 1}}));
}

TEST_F(ServerTest, TwoRequestsInOneWriteGetTwoAnswersInOrder) {
    TestClient c(server_.path());
    ASSERT_TRUE(c.send_raw("{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n{\"cmd\":\"echo\",\"args\":{\"n\":2}}\n"));
    EXPECT_EQ(c.read_json(), ok({{"n", 1}}));
    EXPECT_EQ(c.read_json(), ok({{"n", 2}}));
}

TEST_F(ServerTest, RequestSplitAcrossWrites) {
    TestClient c(server_.path());
    const std::string line = "{\"cmd\":\"echo\",\"args\":{\"text\":\"split\"}}\n";
    for (std::size_t i = 0; i < line.size(); i += 5) {
        ASSERT_TRUE(c.send_raw(line.substr(i, 5)));
        std::this_thread::sleep_for(1ms);  // let the server see each piece on its own
    }
    EXPECT_EQ(c.read_json(), ok({{"text", "split"}}));
}

TEST_F(ServerTest, EnvelopeErrorsKeepTheConnection) {
    TestClient c(server_.path());
    ASSERT_TRUE(c.send_raw("{\"cmd\":}\n"));
    auto malformed = c.read_json();
    ASSERT_TRUE(malformed);
    EXPECT_EQ((*malformed)["ok"], false);
    EXPECT_EQ((*malformed)["error"].get<std::string>().rfind("malformed JSON at byte 8", 0), 0u) << *malformed;

    EXPECT_EQ(c.call(json::array({1, 2})), error("request must be an object"));
    EXPECT_EQ(c.call({{"args", json::object()}}), error("missing \"cmd\""));
    EXPECT_EQ(c.call({{"cmd", "echo"}, {"args", "x"}}), error("\"args\" must be an object"));
    EXPECT_EQ(c.call({{"cmd", "nope"}}), error("unknown command \"nope\""));
    EXPECT_EQ(c.call({{"cmd", "fail"}}), error("it failed"));
    auto careless = c.call({{"cmd", "careless"}, {"args", {{"n", "x"}}}});
    ASSERT_TRUE(careless);
    EXPECT_EQ((*careless)["ok"], false);
    EXPECT_EQ(c.call({{"cmd", "echo"}}), ok(json::object()));  // still served after all of that
}

TEST_F(ServerTest, BlankLinesAreIgnored) {
    TestClient c(server_.path());
    ASSERT_TRUE(c.send_raw("\n\r\n  \n{\"cmd\":\"echo\"}\r\n"));
    EXPECT_EQ(c.read_json(), ok(json::object()));
}

TEST_F(ServerTest, LastRequestMayEndAtEofWithoutNewline) {
    TestClient c(server_.path());
    ASSERT_TRUE(c.send_raw("{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n{\"cmd\":\"echo\",\"args\":{\"n\":2}}"));
    ASSERT_EQ(shutdown(c.fd(), SHUT_WR), 0);
    EXPECT_EQ(c.read_json(), ok({{"n", 1}}));
    EXPECT_EQ(c.read_json(), ok({{"n", 2}}));
    EXPECT_TRUE(c.closed_by_server());
}

TEST(Server, OversizedRequestGetsAnErrorAndIsClosed) {
    TestServer server(ServerOptions{.max_request_bytes = 1024});
    ASSERT_TRUE(server.start());
    const std::string expected = "request exceeds the limit of 1024 bytes";
    {
        // A complete line just over the limit.
        TestClient c(server.path());
        ASSERT_TRUE(c.send_raw("{\"cmd\":\"echo\",\"args\":{\"s\":\"" + std::string(1024, 'a') + "\"}}\n"));
        EXPECT_EQ(c.read_json(), error(expected));
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        // A line that never ends is refused without waiting for its end.
        TestClient c(server.path());
        ASSERT_TRUE(c.send_raw(std::string(4096, ' ')));
        EXPECT_EQ(c.read_json(), error(expected));
        EXPECT_TRUE(c.closed_by_server());
    }
    {
        // Exactly at the limit is fine.
        TestClient c(server.path());
        std::string line = "{\"cmd\":\"echo\",\"args\":{\"s\":\"\"}}";
        line.insert(line.size() - 3, std::string(1024 - line.size(), 'b'));
        ASSERT_EQ(line.size(), 1024u);
        auto answer = c.call(json::parse(line));
        ASSERT_TRUE(answer);
        EXPECT_EQ((*answer)["ok"], true);
    }
}

TEST(Server, SilentClientDoesNotBlockOthersAndIsClosedWhenIdle) {
    TestServer server(ServerOptions{.idle_timeout = 200ms});
    ASSERT_TRUE(server.start());
    TestClient silent(server.path());
    ASSERT_TRUE(silent.send_raw("{\"cmd\":\"echo\""));  // half a request, then nothing
    TestClient other(server.path());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(other.call({{"cmd", "echo"}, {"args", {{"i", i}}}}), ok({{"i", i}}));
    EXPECT_TRUE(silent.closed_by_server());
}

// A client that sends and never reads: the server stops reading it once its
// unsent output passes a bound, so the client's writes eventually block
// (instead of the daemon buffering without limit). Nothing is lost meanwhile.
TEST_F(ServerTest, ClientThatDoesNotReadGetsBackpressure) {
    TestClient pusher(server_.path());
    ASSERT_EQ(fcntl(pusher.fd(), F_SETFL, O_NONBLOCK), 0);
    const std::string request = "{\"cmd\":\"echo\",\"args\":{\"pad\":\"" + std::string(4000, 'p') + "\"}}\n";
    std::size_t sent_requests = 0;
    std::size_t offset = 0;  // into the request being sent
    std::size_t total_bytes = 0;
    int blocked_polls = 0;
    constexpr std::size_t kGiveUpBytes = 256u << 20;  // the server would have to buffer all of this otherwise
    while (blocked_polls < 20 && total_bytes < kGiveUpBytes) {
        const ssize_t n = send(pusher.fd(), request.data() + offset, request.size() - offset, MSG_NOSIGNAL);
        if (n > 0) {
            blocked_polls = 0;
            total_bytes += static_cast<std::size_t>(n);
            offset += static_cast<std::size_t>(n);
            if (offset == request.size()) {
                offset = 0;
                ++sent_requests;
            }
            continue;
        }
        ASSERT_TRUE(n < 0 && errno == EAGAIN) << std::strerror(errno);
        // Blocked: give the server a few chances to drain before concluding it stopped reading.
        ++blocked_polls;
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_LT(total_bytes, kGiveUpBytes) << "the server kept reading from a client that never reads";

    TestClient other(server_.path());
    EXPECT_EQ(other.call({{"cmd", "echo"}}), ok(json::object()));

    // Finish the partial request, then read every answer: all there, in order.
    const std::size_t expected = sent_requests + (offset > 0 ? 1 : 0);
    ASSERT_EQ(fcntl(pusher.fd(), F_SETFL, 0), 0);
    std::thread finisher([&] {
        if (offset > 0) pusher.send_raw(std::string_view(request).substr(offset));
    });
    std::size_t answered = 0;
    while (answered < expected) {
        auto line = pusher.read_line();
        if (!line) break;
        const json answer = json::parse(*line, nullptr, false);
        if (answer.value("ok", false) != true || answer["result"]["pad"].get<std::string>().size() != 4000u) break;
        ++answered;
    }
    finisher.join();
    EXPECT_GT(expected, 0u);
    EXPECT_EQ(answered, expected);
}

// Requests that used to kill the daemon (issue 14 item 5): a number beyond the
// double range throws json::out_of_range, and deep nesting overflowed the stack
// when the tree was copied. Each gets an error and the server keeps serving.
TEST_F(ServerTest, HostileJsonGetsAnErrorAndTheServerKeepsServing) {
    TestClient c(server_.path());
    const std::vector<std::string> hostile = {
        R"({"cmd":1e999})",
        R"({"cmd":"echo","args":{"mtu":1e400}})",
        R"({"cmd":"echo","args":{"mtu":-1e400}})",
        "{\"cmd\":\"echo\",\"args\":{\"a\":" + std::string(250000, '[') + std::string(250000, ']') + "}}",
        [] {
            std::string deep = "{\"cmd\":\"echo\",\"args\":";
            for (int i = 0; i < 60000; ++i) deep += "{\"a\":";
            deep += "1";
            deep += std::string(60000, '}');
            return deep + "}";
        }(),
    };
    for (const auto& line : hostile) {
        ASSERT_TRUE(c.send_raw(line + "\n"));
        auto answer = c.read_json();
        ASSERT_TRUE(answer) << line.substr(0, 60);
        EXPECT_EQ((*answer)["ok"], false) << line.substr(0, 60);
        EXPECT_TRUE((*answer)["error"].is_string());
    }
    EXPECT_EQ(c.call({{"cmd", "echo"}, {"args", {{"still", "here"}}}}), ok({{"still", "here"}}));
}

// The protocol allows pipelining (issue 14 item 6): a client that writes all
// its requests before reading a single answer gets every answer, in order.
TEST(Server, TwentyThousandPipelinedRequestsAllAnswered) {
    TestServer server(ServerOptions{.idle_timeout = 3s});
    ASSERT_TRUE(server.start());
    TestClient c(server.path());
    constexpr int kRequests = 20000;
    // 2.8 MB each way: far more than the sockets' buffers hold, so the server
    // must keep reading while the client does not.
    const std::string pad(100, 'p');
    std::string requests;
    for (int i = 0; i < kRequests; ++i) {
        requests += R"({"cmd":"echo","args":{"n":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"}}\n";
    }
    ASSERT_TRUE(c.send_raw(requests)) << "the server stopped reading a pipelining client";
    int answered = 0;
    while (answered < kRequests) {
        auto answer = c.read_json();
        if (!answer || *answer != ok({{"n", answered}, {"pad", pad}})) break;
        ++answered;
    }
    EXPECT_EQ(answered, kRequests);
}

TEST(Server, ClientOverTheOutputCapIsDropped) {
    TestServer server(ServerOptions{.max_output_bytes = 8192});
    ASSERT_TRUE(server.start());
    TestClient c(server.path());
    EXPECT_EQ(c.call({{"cmd", "big"}, {"args", {{"size", 1000}}}}), ok(std::string(1000, 'x')));
    ASSERT_TRUE(c.send_raw("{\"cmd\":\"big\",\"args\":{\"size\":20000}}\n"));
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(ServerTest, FiftyClientsAtOnce) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 50; ++i) {
        clients.push_back(std::make_unique<TestClient>(server_.path()));
        ASSERT_TRUE(clients.back()->connected()) << i;
    }
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(clients[i]->send_raw(json({{"cmd", "echo"}, {"args", {{"client", i}}}}).dump() + "\n"));
    }
    for (int i = 49; i >= 0; --i) EXPECT_EQ(clients[i]->read_json(), ok({{"client", i}})) << i;
}

TEST(ServerSocket, FileHasModeAndGroupAndIsRemovedOnShutdown) {
    TestServer server(ServerOptions{.mode = 0640, .group = 4242});
    ASSERT_TRUE(server.start());
    struct stat st {};
    ASSERT_EQ(lstat(server.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_gid, 4242u);
    server.stop();
    EXPECT_NE(lstat(server.path().c_str(), &st), 0);
}

TEST(ServerSocket, CreatesMissingParentDirectories) {
    TestServer server({}, "run/dpdock/ctl.sock");
    ASSERT_TRUE(server.start());
    TestClient c(server.path());
    EXPECT_EQ(c.call({{"cmd", "echo"}}), ok(json::object()));
}

TEST(ServerSocket, StaleSocketFileIsReplaced) {
    TestServer server;
    {
        // What a crashed daemon leaves: a bound socket file with no listener behind it.
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, server.path().c_str(), sizeof(addr.sun_path) - 1);
        ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        close(fd);
    }
    ASSERT_TRUE(std::filesystem::exists(server.path()));
    auto started = server.start();
    ASSERT_TRUE(started) << started.message();
    TestClient c(server.path());
    EXPECT_EQ(c.call({{"cmd", "echo"}}), ok(json::object()));
}

TEST(ServerSocket, SecondServerOnALivePathRefusesToStart) {
    TestServer first;
    ASSERT_TRUE(first.start());
    {
        EventLoop loop;
        CommandRegistry registry;
        ControlServer second(loop, registry, ServerOptions{.path = first.path()});
        const Status st = second.start();
        ASSERT_FALSE(st);
        EXPECT_EQ(st.message(), "another dpdockd is already serving " + first.path());
    }  // the refused server must not unlink the live one's socket
    TestClient c(first.path());
    EXPECT_EQ(c.call({{"cmd", "echo"}}), ok(json::object()));
}

TEST(ServerSocket, RefusesToReplaceSomethingThatIsNotASocket) {
    TestServer server;
    { std::ofstream(server.path()) << "precious"; }
    const Status st = server.start();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.message(), server.path() + " exists and is not a socket");
    std::ifstream in(server.path());
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

TEST(ServerSocket, PathTooLongIsAnError) {
    EventLoop loop;
    CommandRegistry registry;
    ControlServer server(loop, registry, ServerOptions{.path = "/tmp/" + std::string(200, 'x')});
    EXPECT_FALSE(server.start());
}

}  // namespace
}  // namespace dpdock::control::test
