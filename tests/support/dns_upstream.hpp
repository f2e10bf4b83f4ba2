// An upstream DNS server for the embedded DNS tests: dnsmasq on 127.0.0.1 at
// `port` (in `netns`, or the test's own namespace when it is empty), knowing
// only example.test (192.0.2.7) and answering REFUSED otherwise, so names
// dpdock forwards get a quick answer. Returns once it answers, or an error.
#pragma once

#include <string>

#include "base/util/status.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {

Result<ChildProcess> start_dns_upstream(const std::string& netns, int port, const std::string& log_path);

}  // namespace dpdock::test
