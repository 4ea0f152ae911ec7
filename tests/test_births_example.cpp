// Tests of the births_forecast example's features, windows, autoregressive baseline and weight
// files, on small synthetic series (no data set needed).
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <vector>

#include "../examples/births_forecast/features.hpp"
#include "../examples/births_forecast/model.hpp"
#include "../examples/births_forecast/training.hpp"

namespace {

namespace bf = deeprnn::examples::births_forecast;
using deeprnn::examples::BirthsData;
using deeprnn::examples::BirthsDay;
using deeprnn::examples::Split;

// Consecutive days from `first` with the given counts and their real ISO weekdays.
std::vector<BirthsDay> consecutive_days(std::chrono::year_month_day first,
                                        const std::vector<int>& births) {
  std::vector<BirthsDay> days;
  std::chrono::sys_days day{first};
  for (const int count : births) {
    const std::chrono::year_month_day date{day};
    days.push_back({static_cast<int>(date.year()), static_cast<int>(unsigned(date.month())),
                    static_cast<int>(unsigned(date.day())),
                    static_cast<int>(std::chrono::weekday{day}.iso_encoding()), count});
    day += std::chrono::days{1};
  }
  return days;
}

BirthsData synthetic_data(const std::vector<int>& births, std::size_t validation_begin,
                          std::size_t test_begin) {
  BirthsData data;
  using namespace std::chrono;
  data.days = consecutive_days(year{1987} / December / 20, births);
  data.validation_begin = validation_begin;
  data.test_begin = test_begin;
  return data;
}

}  // namespace

TEST_CASE("Standardization uses population std", "[examples][births]") {
  const std::vector<BirthsDay> days =
      consecutive_days(std::chrono::year{1970} / std::chrono::January / 1, {1, 2, 3, 4});
  const bf::Standardization standardization = bf::fit_standardization(days);
  CHECK(standardization.mean == Approx(2.5));
  CHECK(standardization.std == Approx(std::sqrt(1.25)));
  CHECK(standardization.to_z(4.0) == Approx(1.5 / std::sqrt(1.25)));
  CHECK(standardization.to_births(standardization.to_z(3.0)) == Approx(3.0));

  const std::vector<BirthsDay> constant =
      consecutive_days(std::chrono::year{1970} / std::chrono::January / 1, {7, 7, 7});
  CHECK_THROWS_AS(bf::fit_standardization(constant), deeprnn::invalid_argument);
}

TEST_CASE("Calendar features of a known day", "[examples][births]") {
  // 1987-12-25 is a Friday (ISO 5), day 359 of the year: angle 2 pi 358 / 365.25.
  using namespace std::chrono;
  Eigen::VectorXf features(bf::kCalendarFeatureCount);
  bf::write_calendar_features(year{1987} / December / 25, features, 0);
  for (int k = 0; k < 7; ++k) CHECK(features(k) == (k == 4 ? 1.0F : 0.0F));
  const double angle = 2.0 * std::numbers::pi * 358.0 / 365.25;
  CHECK(features(7) == Approx(std::sin(angle)).margin(1e-6));
  CHECK(features(8) == Approx(std::cos(angle)).margin(1e-6));

  // 1988-01-01, a Friday too, starts the year at angle 0.
  bf::write_calendar_features(year{1988} / January / 1, features, 0);
  CHECK(features(4) == 1.0F);
  CHECK(features(7) == Approx(0.0).margin(1e-7));
  CHECK(features(8) == Approx(1.0));
}

TEST_CASE("Step features read the next day's calendar", "[examples][births]") {
  // Day 11 of the synthetic series is 1987-12-31 (a Thursday); its step carries the
  // calendar of 1988-01-01 (a Friday, angle 0).
  std::vector<int> births(20);
  for (int i = 0; i < 20; ++i) births[static_cast<std::size_t>(i)] = 9000 + 10 * i;
  const BirthsData data = synthetic_data(births, 14, 17);
  const bf::Standardization standardization{9000.0, 100.0};
  const deeprnn::Matrix<float> features = bf::step_features(data.days, standardization);
  REQUIRE(features.rows() == bf::kStepFeatureCount);
  REQUIRE(features.cols() == 20);

  CHECK(data.days[11].day_of_month == 31);
  CHECK(features(0, 11) == Approx(1.1));
  for (int k = 0; k < 7; ++k) CHECK(features(1 + k, 11) == (k == 4 ? 1.0F : 0.0F));
  CHECK(features(8, 11) == Approx(0.0).margin(1e-7));
  CHECK(features(9, 11) == Approx(1.0));
}

