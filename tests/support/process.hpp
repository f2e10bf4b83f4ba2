// Child processes and shell commands for tests: start a daemon with its output
// in a log file, signal it, wait for its exit with a timeout; run `ip` and
// friends and read their output. A ChildProcess is SIGKILLed and reaped when
// it goes out of scope, and gets SIGKILL if the thread that spawned it ends
// (PR_SET_PDEATHSIG), so a crashed test leaves no daemon behind.
// Threading: a ChildProcess belongs to one thread; spawn it from a thread that
// lives as long as the child should (normally the test's main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/util/status.hpp"

namespace dpdock::test {

class ChildProcess {
public:
    // argv[0] is looked up in PATH; stdout and stderr go to log_path (truncated).
    static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const std::string& log_path);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    bool running();
    Status send_signal(int signal);
    // Exit code, or 128 + signal number when a signal ended it (shell convention);
    // an error if it is still running after timeout.
    Result<int> wait_for_exit(std::chrono::milliseconds timeout);

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    bool reap(int flags);
    void kill_and_reap();

    pid_t pid_ = -1;
    bool exited_ = false;
    int exit_code_ = 0;
};

// Polls predicate every poll_interval until it returns true (true) or timeout passes (false).
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50));

// `sh -c command` in the test's own netns; returns the exit code (-1 if it could not run).
int shell(const std::string& command);
// stdout of `sh -c command`; stderr is passed through to the test log.
std::string shell_output(const std::string& command);

// Quotes text for sh: 'text' with embedded quotes escaped.
std::string shell_quote(const std::string& text);

}  // namespace dpdock::test
