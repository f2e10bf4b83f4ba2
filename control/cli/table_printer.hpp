// TablePrinter: the column-aligned tables the CLI prints for people, in the
// shape of `docker network ls`: upper-case headers, columns left-aligned and
// separated by two spaces, no trailing blanks. Scripts use --format json.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace dpdock::cli {

class TablePrinter {
public:
    explicit TablePrinter(std::vector<std::string> headers);

    // Missing trailing cells print empty; cells beyond the headers are dropped.
    void add_row(std::vector<std::string> cells);
    void print(std::ostream& out) const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace dpdock::cli
