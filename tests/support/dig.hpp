// dig (Debian's bind9-dnsutils) run in a namespace, for the embedded DNS
// tests: its whole output, or the sorted answer lines of +short.
#pragma once

#include <set>
#include <sstream>
#include <string>

#include "tests/support/netns.hpp"

namespace dpdock::test {

inline std::string dig(const Netns& ns, const std::string& server, const std::string& args) {
    return ns.exec_output("dig +time=2 +tries=1 @" + server + " " + args + " 2>&1");
}

inline std::multiset<std::string> short_answer(const Netns& ns, const std::string& server, const std::string& args) {
    std::multiset<std::string> out;
    std::istringstream lines(dig(ns, server, "+short " + args));
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && !line.starts_with(";;")) out.insert(line);
    }
    return out;
}

}  // namespace dpdock::test
