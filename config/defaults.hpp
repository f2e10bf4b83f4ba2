// The deployment dpdockd runs when it is started without a file: two demo
// containers on Docker's default bridge. Kept as YAML text (not built in C++)
// so it goes through the same reader, validation and IPAM as any user file,
// and `dpdock config save` shows users a file they can start from.
#pragma once

namespace dpdock::config {

// Null-terminated YAML; load with load_string(embedded_demo_yaml(), "<embedded demo>").
const char* embedded_demo_yaml();

}  // namespace dpdock::config
