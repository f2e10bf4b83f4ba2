#include "dataplane/fastpath/worker.hpp"

#include <sched.h>
#include <sys/prctl.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dataplane/doorbells.hpp"
#include "dataplane/fastpath/idle_backoff.hpp"
#include "dataplane/fastpath/idle_wait.hpp"
#include "dataplane/fastpath/pipeline.hpp"
#include "dataplane/fastpath/spread.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "dataplane/kernel_port/fastpath/kernel_port_io.hpp"

namespace dpdock::dataplane {

std::uint64_t worker_poll(WorkerContext& ctx) {
    // One TSC read per iteration (one costs 50-59 cycles in this guest): a poll that follows
    // another at once starts when that one ended.
    const std::uint64_t start = ctx.poll_start != 0 ? ctx.poll_start : rte_rdtsc();
    const dataplane::ForwardingSnapshot* snap = ctx.snapshot->read();
    std::uint64_t received = 0;
    if (snap != nullptr) ctx.tx.set_offload_ports(snap->offload_ports);
    if (snap != nullptr && ctx.index < snap->rx_queues.size()) {
        rte_mbuf* pkts[kMaxBurst];
        for (const dataplane::RxQueue& rxq : snap->rx_queues[ctx.index]) {
            const PortId port = rxq.port;
            if (rxq.kernel != nullptr) kernel_port_receive(ctx, *rxq.kernel);
            const std::uint16_t n = rte_eth_rx_burst(port, rxq.queue, pkts, ctx.burst);
            if (n == 0) continue;
            if (ctx.woke_at != 0) {
                sync::bump(ctx.counters->idle_wake_to_rx_cycles, rte_rdtsc() - ctx.woke_at);
                ctx.woke_at = 0;
            }
            received += n;
            sync::PortCounters& pc = ctx.counters->ports[port];
            sync::bump(pc.rx_packets, n);
            std::uint64_t bytes = 0;
            for (std::uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
            sync::bump(pc.rx_bytes, bytes);
            if (ctx.capture != nullptr) capture::capture_rx(*ctx.capture, ctx.index, port, rxq.queue, pkts, n);
            process_burst(ctx, *snap, pkts, n, start);
        }
    }
    // Packets of flows this worker owns, received by the workers that poll their ports.
    const unsigned handed_in = snap != nullptr && ctx.spread != nullptr ? take_spread(ctx, *snap, start) : 0;
    if (snap != nullptr && ctx.pending.count != 0) service_pending(ctx, *snap, start);
    // Packets for the host's kernel are work too: the worker of dpdock0 stays awake for them.
    const unsigned punted = snap != nullptr && snap->host ? drain_punts(ctx, *snap) : 0;
    if (snap != nullptr && ctx.dns != nullptr) send_dns_replies(ctx, *snap);
    ctx.tx.flush_all();
    if (snap != nullptr) {
        for (const KernelPortIo* kernel : snap->kernel_ports) kernel_port_transmit(ctx, *kernel);
    }
    sync::bump(ctx.counters->loops);
    ctx.rcu->quiescent(ctx.index);
    if (received != 0) sync::bump(ctx.counters->rx_packets, received);
    const std::uint64_t end = rte_rdtsc();
    ctx.poll_start = end;
    if (received + handed_in != 0) {
        sync::bump(ctx.counters->busy_packets, received + handed_in);
        sync::bump(ctx.counters->busy_cycles, end - start);
    }
    return received + handed_in + punted;
}

namespace {

// After an idle wait: what ended it, and whether the poll after it found packets.
void count_wake(WorkerContext& ctx, bool by_fd, bool received, std::uint64_t waited) {
    sync::WorkerCounters& c = *ctx.counters;
    sync::bump(c.idle_waits);
    sync::bump(c.idle_cycles, waited);
    if (by_fd) sync::bump(c.idle_fd_wakes);
    if (received) sync::bump(by_fd ? c.idle_rx_fd_wakes : c.idle_rx_timeouts);
}

// The last look before an idle wait, after the doorbell is armed: packets
// another worker or the DNS thread handed over before it saw the doorbell armed.
bool handoffs_waiting(const WorkerContext& ctx) {
    const ForwardingSnapshot* snap = ctx.snapshot->read();
    return spread_waiting(ctx) || (snap != nullptr && punts_waiting(ctx, *snap)) || dns_replies_waiting(ctx);
}

// The timer slack of a timed wait: the kernel's default (50 us) would add
// up to 50 us to every wait that ends by its timeout.
constexpr unsigned long kTimerSlackNs = 1000;

}  // namespace

int worker_main(void* arg) {
    auto& ctx = *static_cast<WorkerContext*>(arg);
    prctl(PR_SET_TIMERSLACK, kTimerSlackNs);
    ctx.rcu->register_reader(ctx.index);
    ctx.rcu->online(ctx.index);
    IdleBackoff idle(ctx.idle_sleep_us, ctx.idle_sleep_max_us, ctx.idle_poll_cycles);
    IdleWaitList waits;
    bool waited = false, by_fd = false;
    std::uint64_t wait_cycles = 0;
    while (!ctx.stop->load(std::memory_order_relaxed)) {
        const std::uint64_t received = worker_poll(ctx);  // ends with ctx.poll_start = its end (TSC)
        if (waited) count_wake(ctx, by_fd, received != 0, wait_cycles);
        waited = false;
        ctx.woke_at = 0;
        if (const std::uint32_t sleep_us = idle.after_poll(received, ctx.poll_start); sleep_us != 0) {
            const int doorbell = ctx.doorbells != nullptr ? ctx.doorbells->fd(ctx.index) : -1;
            // What happens between two polls from here on is not a poll's time.
            ctx.poll_start = 0;
            if (doorbell >= 0) {
                ctx.doorbells->arm(ctx.index);
                if (handoffs_waiting(ctx)) {
                    ctx.doorbells->disarm(ctx.index, false);
                    continue;
                }
            }
            collect_wake_fds(ctx.snapshot->read(), ctx.index, doorbell, waits);
            ctx.rcu->offline(ctx.index);
            const std::uint64_t start = rte_rdtsc();
            by_fd = idle_wait(waits, sleep_us);
            ctx.woke_at = rte_rdtsc();
            wait_cycles = ctx.woke_at - start;
            waited = true;
            if (doorbell >= 0) ctx.doorbells->disarm(ctx.index, doorbell_rung(waits, doorbell));
            ctx.rcu->online(ctx.index);
        } else if (received == 0 && ctx.idle_sleep_us != 0) {
            // An empty poll in the poll window: a process woken on this CPU
            // (a container's, whose packet the worker just delivered) runs
            // now instead of after the worker's time slice.
            sched_yield();
            ctx.poll_start = 0;
        }
    }
    // Packets still waiting for ARP go back to the pool before the ports close.
    for (unsigned i = 0; i < ctx.pending.count; ++i) drop_packet(ctx, ctx.pending.slots[i].m, DropReason::NoRoute);
    ctx.pending.count = 0;
    ctx.rcu->offline(ctx.index);
    ctx.rcu->unregister_reader(ctx.index);
    return 0;
}

}  // namespace dpdock::dataplane
