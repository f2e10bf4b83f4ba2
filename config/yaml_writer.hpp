// Deployment -> YAML for `dpdock config save`. Writes every value that differs
// from its default plus everything that identifies an object (names, subnets,
// gateways, resolved ips and macs), so reading the text back with load_string()
// gives the same model and addresses never move across a save/reload.
// Pure apart from save_atomically's file I/O; called from the control thread.
#pragma once

#include <string>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

std::string to_yaml(const Deployment& d);

// Writes a temp file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory: after a crash the file is either old or new, never torn.
Status save_atomically(const Deployment& d, const std::string& path);

}  // namespace dpdock::config
