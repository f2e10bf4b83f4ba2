// dpdock stats [--all] [--watch]: the daemon's "stats.show" as three tables
// (ports, drop reasons, workers); the drop table lists only the reasons that
// counted something unless --all; --watch re-prints every second until
// interrupted. dpdock stats clear: the daemon's "stats.clear".
#include <unistd.h>

#include <iostream>
#include <thread>

#include "control/cli/subcommands.hpp"
#include "control/cli/table_printer.hpp"

namespace dpdock::cli {
namespace {

struct Column {
    const char* header;
    const char* key;
};

constexpr Column kPortColumns[] = {{"port", "port_id"},       {"name", "name"},         {"rx packets", "rx_packets"},
                                   {"rx bytes", "rx_bytes"},   {"tx packets", "tx_packets"}, {"tx bytes", "tx_bytes"},
                                   {"drops", "drops"}};
constexpr Column kWorkerColumns[] = {{"worker", "worker"},         {"lcore", "lcore"}, {"rx packets", "rx_packets"},
                                     {"tx packets", "tx_packets"}, {"handed out", "spread_out"},
                                     {"taken in", "spread_in"},    {"loops", "loops"},
                                     {"cycles/pkt", "cycles_per_packet"}};

nlohmann::json field(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nlohmann::json() : *it;
}

template <std::size_t N>
void print_objects(std::ostream& out, const nlohmann::json& rows, const Column (&columns)[N]) {
    std::vector<std::string> headers;
    for (const Column& column : columns) headers.emplace_back(column.header);
    TablePrinter table(std::move(headers));
    if (rows.is_array()) {
        for (const auto& row : rows) {
            std::vector<std::string> cells;
            for (const Column& column : columns) cells.push_back(cell(field(row, column.key)));
            table.add_row(std::move(cells));
        }
    }
    table.print(out);
}

// Like `ip -s link`, a table of two dozen zeros hides the one row that matters.
void print_drops(std::ostream& out, const nlohmann::json& reasons, bool all) {
    TablePrinter drops({"drop reason", "packets"});
    std::size_t zero = 0;
    if (reasons.is_object()) {
        for (const auto& [reason, count] : reasons.items()) {
            if (all || !(count.is_number() && count == 0)) {
                drops.add_row({reason, cell(count)});
            } else {
                ++zero;
            }
        }
    }
    drops.print(out);
    if (zero > 0) out << "(" << zero << " more at zero; --all shows them)\n";
}

// Each worker's idle waits: what woke it and how long a packet found it asleep.
void print_idle(std::ostream& out, const nlohmann::json& workers) {
    TablePrinter table({"worker", "idle waits", "fd wakes", "timeouts", "rx after fd", "rx after timeout",
                        "wait us avg", "wake->rx us avg"});
    if (!workers.is_array() || workers.empty() || !field(workers[0], "idle").is_object()) return;  // an older daemon
    for (const auto& w : workers) {
        const auto idle = field(w, "idle");
        table.add_row({cell(field(w, "worker")), cell(field(idle, "waits")), cell(field(idle, "fd_wakes")),
                       cell(field(idle, "timeouts")), cell(field(idle, "rx_after_fd_wake")),
                       cell(field(idle, "rx_after_timeout")), cell(field(idle, "wait_us_avg")),
                       cell(field(idle, "wake_to_rx_us_avg"))});
    }
    out << "\n";
    table.print(out);
}

void print_stats(std::ostream& out, const nlohmann::json& stats, bool all) {
    print_objects(out, field(stats, "ports"), kPortColumns);
    out << "\n";
    print_drops(out, field(stats, "drops"), all);
    if (const auto icmp = field(stats, "icmp_errors"); icmp.is_object()) {
        out << "icmp errors sent " << cell(field(icmp, "sent")) << ", suppressed " << cell(field(icmp, "suppressed"))
            << "\n";
    }
    if (const auto offload = field(stats, "offload"); offload.is_object()) {
        out << "checksums completed " << cell(field(offload, "checksum_completed")) << ", super-frames segmented "
            << cell(field(offload, "gso_frames")) << " into " << cell(field(offload, "gso_segments")) << "\n";
    }
    if (const auto frag = field(stats, "fragmentation"); frag.is_object()) {
        out << "datagrams fragmented " << cell(field(frag, "datagrams")) << " into " << cell(field(frag, "fragments"))
            << "\n";
    }
    if (const auto dns = field(stats, "dns"); dns.is_object()) {
        out << "dns queries " << cell(field(dns, "queries")) << ": answered " << cell(field(dns, "answered"))
            << ", no data " << cell(field(dns, "nodata")) << ", forwarded " << cell(field(dns, "forwarded"))
            << ", servfail " << cell(field(dns, "servfail")) << ", refused " << cell(field(dns, "refused"))
            << ", malformed " << cell(field(dns, "malformed")) << ", rate limited " << cell(field(dns, "rate_limited"))
            << "\n";
    }
    out << "\n";
    const auto workers = field(stats, "workers");
    print_objects(out, workers, kWorkerColumns);
    print_idle(out, workers);
}

}  // namespace

int run_stats(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options("Options");
    options.add_options()("all,a", "list every drop reason, also those at zero")(
        "watch,w", "re-print every second until interrupted");
    auto parsed = parse_args(ctx, args, options);
    if (!parsed.values) return parsed.exit_code;
    const bool watch = parsed.values->count("watch") > 0;
    const bool all = parsed.values->count("all") > 0;
    const bool clear_screen = watch && ctx.format == Format::Table && isatty(STDOUT_FILENO);

    for (;;) {
        auto stats = ctx.call("stats.show");
        if (!stats) return report_error(stats.status());
        if (clear_screen) std::cout << "\033[H\033[2J";
        if (ctx.format == Format::Json) {
            // One document per line under --watch, so a script can read them as a stream.
            if (watch) {
                std::cout << stats->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            } else {
                print_json(std::cout, *stats);
            }
        } else {
            print_stats(std::cout, *stats, all);
        }
        std::cout.flush();
        if (!watch) return kExitOk;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

int run_stats_clear(Context& ctx, const std::vector<std::string>& args) {
    auto parsed = parse_args(ctx, args, po::options_description("Options"));
    if (!parsed.values) return parsed.exit_code;
    return print_result(ctx, ctx.call("stats.clear"), [](const nlohmann::json&) {});
}

}  // namespace dpdock::cli
