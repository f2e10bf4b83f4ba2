// Peer credentials: only root, the daemon's own user and members of the
// configured group are served. Clients run as uid 65534 in forked children
// with chosen groups; the socket file is world-writable here so that the
// check under test is SO_PEERCRED, not the file mode.
#include <grp.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/control/control_test_util.hpp"

namespace dpdock::control::test {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kDaemonGroup = 4242;
constexpr gid_t kOtherGroup = 4243;

enum ChildResult { kServed = 0, kCannotDrop = 10, kCannotConnect = 11, kNoAnswer = 12, kDenied = 20 };

// Only async-signal-safe calls in the child: the parent has a server thread.
// The child sends `request` and exits kServed if the answer is `served_answer`.
int request_as(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::string& path,
               const char* request = "{\"cmd\":\"echo\"}\n",
               const char* served_answer = "{\"ok\":true,\"result\":{}}\n") {
    const pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(kCannotDrop);
        const int fd = connect_unix(path);
        if (fd < 0) _exit(kCannotConnect);
        timeval timeout{10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        [[maybe_unused]] ssize_t sent = send(fd, request, std::strlen(request), MSG_NOSIGNAL);
        static char answer[256];
        std::size_t used = 0;
        while (used < sizeof answer - 1) {
            const ssize_t n = recv(fd, answer + used, sizeof answer - 1 - used, 0);
            if (n <= 0) break;
            used += static_cast<std::size_t>(n);
            if (std::memchr(answer, '\n', used) != nullptr) break;
        }
        answer[used] = '\0';
        if (std::strcmp(answer, "{\"error\":\"permission denied\",\"ok\":false}\n") == 0) _exit(kDenied);
        if (std::strcmp(answer, served_answer) == 0) _exit(kServed);
        _exit(kNoAnswer);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

class Permissions : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "changing uid and groups needs root";
    }
};

TEST_F(Permissions, RootIsServed) {
    TestServer server(ServerOptions{.mode = 0666});
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(0, 0, {}, server.path()), kServed);
}

TEST_F(Permissions, OtherUserIsDeniedWithoutAGroup) {
    TestServer server(ServerOptions{.mode = 0666});
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(kNobody, kDaemonGroup, {kDaemonGroup}, server.path()), kDenied);
}

TEST_F(Permissions, PrimaryGroupMemberIsServed) {
    TestServer server(ServerOptions{.mode = 0666, .group = kDaemonGroup});
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(kNobody, kDaemonGroup, {}, server.path()), kServed);
}

TEST_F(Permissions, SupplementaryGroupMemberIsServed) {
    TestServer server(ServerOptions{.mode = 0666, .group = kDaemonGroup});
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(kNobody, kOtherGroup, {kOtherGroup, kDaemonGroup}, server.path()), kServed);
}

TEST_F(Permissions, NonMemberIsDenied) {
    TestServer server(ServerOptions{.mode = 0666, .group = kDaemonGroup});
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(kNobody, kOtherGroup, {kOtherGroup}, server.path()), kDenied);
}

// Handlers learn who asks (issue 14 item 4): a group member is served but not
// privileged, so the AccessPolicy limits apply to it; root is privileged.
TEST_F(Permissions, HandlersSeeWhetherTheCallerIsPrivileged) {
    TestServer server(ServerOptions{.mode = 0666, .group = kDaemonGroup});
    ASSERT_TRUE(server.start());
    const char* whoami = "{\"cmd\":\"whoami\"}\n";
    EXPECT_EQ(request_as(0, 0, {}, server.path(), whoami, "{\"ok\":true,\"result\":{\"privileged\":true}}\n"),
              kServed);
    EXPECT_EQ(request_as(kNobody, kDaemonGroup, {}, server.path(), whoami,
                         "{\"ok\":true,\"result\":{\"privileged\":false}}\n"),
              kServed);
}

TEST_F(Permissions, FileModeKeepsOthersOutBeforeTheyConnect) {
    TestServer server;  // default 0660 root:root
    ASSERT_TRUE(server.start());
    EXPECT_EQ(request_as(kNobody, kOtherGroup, {}, server.path()), kCannotConnect);
}

}  // namespace
}  // namespace dpdock::control::test
