#include "control/cli/table_printer.hpp"

#include <algorithm>
#include <cctype>

namespace dpdock::cli {
namespace {

constexpr std::string_view kColumnGap = "  ";

// Width on a terminal: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

TablePrinter::TablePrinter(std::vector<std::string> headers) : headers_(std::move(headers)) {
    for (auto& header : headers_) {
        std::transform(header.begin(), header.end(), header.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    }
}

void TablePrinter::add_row(std::vector<std::string> cells) {
    cells.resize(headers_.size());
    rows_.push_back(std::move(cells));
}

void TablePrinter::print(std::ostream& out) const {
    std::vector<std::size_t> widths(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) {
        widths[c] = display_width(headers_[c]);
        for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c]));
    }
    auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            if (c > 0) line += kColumnGap;
            line += cells[c];
            if (c + 1 < cells.size()) line.append(widths[c] - display_width(cells[c]), ' ');
        }
        // A row whose last cells are empty would otherwise end in padding.
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };
    print_row(headers_);
    for (const auto& row : rows_) print_row(row);
}

}  // namespace dpdock::cli
