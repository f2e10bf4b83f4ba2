// Helpers shared by the config tests: loading YAML under a fixed source name,
// dropping positions before comparing models, and a temp directory that is
// removed even when a test fails.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/loader.hpp"
#include "config/model.hpp"

namespace dpdock::config::test {

inline constexpr const char* kFile = "test.yaml";

inline Result<Deployment> load(const std::string& yaml) { return load_string(yaml, kFile); }

// Positions and the source name differ between a file and its re-read copy.
inline Deployment without_positions(Deployment d) {
    d.source_file.clear();
    d.dataplane.pos = {};
    d.bridge.pos = {};
    for (auto& n : d.networks) {
        n.pos = {};
        for (auto& s : n.static_macs) s.pos = {};
        for (auto& r : n.remote_macs) r.pos = {};
    }
    for (auto& c : d.containers) {
        c.pos = {};
        for (auto& e : c.networks) e.pos = {};
    }
    for (auto& p : d.ports) p.pos = {};
    if (d.uplink) d.uplink->pos = {};
    d.nat.pos = {};
    d.vxlan.pos = {};
    d.dns.pos = {};
    return d;
}

// Asserts that loading fails and the message holds location, key path and text.
inline void expect_error(const std::string& yaml, const std::string& location, const std::string& key_path,
                         const std::string& text) {
    auto r = load(yaml);
    ASSERT_FALSE(r.ok()) << "loaded although it should fail:\n" << yaml;
    const std::string& m = r.message();
    EXPECT_EQ(m.rfind(location, 0), 0u) << "location '" << location << "' not at the start of: " << m;
    EXPECT_NE(m.find(" " + key_path + ": "), std::string::npos) << "key path '" << key_path << "' missing in: " << m;
    EXPECT_NE(m.find(text), std::string::npos) << "text '" << text << "' missing in: " << m;
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = "/tmp/dpdock-config-test-" + std::to_string(::getpid()) + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace dpdock::config::test
