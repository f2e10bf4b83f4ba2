// load_file: real files, errors carrying the file's path, and the full
// example of docs/yaml.md (so the reference cannot drift from the reader).
#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

TEST(Loader, FileErrorsNameThePathAndLine) {
    TempDir dir;
    const std::string path = dir.path() + "/bad.yaml";
    write_file(path, "networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    mtu: 40\n");
    auto r = load_file(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), path + ":2:5: networks[0].mtu: mtu 40 is outside 68..9216");
}

TEST(Loader, InvalidYamlFileNamesThePathAndLine) {
    TempDir dir;
    const std::string path = dir.path() + "/broken.yaml";
    write_file(path, "containers:\n  - name: c\n\tnetns: /n\n");
    auto r = load_file(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind(path + ":3:", 0), 0u) << r.message();
}

TEST(Loader, MissingFile) {
    auto r = load_file("/nonexistent/dpdock-" + std::to_string(::getpid()) + ".yaml");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find(": cannot open: No such file or directory"), std::string::npos) << r.message();
}

TEST(Loader, LoadedModelIsResolved) {
    TempDir dir;
    const std::string path = dir.path() + "/ok.yaml";
    write_file(path, "containers:\n  - name: c\n    netns: /run/netns/c\n");
    auto r = load_file(path);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->source_file, path);
    const auto& e = r->containers.at(0).networks.at(0);
    EXPECT_EQ(e.ip, Ipv4Address::parse("172.17.0.2"));
    EXPECT_EQ(e.mac, MacAddress::parse("02:42:ac:11:00:02"));
}

// The repository's docs/ folder, found from this source file's location.
std::filesystem::path docs_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "docs";
}

// The ```yaml block under "## Full example" in docs/yaml.md.
std::string docs_example() {
    std::ifstream in(docs_dir() / "yaml.md");
    std::stringstream text;
    text << in.rdbuf();
    const std::string doc = text.str();
    const std::string fence = "## Full example\n\n```yaml\n";
    const auto begin = doc.find(fence);
    if (begin == std::string::npos) return "";
    const auto end = doc.find("```", begin + fence.size());
    return doc.substr(begin + fence.size(), end - begin - fence.size());
}

TEST(Loader, DocsExampleLoadsWithTheAddressesItPromises) {
    const std::string yaml = docs_example();
    ASSERT_FALSE(yaml.empty()) << "docs/yaml.md has no full example next to " << __FILE__;
    auto r = load_string(yaml, "docs/yaml.md");
    ASSERT_TRUE(r.ok()) << r.message();
    const auto& c = r->containers;
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].networks.at(0).ip, Ipv4Address::parse("10.10.0.128"));
    EXPECT_EQ(c[0].networks.at(0).mac, MacAddress::parse("02:42:0a:0a:00:80"));
    EXPECT_EQ(c[0].networks.at(1).mac, MacAddress::parse("02:42:0a:14:00:0a"));
    EXPECT_EQ(c[2].networks.at(0).ip, Ipv4Address::parse("172.17.1.0"));
    EXPECT_EQ(r->networks.at(0).gateway, Ipv4Address::parse("10.10.0.1"));
}

TEST(Loader, ExampleFilesLoad) {
    const auto dir = docs_dir() / "examples";
    std::size_t loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        auto r = load_file(entry.path().string());
        EXPECT_TRUE(r.ok()) << r.message();
        ++loaded;
    }
    EXPECT_GT(loaded, 0u) << "no examples in " << dir;
}

}  // namespace
}  // namespace dpdock::config::test
