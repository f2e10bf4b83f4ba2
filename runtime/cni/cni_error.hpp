// CniError: a failure as the CNI 1.0 spec reports it (the JSON object on
// stdout with "code", "msg" and "details", and a non-zero exit). The codes
// are the spec's well-known ones; 100 and up are dpdock's own.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dpdock::cni {

inline constexpr const char* kCniVersion = "1.0.0";

enum class CniCode : int {
    kIncompatibleVersion = 1,
    kUnsupportedField = 2,
    kUnknownContainer = 3,
    kInvalidEnvironment = 4,
    kIoFailure = 5,
    kDecodeFailure = 6,
    kInvalidConfig = 7,
    kTryAgainLater = 11,
    kDpdockRefused = 100,  // dpdockd answered {"ok":false}: its message is msg
};

struct CniError {
    CniCode code;
    std::string msg;
    std::string details;

    nlohmann::json to_json() const {
        nlohmann::json out = {{"cniVersion", kCniVersion}, {"code", static_cast<int>(code)}, {"msg", msg}};
        if (!details.empty()) out["details"] = details;
        return out;
    }
};

}  // namespace dpdock::cni
