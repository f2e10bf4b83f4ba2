// ChildProcess and wait_until: exit codes, signals, timeouts, cleanup on destruction.
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace dpdock::test {
namespace {

using namespace std::chrono_literals;

struct TempLog {
    std::string path =
        "/tmp/dpdock-attach-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log";
    ~TempLog() { std::remove(path.c_str()); }
    std::string read() const {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    static inline int counter = 0;
};

TEST(ChildProcessTest, CapturesOutputAndExitCode) {
    TempLog log;
    Result<ChildProcess> child = ChildProcess::spawn({"sh", "-c", "echo out; echo err >&2; exit 7"}, log.path);
    ASSERT_TRUE(child.ok()) << child.message();

    Result<int> code = child->wait_for_exit(5000ms);

    ASSERT_TRUE(code.ok()) << code.message();
    EXPECT_EQ(*code, 7);
    EXPECT_EQ(log.read(), "out\nerr\n");
}

TEST(ChildProcessTest, SignalEndsChild) {
    TempLog log;
    Result<ChildProcess> child = ChildProcess::spawn({"sleep", "30"}, log.path);
    ASSERT_TRUE(child.ok()) << child.message();
    EXPECT_TRUE(child->running());

    ASSERT_TRUE(child->send_signal(SIGTERM).ok());
    Result<int> code = child->wait_for_exit(5000ms);

    ASSERT_TRUE(code.ok()) << code.message();
    EXPECT_EQ(*code, 128 + SIGTERM);
    EXPECT_FALSE(child->running());
    EXPECT_FALSE(child->send_signal(SIGTERM).ok());
}

TEST(ChildProcessTest, WaitTimesOutAndDestructorKills) {
    TempLog log;
    pid_t pid = -1;
    {
        Result<ChildProcess> child = ChildProcess::spawn({"sleep", "30"}, log.path);
        ASSERT_TRUE(child.ok()) << child.message();
        pid = child->pid();
        Result<int> code = child->wait_for_exit(100ms);
        EXPECT_FALSE(code.ok());
        EXPECT_NE(code.message().find("still running"), std::string::npos) << code.message();
    }
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
}

TEST(ChildProcessTest, MissingProgramIsAnError) {
    TempLog log;
    Result<ChildProcess> child = ChildProcess::spawn({"/nonexistent/dpdock-program"}, log.path);
    ASSERT_FALSE(child.ok());
    EXPECT_NE(child.message().find("No such file or directory"), std::string::npos) << child.message();
}

TEST(WaitUntilTest, ReturnsWhenPredicateHoldsOrTimesOut) {
    int calls = 0;
    EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 5000ms, 1ms));
    EXPECT_EQ(calls, 3);
    EXPECT_FALSE(wait_until([] { return false; }, 20ms, 5ms));
}

TEST(ShellTest, QuotesAndExitCodes) {
    EXPECT_EQ(shell("exit 3"), 3);
    EXPECT_EQ(shell_output("printf '%s' " + shell_quote("it's")), "it's");
}

}  // namespace
}  // namespace dpdock::test
