// The embedded DNS does not wait for an idle worker's sleep: an answer the DNS
// thread queues rings worker 0's doorbell (dataplane/doorbells.hpp). The
// worker sleeps a fixed 300 ms here, and the upstream takes 60 ms to answer,
// so the answer arrives long after the worker fell asleep again (the query
// itself wakes it through the container port's socket). Before, the answer
// waited in the replies ring for the end of that sleep.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/dig.hpp"
#include "tests/support/netns.hpp"

namespace dpdock::test {
namespace {

// An upstream on 127.0.0.1:`port` (the test's namespace, where dpdockd's DNS
// thread forwards from) that answers every query after `delay`: the query
// echoed with QR set and no records (NOERROR, empty).
class SlowUpstream {
public:
    SlowUpstream(int port, std::chrono::milliseconds delay) : delay_(delay) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        const timeval tick{0, 100000};  // the loop looks at stop_ this often
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        thread_ = std::thread([this] { serve(); });
    }
    ~SlowUpstream() {
        stop_ = true;
        thread_.join();
        if (fd_ >= 0) close(fd_);
    }
    bool bound() const { return bound_; }
    int answered() const { return answered_; }

private:
    void serve() {
        while (!stop_) {
            std::uint8_t buf[512];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 12) continue;
            std::this_thread::sleep_for(delay_);
            buf[2] |= 0x80;  // QR: a response, same id and question
            buf[3] = 0x80;   // RA, RCODE 0
            sendto(fd_, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
            ++answered_;
        }
    }
    std::chrono::milliseconds delay_;
    int fd_ = -1;
    bool bound_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<int> answered_{0};
    std::thread thread_;
};

// dig's own ";; Query time: N msec" (no process start in it); -1 if absent.
int query_time_ms(const std::string& dig_output) {
    std::smatch m;
    static const std::regex kQueryTime(";; Query time: ([0-9]+) msec");
    return std::regex_search(dig_output, m, kQueryTime) ? std::stoi(m[1]) : -1;
}

TEST(DnsWakeTest, AnUpstreamAnswerWakesTheSleepingWorker) {
    const int port = 20000 + static_cast<int>((getpid() * 16 + 7) % 20000);
    SlowUpstream upstream(port, std::chrono::milliseconds(60));
    ASSERT_TRUE(upstream.bound());
    Netns web = make_netns("dnswake");
    const std::string yaml =
        "dataplane:\n  idle-sleep-us: 300000\n  idle-sleep-max-us: 300000\n"
        "dns:\n  servers: [127.0.0.1]\n  upstream-port: " + std::to_string(port) + "\n"
        "networks:\n  - name: app\n    subnet: 10.66.0.0/24\n"
        "containers:\n  - name: web\n    netns: " + web.path() + "\n    networks: [{name: app, ip: 10.66.0.20}]\n";
    auto d = DpdockdInstance::start(yaml);
    ASSERT_TRUE(d.ok()) << d.message();
    dig(web, "10.66.0.1", "settle.example.test");  // ARP for the gateway settles first
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(350));  // the worker falls asleep
        const std::string out = dig(web, "10.66.0.1", "www" + std::to_string(i) + ".example.test");
        ASSERT_NE(out.find("status: NOERROR"), std::string::npos) << out << "\n" << d->log();
        const int took = query_time_ms(out);
        EXPECT_GE(took, 55) << out;  // the upstream's delay: the answer really came after it
        EXPECT_LT(took, 200) << "#" << i << ": the answer waited for the worker's sleep\n" << out;
    }
    EXPECT_GE(upstream.answered(), 4);
}

}  // namespace
}  // namespace dpdock::test
