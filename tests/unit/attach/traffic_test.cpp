// The test-support traffic helpers proven on a plain veth between two
// namespaces (no dataplane): they pass when the path works and fail, with a
// useful message, when it does not. Root only.
#include "tests/support/traffic.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>

#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

using namespace std::chrono_literals;

const Ipv4Address kLeftIp = *Ipv4Address::parse("10.77.0.1");
const Ipv4Address kRightIp = *Ipv4Address::parse("10.77.0.2");

class TrafficTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<Netns> left = Netns::create("dptl");
        ASSERT_TRUE(left.ok()) << left.message();
        left_.emplace(std::move(*left));
        Result<Netns> right = Netns::create("dptr");
        ASSERT_TRUE(right.ok()) << right.message();
        right_.emplace(std::move(*right));
        Result<VethPair> veth = VethPair::create(&*left_, &*right_);
        ASSERT_TRUE(veth.ok()) << veth.message();
        veth_.emplace(std::move(*veth));
        Status a = veth_->up_with_address(VethPair::Side::A, Ipv4Cidr(kLeftIp, 24));
        ASSERT_TRUE(a.ok()) << a.message();
        Status b = veth_->up_with_address(VethPair::Side::B, Ipv4Cidr(kRightIp, 24));
        ASSERT_TRUE(b.ok()) << b.message();
    }

    // Declared in this order so the pair goes before its namespaces.
    std::optional<Netns> left_;
    std::optional<Netns> right_;
    std::optional<VethPair> veth_;
};

TEST_F(TrafficTest, NetnsExecSeesItsOwnInterfaces) {
    EXPECT_EQ(left_->exec("ip link show " + veth_->a_name() + " >/dev/null"), 0);
    EXPECT_NE(left_->exec("ip link show " + veth_->b_name() + " 2>/dev/null"), 0);
    EXPECT_NE(right_->exec_output("ip -o -4 addr").find("inet 10.77.0.2/24"), std::string::npos);
}

TEST_F(TrafficTest, PingReachesPeerAndFailsForMissingHost) {
    EXPECT_TRUE(ping(*left_, kRightIp, 3, 5));
    EXPECT_FALSE(ping(*left_, *Ipv4Address::parse("10.77.0.99"), 1, 1));
}

TEST_F(TrafficTest, TcpTransferVerifiesEveryByte) {
    Result<FlowReport> report = tcp_transfer(direct_flow(*right_, kRightIp, 5001, *left_), 4u << 20);
    ASSERT_TRUE(report.ok()) << report.message();
    EXPECT_EQ(report->client_ip, kLeftIp);
    EXPECT_NE(report->client_port, 0);
}

TEST_F(TrafficTest, TcpTransferOfZeroBytesStillConnects) {
    Status done = tcp_transfer(*right_, kRightIp, 5002, *left_, 0);
    EXPECT_TRUE(done.ok()) << done.message();
}

TEST_F(TrafficTest, TcpTransferReportsRefusedConnection) {
    FlowSpec flow = direct_flow(*right_, kRightIp, 5003, *left_);
    flow.connect_port = 5004;  // nobody listens there

    Result<FlowReport> report = tcp_transfer(flow, 1024);

    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.message().find("Connection refused"), std::string::npos) << report.message();
}

TEST_F(TrafficTest, TcpTransferReportsBindFailure) {
    Status done = tcp_transfer(*right_, *Ipv4Address::parse("10.77.0.50"), 5005, *left_, 1024);
    ASSERT_FALSE(done.ok());
    EXPECT_NE(done.message().find("bind 10.77.0.50:5005"), std::string::npos) << done.message();
}

TEST_F(TrafficTest, UdpExchangeEchoesEveryDatagram) {
    Result<FlowReport> report = udp_exchange(direct_flow(*right_, kRightIp, 5006, *left_), 50, 1000);
    ASSERT_TRUE(report.ok()) << report.message();
    EXPECT_EQ(report->client_ip, kLeftIp);
}

TEST_F(TrafficTest, UdpExchangeFailsWithoutServer) {
    FlowSpec flow = direct_flow(*right_, kRightIp, 5007, *left_);
    flow.connect_port = 5008;
    Result<FlowReport> report = udp_exchange(flow, 1, 64);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.message().find("datagram 0: no echo"), std::string::npos) << report.message();
}

TEST_F(TrafficTest, ContinuousStreamFlowsUntilStopped) {
    Result<ContinuousTcpStream> stream = ContinuousTcpStream::start(direct_flow(*right_, kRightIp, 5009, *left_));
    ASSERT_TRUE(stream.ok()) << stream.message();

    EXPECT_TRUE(wait_until([&] { return stream->bytes_verified() > (512u << 10); }, 10000ms));
    Status stopped = stream->stop();
    EXPECT_TRUE(stopped.ok()) << stopped.message();
}

TEST_F(TrafficTest, ContinuousStreamReportsStall) {
    Result<ContinuousTcpStream> stream =
        ContinuousTcpStream::start(direct_flow(*right_, kRightIp, 5010, *left_), 300ms);
    ASSERT_TRUE(stream.ok()) << stream.message();
    ASSERT_TRUE(wait_until([&] { return stream->bytes_verified() > (64u << 10); }, 10000ms));

    ASSERT_EQ(right_->exec("ip link set " + veth_->b_name() + " down"), 0);
    std::this_thread::sleep_for(1500ms);
    ASSERT_EQ(right_->exec("ip link set " + veth_->b_name() + " up"), 0);
    const std::uint64_t before = stream->bytes_verified();
    EXPECT_TRUE(wait_until([&] { return stream->bytes_verified() > before; }, 15000ms));  // TCP recovers

    Status stopped = stream->stop();
    ASSERT_FALSE(stopped.ok());
    EXPECT_NE(stopped.message().find("stalled for"), std::string::npos) << stopped.message();
}

}  // namespace
}  // namespace dpdock::test
