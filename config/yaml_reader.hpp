// YAML -> Deployment. Strict: an unknown or duplicated key, or a value of the
// wrong type, is an error naming file:line:col and the key path (networks[1].subnet).
// Only the shape of the file is checked here; whole-model rules (overlaps,
// references, ranges) live in validate.hpp, address allocation in resolve.hpp.
// Every object keeps the position it came from so later errors can point at it.
// Pure functions; any thread.
#pragma once

#include <string>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

// Reads and parses a file; a missing or unreadable file is an error naming the path.
Result<Deployment> read_yaml_file(const std::string& path);

// source_name is what errors and SourcePos call the text (usually a file name).
Result<Deployment> read_yaml_string(const std::string& text, const std::string& source_name);

}  // namespace dpdock::config
