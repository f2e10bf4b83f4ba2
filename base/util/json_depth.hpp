// How deep an untrusted JSON text nests, checked on the text before it is
// parsed: shared by every reader of JSON from a socket (the control
// protocol, the Docker plugin). Header-only, no allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace dpdock {

// The deepest nesting of arrays and objects an untrusted text may have. nlohmann parses
// iteratively and destroys iteratively, but copying, comparing and printing a
// value recurse: an untrusted tree must be shallow before anything touches it.
inline constexpr std::size_t kMaxJsonDepth = 64;

// True when `text` nests arrays/objects deeper than `limit`, counting brackets
// outside strings. Exact for valid JSON; invalid JSON fails parsing anyway.
inline bool nests_deeper_than(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

}  // namespace dpdock
