// Writing tables of numbers as CSV files (RFC 4180 with a header row), for learning curves.
#ifndef DEEPRNN_EXAMPLES_COMMON_CSV_HPP
#define DEEPRNN_EXAMPLES_COMMON_CSV_HPP

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace deeprnn::examples {

// A table with named columns and rows of numbers. Non-finite entries, such as a metric that
// was not measured, are written as empty fields.
class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  // Appends a row; throws std::invalid_argument unless it has one value per column.
  void add_row(const std::vector<double>& values) {
    if (values.size() != columns_.size()) {
      throw std::invalid_argument("CsvTable::add_row: " + std::to_string(values.size()) +
                                  " values for " + std::to_string(columns_.size()) + " columns");
    }
    rows_.push_back(values);
  }

  std::size_t row_count() const { return rows_.size(); }

  std::string to_string() const {
    std::ostringstream out;
    for (std::size_t c = 0; c < columns_.size(); ++c) out << (c ? "," : "") << quoted(columns_[c]);
    out << "\n";
    out.precision(std::numeric_limits<double>::max_digits10);
    for (const std::vector<double>& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c) out << ",";
        if (std::isfinite(row[c])) out << row[c];
      }
      out << "\n";
    }
    return out.str();
  }

  // Writes the table to a temporary file beside `path` and renames it over `path`, so a reader
  // never sees half a file. Throws std::runtime_error when the file cannot be written.
  void write(const std::filesystem::path& path) const {
    const std::filesystem::path temporary = path.string() + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << to_string();
      out.flush();
      if (!out) throw std::runtime_error("failed to write " + temporary.string());
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
      throw std::runtime_error("failed to rename " + temporary.string() + " to " + path.string() +
                               ": " + error.message());
    }
  }

 private:
  // Quotes a field that contains a comma, a quote or a line break, doubling inner quotes.
  static std::string quoted(const std::string& field) {
    if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
    std::string result = "\"";
    for (const char c : field) {
      if (c == '"') result += '"';
      result += c;
    }
    return result + "\"";
  }

  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
};

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_CSV_HPP
