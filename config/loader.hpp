// How a deployment file enters dpdock: read YAML, validate the whole model,
// then resolve addresses and MACs. A model returned from here is complete
// (every endpoint has ip and mac) and is what the control side applies.
// Pure functions; any thread.
#pragma once

#include <string>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

Result<Deployment> load_file(const std::string& path);
Result<Deployment> load_string(const std::string& text, const std::string& source_name);

}  // namespace dpdock::config
