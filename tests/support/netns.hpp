// Network namespaces and veth pairs for tests, each with a unique name (pid +
// counter) and removed by its destructor even when the test fails.
// Namespaces are made with `ip netns add`, so they are visible under
// /run/netns and usable from `ip netns exec` as well as in-process via run_in().
// Threading: objects belong to the test thread; run_in() starts its own thread.
#pragma once

#include <functional>
#include <string>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::test {

class Netns {
public:
    // Creates "<prefix>-<pid>-<counter>".
    static Result<Netns> create(const std::string& prefix = "dpdock");

    Netns(Netns&& other) noexcept;
    Netns& operator=(Netns&& other) noexcept;
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    ~Netns();

    const std::string& name() const { return name_; }
    std::string path() const { return "/run/netns/" + name_; }
    // `ip netns exec NAME sh -c shell_cmd`; returns its exit code.
    int exec(const std::string& shell_cmd) const;
    // Its stdout.
    std::string exec_output(const std::string& shell_cmd) const;

private:
    explicit Netns(std::string name) : name_(std::move(name)) {}
    void remove();

    std::string name_;
};

// Netns::create for test set-up: throws (failing the test) when it cannot.
Netns make_netns(const std::string& prefix);

// Runs fn on a new thread that joined ns (setns), and waits for it: sockets fn
// opens belong to ns. Error if the thread could not enter the namespace.
Status run_in(const Netns& ns, const std::function<void()>& fn);

// A veth pair whose ends sit in the given namespaces (nullptr = the test's own
// netns). Ends are named unique_ifname(tag) + "a" / "b". Deleting one end
// deletes both; a namespace deleted first takes its end (and so the pair) along.
class VethPair {
public:
    enum class Side { A, B };

    static Result<VethPair> create(const Netns* a_ns, const Netns* b_ns, const std::string& tag = "tv");

    VethPair(VethPair&& other) noexcept;
    VethPair& operator=(VethPair&& other) noexcept;
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;
    ~VethPair();

    const std::string& a_name() const { return a_name_; }
    const std::string& b_name() const { return b_name_; }
    // Adds address to that end and sets it (and lo of its netns) up.
    Status up_with_address(Side side, const Ipv4Cidr& address) const;

private:
    VethPair(std::string a_netns, std::string b_netns, std::string a_name, std::string b_name)
        : a_netns_(std::move(a_netns)),
          b_netns_(std::move(b_netns)),
          a_name_(std::move(a_name)),
          b_name_(std::move(b_name)) {}
    void remove();

    std::string a_netns_;  // empty: the test's own netns
    std::string b_netns_;
    std::string a_name_;
    std::string b_name_;
};

// "<tag (3 chars max)><pid: 6 hex><counter: 3 hex>": unique per process, <= 12 characters.
std::string unique_ifname(const std::string& tag);

}  // namespace dpdock::test
