// dpdock capture [PORT] -w FILE [-c N] [--duration S]: the daemon writes the
// packets it receives on PORT (a name from `dpdock stats`, or all ports) to a
// pcapng file (tcpdump -r, wireshark) until N packets or S seconds; the CLI
// waits for the end and says how many it wrote. FILE is made absolute here.
#include <filesystem>
#include <iostream>
#include <thread>

#include "control/cli/subcommands.hpp"

namespace dpdock::cli {

int run_capture(Context& ctx, const std::vector<std::string>& args) {
    po::options_description options;
    options.add_options()("write,w", po::value<std::string>()->value_name("FILE"), "the pcapng file to write")(
        "count,c", po::value<std::int64_t>()->value_name("N"), "stop after N packets")(
        "duration", po::value<std::int64_t>()->value_name("S"), "stop after S seconds");
    auto parsed = parse_args_with_operands(ctx, args, options, 1);
    if (!parsed.values) return parsed.exit_code;
    const auto& v = *parsed.values;
    if (!v.count("write")) return usage_error(ctx, "-w FILE is required");
    if (!v.count("count") && !v.count("duration")) return usage_error(ctx, "give -c N, --duration S or both");
    nlohmann::json request = {{"file", std::filesystem::absolute(v["write"].as<std::string>()).string()}};
    if (const auto port = operands(v); !port.empty()) request["port"] = port.front();
    if (v.count("count")) request["count"] = v["count"].as<std::int64_t>();
    if (v.count("duration")) request["seconds"] = v["duration"].as<std::int64_t>();
    auto status = ctx.call("capture.start", request);
    while (status && (*status)["running"].get<bool>()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        status = ctx.call("capture.status");
    }
    return print_result(ctx, status, [](const nlohmann::json& r) {
        std::cout << r["packets"].get<std::uint64_t>() << " packets captured to " << r["file"].get<std::string>();
        if (r["missed"].get<std::uint64_t>() != 0) std::cout << " (" << r["missed"] << " missed)";
        if (!r["error"].get<std::string>().empty()) std::cout << "; " << r["error"].get<std::string>();
        std::cout << "\n";
    });
}

}  // namespace dpdock::cli
