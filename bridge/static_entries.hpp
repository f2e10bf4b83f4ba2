// The static entries the MAC table must hold (a network's `fdb` entries on
// local ports, remote MACs behind VTEPs): the control thread states the whole
// wanted set after every change, this adds what is missing, removes what is no
// longer wanted, and forgets the entries of ports and networks that went away.
// It remembers what it installed, so a converge touches only the differences.
// Control thread only (it calls MacTable's control-side writers).
#pragma once

#include <compare>
#include <set>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::bridge {

class MacTable;

struct StaticEntry {
    NetworkId network = kNoNetwork;
    MacAddress mac;
    PortId port = kNoPort;  // an ethdev port, or a VTEP pseudo port

    friend auto operator<=>(const StaticEntry&, const StaticEntry&) = default;
};

class StaticEntries {
public:
    explicit StaticEntries(MacTable& macs) : macs_(macs) {}

    // Makes the table's static entries exactly `wanted`: removals first, then
    // additions; stops at the first entry the table refuses and says which.
    Status converge(const std::set<StaticEntry>& wanted);

    // `port` was closed: the table flushed its entries, static ones too.
    void forget_port(PortId port);

    // `network` was removed: its static entries are taken out of the table.
    void remove_network(NetworkId network);

private:
    MacTable& macs_;
    std::set<StaticEntry> installed_;
};

}  // namespace dpdock::bridge
