#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

namespace dpdock::test {
namespace {

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& log_path) {
    if (argv.empty()) return Status::error("spawn: empty argv");
    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) return Status::error("spawn: open " + log_path + ": " + std::strerror(errno));
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        const int err = errno;
        ::close(log_fd);
        return Status::error(std::string("spawn: pipe: ") + std::strerror(err));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(log_fd);
        ::close(report[0]);
        ::close(report[1]);
        return Status::error(std::string("spawn: fork: ") + std::strerror(err));
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        sigset_t all;
        ::sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::execvp(args[0], args.data());
        const int err = errno;
        [[maybe_unused]] ssize_t ignored = ::write(report[1], &err, sizeof(err));
        ::_exit(127);
    }
    ::close(log_fd);
    ::close(report[1]);
    int exec_errno = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &exec_errno, sizeof(exec_errno));
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    ChildProcess child(pid);
    if (n > 0) {
        child.reap(0);
        return Status::error("spawn: exec " + argv[0] + ": " + std::strerror(exec_errno));
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exited_(other.exited_), exit_code_(other.exit_code_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, -1);
        exited_ = other.exited_;
        exit_code_ = other.exit_code_;
    }
    return *this;
}

ChildProcess::~ChildProcess() { kill_and_reap(); }

void ChildProcess::kill_and_reap() {
    if (pid_ > 0 && !exited_) {
        ::kill(pid_, SIGKILL);
        reap(0);
    }
}

bool ChildProcess::reap(int flags) {
    if (exited_) return true;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        exited_ = true;
        exit_code_ = exit_code_of(status);
        return true;
    }
    if (r < 0) {  // ECHILD: someone else reaped it; it is gone either way
        exited_ = true;
        exit_code_ = -1;
        return true;
    }
    return false;
}

bool ChildProcess::running() { return pid_ > 0 && !reap(WNOHANG); }

Status ChildProcess::send_signal(int signal) {
    if (pid_ <= 0 || exited_ || reap(WNOHANG)) return Status::error("pid " + std::to_string(pid_) + " is not running");
    if (::kill(pid_, signal) != 0) return Status::error("kill " + std::to_string(pid_) + ": " + std::strerror(errno));
    return Status();
}

Result<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return Status::error("no process");
    const bool done = wait_until([this] { return reap(WNOHANG); }, timeout, std::chrono::milliseconds(10));
    if (!done) {
        return Status::error("pid " + std::to_string(pid_) + " still running after " + std::to_string(timeout.count()) +
                             " ms");
    }
    return exit_code_;
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (predicate()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(poll_interval);
    }
}

int shell(const std::string& command) {
    const int status = std::system(command.c_str());
    if (status == -1) return -1;
    return exit_code_of(status);
}

std::string shell_output(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "re");
    if (pipe == nullptr) return out;
    std::array<char, 4096> chunk{};
    std::size_t n;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) out.append(chunk.data(), n);
    ::pclose(pipe);
    return out;
}

std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

}  // namespace dpdock::test
