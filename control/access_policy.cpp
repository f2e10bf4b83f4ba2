#include "control/access_policy.hpp"

#include <cctype>
#include <filesystem>

namespace dpdock::control {
namespace {

bool device_of_driver(const std::string& device, const std::string& driver) {
    if (driver.empty() || !device.starts_with(driver)) return false;
    if (device.size() == driver.size()) return true;
    const char next = device[driver.size()];
    return next == '_' || next == ':' || std::isdigit(static_cast<unsigned char>(next)) != 0;
}

std::string allowed_list(const AccessPolicy& policy) {
    if (policy.devargs_drivers.empty()) return "none (dpdockd --allow-driver NAME allows one)";
    std::string out;
    for (const auto& d : policy.devargs_drivers) out += (out.empty() ? "" : ", ") + d;
    return out;
}

}  // namespace

Status check_devargs(const AccessPolicy& policy, const Caller& caller, const std::string& devargs) {
    if (caller.privileged) return {};
    const std::string device = devargs.substr(0, devargs.find(','));
    for (const auto& driver : policy.devargs_drivers) {
        if (device_of_driver(device, driver)) return {};
    }
    return Status::error("devargs \"" + devargs + "\": only root may use this driver (drivers allowed to --group "
                         "members: " + allowed_list(policy) + ")");
}

Status check_deployment_devargs(const AccessPolicy& policy, const Caller& caller, const config::Deployment& d) {
    if (d.uplink) {
        if (auto st = check_devargs(policy, caller, d.uplink->devargs); !st) return st;
    }
    for (const auto& port : d.ports) {
        if (auto st = check_devargs(policy, caller, port.devargs); !st) return st;
    }
    return {};
}

Status check_config_path(const AccessPolicy& policy, const Caller& caller, const std::string& path) {
    if (caller.privileged) return {};
    if (!policy.save_dir) {
        return Status::error("path \"" + path + "\": only root may choose where the configuration is saved or read "
                             "(dpdockd --save-dir DIR allows a directory to --group members)");
    }
    // Symlinks resolved in what exists, ".." folded in the rest: the file must end up inside the directory.
    std::error_code ec;
    const auto dir = std::filesystem::weakly_canonical(*policy.save_dir, ec);
    const auto file = std::filesystem::weakly_canonical(path, ec);
    if (!ec) {
        const auto rel = file.lexically_relative(dir);
        if (!rel.empty() && *rel.begin() != ".." && rel != ".") return {};
    }
    return Status::error("path \"" + path + "\" is outside " + *policy.save_dir +
                         ", the only directory --group members may save to or reload from");
}

}  // namespace dpdock::control
