// Whole-model rules that no single YAML value can check: names and their
// uniqueness, subnet shapes and overlaps (the default bridge included), address
// and MAC conflicts, dangling references, dataplane limits and the Docker
// network options we accept. Used on YAML input and on every run-time change,
// so errors carry the object's SourcePos (line 0 for CLI-made objects) and its
// key path. Stops at the first problem. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "base/packet/packet_meta.hpp"
#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

// Mbufs kept free for traffic beyond what the ports' rings hold.
inline constexpr std::uint32_t kMinTrafficMbufs = 1024;

Status validate(const Deployment& d);

// The same name rule Docker applies to networks and containers:
// [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 characters.
bool is_valid_name(const std::string& name);

}  // namespace dpdock::config
