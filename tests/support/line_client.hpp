// LineClient: a blocking client for line-based Unix stream sockets such as
// dpdockd's control socket. Every wait is bounded (kLineClientWait unless
// told otherwise), so a test fails instead of hanging; nothing here asserts
// on timing.
// Threading: one object per thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dpdock::test {

inline constexpr std::chrono::seconds kLineClientWait{10};

// A connected AF_UNIX stream socket, or -1.
int connect_unix(const std::string& path);

class LineClient {
public:
    explicit LineClient(const std::string& path, std::chrono::milliseconds wait = kLineClientWait)
        : fd_(connect_unix(path)), wait_(wait) {}
    ~LineClient();
    LineClient(const LineClient&) = delete;
    LineClient& operator=(const LineClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    // All of data, or false once the socket refuses more.
    bool send_raw(std::string_view data);
    // The next line without its '\n'; nullopt on EOF, error or after the wait.
    std::optional<std::string> read_line();
    // The next line parsed (a discarded json value if it is not JSON).
    std::optional<nlohmann::json> read_json();
    // Sends request as one line and reads the answer.
    std::optional<nlohmann::json> call(const nlohmann::json& request);
    // True once the server has closed the connection (EOF or reset), with no further line.
    bool closed_by_server();

private:
    bool wait_readable(std::chrono::steady_clock::time_point deadline);

    int fd_;
    std::chrono::milliseconds wait_;
    std::string buffer_;
};

}  // namespace dpdock::test
