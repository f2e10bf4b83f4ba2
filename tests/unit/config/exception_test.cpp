// The `exception:` section: off by default and left out of a saved file;
// read, written back and validated with file:line errors.
#include <gtest/gtest.h>

#include "config/yaml_writer.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace dpdock::config::test {
namespace {

TEST(ExceptionSection, OffByDefaultAndNotWritten) {
    auto d = load("dataplane:\n  workers: 1\n");
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_FALSE(d->exception.enabled);
    EXPECT_EQ(d->exception.interface, "dpdock0");
    EXPECT_EQ(to_yaml(*d).find("exception:"), std::string::npos);
}

TEST(ExceptionSection, ReadAndRoundTrips) {
    auto d = load("exception:\n  enabled: true\n  interface: dpk9\n");
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(d->exception.enabled);
    EXPECT_EQ(d->exception.interface, "dpk9");
    auto again = load(to_yaml(*d));
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ(again->exception.enabled, true);
    EXPECT_EQ(again->exception.interface, "dpk9");
}

TEST(ExceptionSection, ErrorsNameFileLineAndKey) {
    expect_error("exception:\n  enabled: true\n  interface: a-name-much-too-long\n", "test.yaml:2:3: ",
                 "exception.interface", "is not an interface name");
    expect_error("exception:\n  enabled: true\n  interface: 'bad,name'\n", "test.yaml:2:3: ", "exception.interface",
                 "is not an interface name");
    expect_error("exception:\n  enable: true\n", "test.yaml:2:3: ", "exception.enable", "unknown key");
}

}  // namespace
}  // namespace dpdock::config::test
