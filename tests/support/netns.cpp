#include "tests/support/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

std::atomic<unsigned> g_counter{0};

// `ip` with "-n NETNS" when the end lives in a named namespace.
std::string ip_in(const std::string& netns) { return netns.empty() ? "ip " : "ip -n " + shell_quote(netns) + " "; }

}  // namespace

std::string unique_ifname(const std::string& tag) {
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), "%06x%03x", static_cast<unsigned>(::getpid()) & 0xffffffu,
                  g_counter.fetch_add(1) & 0xfffu);
    return tag.substr(0, 3) + suffix;
}

Result<Netns> Netns::create(const std::string& prefix) {
    const std::string name = prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter.fetch_add(1));
    const int rc = shell("ip netns add " + shell_quote(name));
    if (rc != 0) return Status::error("ip netns add " + name + " failed with exit code " + std::to_string(rc));
    return Netns(name);
}

Netns::Netns(Netns&& other) noexcept : name_(std::exchange(other.name_, std::string())) {}

Netns& Netns::operator=(Netns&& other) noexcept {
    if (this != &other) {
        remove();
        name_ = std::exchange(other.name_, std::string());
    }
    return *this;
}

Netns::~Netns() { remove(); }

void Netns::remove() {
    if (name_.empty()) return;
    shell("ip netns del " + shell_quote(name_) + " 2>/dev/null");
    name_.clear();
}

int Netns::exec(const std::string& shell_cmd) const {
    return shell("ip netns exec " + shell_quote(name_) + " sh -c " + shell_quote(shell_cmd));
}

std::string Netns::exec_output(const std::string& shell_cmd) const {
    return shell_output("ip netns exec " + shell_quote(name_) + " sh -c " + shell_quote(shell_cmd));
}

Netns make_netns(const std::string& prefix) {
    auto ns = Netns::create(prefix);
    if (!ns) throw std::runtime_error(ns.message());
    return std::move(*ns);
}

Status run_in(const Netns& ns, const std::function<void()>& fn) {
    Status entered;
    const std::string path = ns.path();
    std::thread worker([&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            entered = Status::error("open " + path + ": " + std::strerror(errno));
            return;
        }
        const int rc = ::setns(fd, CLONE_NEWNET);
        const int err = errno;
        ::close(fd);
        if (rc != 0) {
            entered = Status::error("setns " + path + ": " + std::strerror(err));
            return;
        }
        fn();
    });
    worker.join();
    return entered;
}

Result<VethPair> VethPair::create(const Netns* a_ns, const Netns* b_ns, const std::string& tag) {
    const std::string base = unique_ifname(tag);
    const std::string a_netns = a_ns != nullptr ? a_ns->name() : std::string();
    const std::string b_netns = b_ns != nullptr ? b_ns->name() : std::string();
    std::string cmd = ip_in(a_netns) + "link add " + base + "a type veth peer name " + base + "b";
    if (!b_netns.empty()) {
        cmd += " netns " + shell_quote(b_netns);
    } else if (!a_netns.empty()) {
        cmd += " netns " + std::to_string(::getpid());  // a pid names that process's netns: ours
    }
    if (int rc = shell(cmd); rc != 0) return Status::error("'" + cmd + "' failed with exit code " + std::to_string(rc));
    return VethPair(a_netns, b_netns, base + "a", base + "b");
}

VethPair::VethPair(VethPair&& other) noexcept
    : a_netns_(std::move(other.a_netns_)),
      b_netns_(std::move(other.b_netns_)),
      a_name_(std::exchange(other.a_name_, std::string())),
      b_name_(std::exchange(other.b_name_, std::string())) {}

VethPair& VethPair::operator=(VethPair&& other) noexcept {
    if (this != &other) {
        remove();
        a_netns_ = std::move(other.a_netns_);
        b_netns_ = std::move(other.b_netns_);
        a_name_ = std::exchange(other.a_name_, std::string());
        b_name_ = std::exchange(other.b_name_, std::string());
    }
    return *this;
}

VethPair::~VethPair() { remove(); }

void VethPair::remove() {
    if (a_name_.empty()) return;
    // Either end takes the pair with it; try b when a's namespace is already gone.
    if (shell(ip_in(a_netns_) + "link del " + a_name_ + " 2>/dev/null") != 0) {
        shell(ip_in(b_netns_) + "link del " + b_name_ + " 2>/dev/null");
    }
    a_name_.clear();
    b_name_.clear();
}

Status VethPair::up_with_address(Side side, const Ipv4Cidr& address) const {
    const std::string& netns = side == Side::A ? a_netns_ : b_netns_;
    const std::string& name = side == Side::A ? a_name_ : b_name_;
    const std::string ip = ip_in(netns);
    const std::string cmd = ip + "addr add " + address.to_string() + " dev " + name + " && " + ip + "link set " + name +
                            " up && " + ip + "link set lo up";
    if (int rc = shell(cmd); rc != 0) return Status::error("'" + cmd + "' failed with exit code " + std::to_string(rc));
    return Status();
}

}  // namespace dpdock::test