TEST_CASE("Window batch layout", "[examples][births]") {
  // Feature column i contains the value i, so each input entry names the day it came from.
  deeprnn::Matrix<float> features(2, 12);
  for (int i = 0; i < 12; ++i) features.col(i).setConstant(static_cast<float>(i));
  const std::vector<std::size_t> days{5, 9};
  bf::WindowBatch batch;
  bf::fill_window_batch(features, days, 3, batch);
  REQUIRE(batch.inputs.cols() == 6);
  for (int t = 0; t < 3; ++t) {
    CHECK(batch.inputs(1, t * 2 + 0) == static_cast<float>(5 - 3 + t));
    CHECK(batch.inputs(1, t * 2 + 1) == static_cast<float>(9 - 3 + t));
  }
  CHECK(batch.targets(0, 0) == 5.0F);
  CHECK(batch.targets(0, 1) == 9.0F);

  const std::vector<std::size_t> too_early{2};
  CHECK_THROWS_AS(bf::fill_window_batch(features, too_early, 3, batch), deeprnn::invalid_argument);
}

TEST_CASE("Forecast days need a full window", "[examples][births]") {
  const BirthsData data = synthetic_data(std::vector<int>(20, 9000), 14, 17);
  const std::vector<std::size_t> train = bf::forecast_days(data, Split::train, 5);
  REQUIRE(train.size() == 9);
  CHECK(train.front() == 5);
  CHECK(train.back() == 13);
  const std::vector<std::size_t> test = bf::forecast_days(data, Split::test, 5);
  REQUIRE(test.size() == 3);
  CHECK(test.front() == 17);
}

TEST_CASE("Autoregression fits an exact recurrence", "[examples][births]") {
  // A line plus an alternating term satisfies births[d] = births[d-2] + 24 exactly, so the
  // least-squares fit of order 2 with an intercept reproduces every day.
  std::vector<int> births;
  for (int d = 0; d < 60; ++d) births.push_back(9000 + 12 * d + (d % 2 == 0 ? 150 : -150));
  const BirthsData data = synthetic_data(births, 40, 50);
  const bf::Autoregression autoregression(data, 2);
  CHECK(autoregression.forecast(data, 55) == Approx(births[55]).margin(1e-6));
  CHECK(autoregression.rmse(data, Split::validation) < 1e-6);
  CHECK(autoregression.rmse(data, Split::test) < 1e-6);

  // Persistence-like order 1 cannot follow the alternation, so its error stays large.
  const bf::Autoregression first_order(data, 1);
  CHECK(first_order.rmse(data, Split::test) > 100.0);
}

TEST_CASE("Saved forecaster reloads", "[examples][births]") {
  std::vector<int> births(40);
  for (int i = 0; i < 40; ++i) births[static_cast<std::size_t>(i)] = 9000 + 37 * (i % 7);
  const BirthsData data = synthetic_data(births, 30, 35);
  const bf::Standardization standardization{9100.0, 80.0};
  const deeprnn::Matrix<float> features = bf::step_features(data.days, standardization);
  bf::Forecaster model(bf::ModelConfig{.hidden_size = 4});
  deeprnn::Random random(6);
  model.initialize(random);
  const std::vector<std::size_t> days = bf::forecast_days(data, Split::test, 7);
  const std::vector<double> expected =
      bf::forecast_births(model, features, days, 7, standardization);

  const auto path = std::filesystem::temp_directory_path() / "deeprnn_test_births.safetensors";
  bf::save_model(path, model, 7, standardization, 12, 321.5);
  bf::LoadedModel loaded = bf::load_model(path);
  std::filesystem::remove(path);
  CHECK(loaded.window == 7);
  CHECK(loaded.epoch == 12);
  CHECK(loaded.validation_rmse == 321.5);
  CHECK(loaded.standardization.mean == 9100.0);
  CHECK(loaded.standardization.std == 80.0);
  CHECK(bf::forecast_births(*loaded.model, features, days, loaded.window, loaded.standardization) ==
        expected);
}
