// Base64 (RFC 4648, standard alphabet, padded): etcd's JSON gateway carries
// every key and value as base64 bytes. Decoding rejects malformed text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dpdock::cluster {

std::string base64_encode(std::string_view bytes);
// nullopt for a length that is not a multiple of 4, a foreign character or misplaced padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dpdock::cluster
