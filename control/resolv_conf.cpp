#include "control/resolv_conf.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace dpdock::control {
namespace {

bool written_by_us(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string first;
    return std::getline(in, first) && first == kResolvConfMarker;
}

// The host's `search` line, if any (Docker copies it into containers).
std::string host_search(const std::string& etc) {
    std::ifstream in(etc + "/resolv.conf");
    std::string line, search;
    while (std::getline(in, line)) {
        if (line.rfind("search ", 0) == 0 || line.rfind("domain ", 0) == 0) search = "search " + line.substr(7);
    }
    return search;
}

}  // namespace

std::optional<std::string> named_netns(const std::string& netns_path) {
    constexpr std::string_view kPrefix = "/run/netns/";
    if (netns_path.rfind(kPrefix, 0) != 0) return std::nullopt;
    std::string name = netns_path.substr(kPrefix.size());
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return std::nullopt;
    return name;
}

Status write_resolv_conf(const std::string& name, Ipv4Address nameserver, const std::string& etc) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(etc) / "netns" / name;
    const fs::path file = dir / "resolv.conf";
    std::error_code ec;
    if (fs::exists(file, ec) && !written_by_us(file)) return Status::error(file.string() + " exists and is not dpdock's");
    fs::create_directories(dir, ec);
    if (ec) return Status::error("cannot create " + dir.string() + ": " + ec.message());
    std::ostringstream text;
    text << kResolvConfMarker << "\nnameserver " << nameserver.to_string() << "\n";
    if (const std::string search = host_search(etc); !search.empty()) text << search << "\n";
    text << "options ndots:0\n";
    const fs::path tmp = dir / "resolv.conf.dpdock";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text.str();
        if (!out) return Status::error("cannot write " + tmp.string());
    }
    fs::rename(tmp, file, ec);  // atomic: a resolver never reads half a file
    if (ec) return Status::error("cannot write " + file.string() + ": " + ec.message());
    return {};
}

void remove_resolv_conf(const std::string& name, const std::string& etc) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(etc) / "netns" / name;
    std::error_code ec;
    if (!written_by_us(dir / "resolv.conf")) return;
    fs::remove(dir / "resolv.conf", ec);
    fs::remove(dir, ec);  // only when empty
}

}  // namespace dpdock::control
