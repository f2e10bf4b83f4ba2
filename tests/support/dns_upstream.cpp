#include "tests/support/dns_upstream.hpp"

#include <chrono>
#include <vector>

namespace dpdock::test {

Result<ChildProcess> start_dns_upstream(const std::string& netns, int port, const std::string& log_path) {
    const std::string in = netns.empty() ? "" : "ip netns exec " + netns + " ";
    std::vector<std::string> argv{"dnsmasq",      "--no-daemon", "--port=" + std::to_string(port),
                                  "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                                  "--no-hosts",   "--pid-file",  "--address=/example.test/192.0.2.7"};
    if (!netns.empty()) argv.insert(argv.begin(), {"ip", "netns", "exec", netns});
    auto p = ChildProcess::spawn(argv, log_path);
    if (!p) return p;
    const std::string probe = in + "dig +time=1 +tries=1 -p " + std::to_string(port) +
                              " @127.0.0.1 +short x.example.test >/dev/null 2>&1";
    if (!wait_until([&] { return shell(probe) == 0; }, std::chrono::seconds(5))) {
        return Status::error("dnsmasq did not answer on port " + std::to_string(port));
    }
    return p;
}

}  // namespace dpdock::test
