#include "config/loader.hpp"

#include "config/resolve.hpp"
#include "config/validate.hpp"
#include "config/yaml_reader.hpp"

namespace dpdock::config {
namespace {

Result<Deployment> finished(Result<Deployment> read) {
    if (!read) return read;
    if (auto s = validate(*read); !s) return s;
    if (auto s = resolve(*read); !s) return s;
    return read;
}

}  // namespace

Result<Deployment> load_file(const std::string& path) { return finished(read_yaml_file(path)); }

Result<Deployment> load_string(const std::string& text, const std::string& source_name) {
    return finished(read_yaml_string(text, source_name));
}

}  // namespace dpdock::config
