// The VTEP on the worker: encapsulation towards remote VTEPs (unicast to a
// MAC learned behind one, and head-end replication of flooded frames to every
// peer) and decapsulation of VXLAN arriving on the uplink. Worker-only code;
// the header layout is vxlan/fastpath/vxlan_header.hpp.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// Sends `m`, a frame of an overlay network whose destination MAC sits behind
// `vtep` (a VTEP pseudo port), encapsulated out of the uplink. Not an overlay
// network, or no uplink: dropped (no_route).
void send_to_vtep(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, PortId vtep,
                  std::uint64_t now);

// Head-end replication: one encapsulated copy of `m` to each peer of its
// network, when that is an overlay network and `m` came from a local port
// (frames from the overlay are never sent back into it). `m` is not changed;
// returns how many copies left.
unsigned replicate_to_peers(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m,
                            std::uint64_t now);

// ARP suppression: when `m` (a broadcast from a local port of a network with
// suppression on) is an ARP request for an address the network knows, turns
// it into the answer and sends it back. Returns false when `m` is untouched
// and must be flooded.
bool answer_suppressed_arp(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m);

// Takes VXLAN packets for this host out of an uplink burst: valid ones are
// decapsulated into inner[] (PacketMeta of the inner frame, network = the
// VNI's, ingress port = the sender's VTEP pseudo port), invalid ones dropped
// with a vxlan_* reason. Everything else stays in pkts, compacted; returns
// how many stayed. `now` dates the senders of learned peers. Needs snap.uplink.
std::uint16_t overlay_decap_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                                  std::uint16_t n, rte_mbuf** inner, std::uint16_t& n_inner, std::uint64_t now);

}  // namespace dpdock::dataplane
