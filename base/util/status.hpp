// Status and Result<T>: the error vocabulary of every control-side call.
// C++20 has no std::expected; this is the small subset we need. The fast path
// never uses these (it returns verdicts), so allocation of the message is fine.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dpdock {

class Status {
public:
    Status() = default;
    static Status error(std::string message) { return Status(std::move(message)); }

    bool ok() const { return !message_.has_value(); }
    explicit operator bool() const { return ok(); }
    const std::string& message() const {
        static const std::string kEmpty;
        return message_ ? *message_ : kEmpty;
    }

private:
    explicit Status(std::string message) : message_(std::move(message)) {}
    std::optional<std::string> message_;
};

template <typename T>
class Result {
public:
    Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Status status) : value_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
    static Result error(std::string message) { return Result(Status::error(std::move(message))); }

    bool ok() const { return std::holds_alternative<T>(value_); }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<T>(value_); }
    const T& value() const { return std::get<T>(value_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    Status status() const { return ok() ? Status() : std::get<Status>(value_); }
    const std::string& message() const {
        static const std::string kEmpty;
        return ok() ? kEmpty : std::get<Status>(value_).message();
    }

private:
    std::variant<T, Status> value_;
};

}  // namespace dpdock
