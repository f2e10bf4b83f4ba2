// capture.start / capture.status / capture.stop: `dpdock capture` (the
// dataplane's CaptureService, capture/). A port is named as stats.show names
// it ("c1/bridge", "uplink", "exception") or by its id; none: every port.
#include <filesystem>

#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxSeconds = 3600;

Result<std::uint32_t> port_named(CommandContext& ctx, const std::string& name) {
    for (const auto& [port, record] : ctx.dataplane.ports()) {
        if (ctx.state.port_owner(port) == name || std::to_string(port) == name) return std::uint32_t{port};
    }
    return Result<std::uint32_t>::error("no port '" + name + "' (see dpdock stats for the names)");
}

json status_json(const capture::CaptureStatus& s) {
    return {{"running", s.running}, {"file", s.path}, {"packets", s.written}, {"missed", s.missed}, {"error", s.error}};
}

Result<json> capture_start(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"file", "port", "count", "seconds"}); !st) return st;
    auto file = require_string(args, "file");
    if (!file) return file.status();
    if (!std::filesystem::path(*file).is_absolute()) {
        return Result<json>::error("capture file \"" + *file + "\" is relative: give an absolute path");
    }
    if (auto st = check_config_path(ctx.policy, ctx.caller(), *file); !st) return st;
    auto port = optional_string(args, "port");
    auto count = optional_int(args, "count");
    auto seconds = optional_int(args, "seconds");
    if (!port) return port.status();
    if (!count) return count.status();
    if (!seconds) return seconds.status();
    capture::CaptureRequest request;
    request.path = *file;
    if (*port) {
        auto id = port_named(ctx, **port);
        if (!id) return id.status();
        request.port = *id;
    }
    if (*count && **count <= 0) return Result<json>::error("count must be at least 1");
    if (*seconds && (**seconds <= 0 || **seconds > kMaxSeconds)) {
        return Result<json>::error("seconds must be 1.." + std::to_string(kMaxSeconds));
    }
    if (!*count && !*seconds) return Result<json>::error("give count, seconds or both: a capture needs an end");
    request.max_packets = count->value_or(0);
    request.duration = std::chrono::seconds(seconds->value_or(0));
    if (auto st = ctx.dataplane.capture().start(request); !st) return st;
    return status_json(ctx.dataplane.capture().status());
}

}  // namespace

void register_capture_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("capture.start",
                 "write received packets of a port (or all) to a pcapng file until count packets or seconds "
                 "(file, port, count, seconds)",
                 [&ctx](const json& args) { return capture_start(ctx, args); });
    registry.add("capture.status", "the running or last capture: file, packets written, copies missed",
                 [&ctx](const json& args) -> Result<json> {
                     if (auto st = reject_unknown_keys(args, {}); !st) return st;
                     return status_json(ctx.dataplane.capture().status());
                 });
    registry.add("capture.stop", "end the running capture now (the file is complete)",
                 [&ctx](const json& args) -> Result<json> {
                     if (auto st = reject_unknown_keys(args, {}); !st) return st;
                     ctx.dataplane.capture().stop();
                     return status_json(ctx.dataplane.capture().status());
                 });
}

}  // namespace dpdock::control
