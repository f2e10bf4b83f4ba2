// HostInterface: the exception interface (dpdock0, docker0's twin) as the
// control thread runs it. open() creates it through DPDK's net_tap in the
// daemon's netns (virtio_user + vhost-net would be faster where
// /dev/vhost-net exists; the TAP PMD works everywhere), fill() places it in a
// snapshot (role Host, its kernel MAC), close_unwanted() removes it once a
// snapshot without it is out, and sync_addresses() keeps the kernel's
// addresses on it (uplink address, every gateway, hence the connected routes)
// equal to the deployment's. Control thread only.
#pragma once

#include <optional>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"
#include "config/model.hpp"
#include "dataplane/dataplane.hpp"

namespace dpdock::control {

class HostInterface {
public:
    // State::clear() closes it at shutdown (the deployment it converges to has no exception path).
    explicit HostInterface(dataplane::Dataplane& dp) : dp_(dp) {}
    HostInterface(const HostInterface&) = delete;
    HostInterface& operator=(const HostInterface&) = delete;

    // Opens the interface `spec` asks for when it is not open yet. One that
    // is open but no longer wanted (off, or another name) stays until
    // close_unwanted(); fill() already leaves it out.
    Status open(const config::ExceptionSpec& spec);
    void fill(dataplane::ForwardingSnapshot& snap) const;
    // True when it closed one (the caller opens the renamed one, if wanted).
    bool close_unwanted();
    // Adds the wanted addresses that are missing, deletes the others it added.
    Status sync_addresses(const std::optional<Ipv4Cidr>& uplink, const std::vector<Ipv4Cidr>& gateways);

    std::optional<PortId> port() const { return open_ ? std::optional<PortId>(open_->port) : std::nullopt; }

private:
    struct Open {
        std::string name;
        PortId port = kNoPort;
        MacAddress kernel_mac;
        std::vector<Ipv4Cidr> addresses;  // as installed
    };

    dataplane::Dataplane& dp_;
    std::optional<Open> open_;
    bool wanted_ = false;  // open_ is what the deployment asks for
    std::uint32_t punt_rate_ = 0;  // the deployment's exception.punt-rate / punt-burst
    std::uint32_t punt_burst_ = 0;
};

}  // namespace dpdock::control
