// Inputs of the births forecaster: standardised counts, calendar features, the windows of
// previous days, and the least-squares autoregressive baseline.
#ifndef DEEPRNN_EXAMPLES_BIRTHS_FORECAST_FEATURES_HPP
#define DEEPRNN_EXAMPLES_BIRTHS_FORECAST_FEATURES_HPP

#include <Eigen/QR>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "../common/births_data.hpp"

namespace deeprnn::examples::births_forecast {

// Births are standardised as z = (births - mean) / std with the mean and the population
// standard deviation of the training days only, so nothing is learnt from later years.
struct Standardization {
  double mean = 0.0;
  double std = 1.0;

  double to_z(double births) const { return (births - mean) / std; }
  double to_births(double z) const { return mean + std * z; }
};

inline Standardization fit_standardization(std::span<const BirthsDay> days) {
  if (days.empty()) {
    throw invalid_argument("fit_standardization: no days were given; expected the training split");
  }
  double sum = 0.0;
  for (const BirthsDay& day : days) sum += day.births;
  const double mean = sum / static_cast<double>(days.size());
  double squares = 0.0;
  for (const BirthsDay& day : days) squares += (day.births - mean) * (day.births - mean);
  const double std = std::sqrt(squares / static_cast<double>(days.size()));
  if (!(std > 0.0)) {
    throw invalid_argument(
        "fit_standardization: every training day has the same count, so the "
        "standard deviation is 0");
  }
  return {mean, std};
}

inline std::chrono::year_month_day date_of(const BirthsDay& day) {
  using namespace std::chrono;
  return year_month_day{year{day.year}, month{static_cast<unsigned>(day.month)},
                        std::chrono::day{static_cast<unsigned>(day.day_of_month)}};
}

// Number of calendar features of a day: the ISO weekday one-hot (7), then sin and cos of
// 2 pi (day of year - 1) / 365.25.
inline constexpr Index kCalendarFeatureCount = 9;

// Features of every step: the standardised count of the day, then the calendar features of
// the NEXT day, the one the step's output forecasts.
inline constexpr Index kStepFeatureCount = 1 + kCalendarFeatureCount;

// Writes the calendar features of `date` into rows first .. first + 8 of `column`.
template <class Column>
void write_calendar_features(const std::chrono::year_month_day& date, Column&& column,
                             Index first) {
  using namespace std::chrono;
  const sys_days day{date};
  const unsigned weekday_number = weekday{day}.iso_encoding();  // 1 is Monday
  for (Index k = 0; k < 7; ++k) column(first + k) = 0.0F;
  column(first + static_cast<Index>(weekday_number) - 1) = 1.0F;

  const auto day_of_year = (day - sys_days{date.year() / January / 1}).count();
  const double angle = 2.0 * std::numbers::pi * static_cast<double>(day_of_year) / 365.25;
  column(first + 7) = static_cast<float>(std::sin(angle));
  column(first + 8) = static_cast<float>(std::cos(angle));
}

// The step features of every day, kStepFeatureCount x days.size(): column i is the input the
// network reads for day i (its standardised count, and the calendar of day i + 1).
inline Matrix<float> step_features(std::span<const BirthsDay> days,
                                   const Standardization& standardization) {
  Matrix<float> features(kStepFeatureCount, static_cast<Index>(days.size()));
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto column_index = static_cast<Index>(i);
    features(0, column_index) = static_cast<float>(standardization.to_z(days[i].births));
    const auto next_day = std::chrono::sys_days{date_of(days[i])} + std::chrono::days{1};
    write_calendar_features(std::chrono::year_month_day{next_day}, features.col(column_index), 1);
  }
  return features;
}

// A batch of forecasting samples in deeprnn's layout: for target day d_b the inputs are the
// step features of days d_b - W .. d_b - 1 (column t*B + b is step t of sample b), and the
// target is the standardised count of d_b.
struct WindowBatch {
  Matrix<float> inputs;   // kStepFeatureCount x W*B
  Matrix<float> targets;  // 1 x B
};

inline void fill_window_batch(const Matrix<float>& features, std::span<const std::size_t> days,
                              Index window, WindowBatch& batch) {
  const auto B = static_cast<Index>(days.size());
  batch.inputs.resize(features.rows(), window * B);
  batch.targets.resize(1, B);
  for (Index b = 0; b < B; ++b) {
    const auto target = static_cast<Index>(days[static_cast<std::size_t>(b)]);
    if (target < window || target >= features.cols()) {
      throw invalid_argument("fill_window_batch: day " + std::to_string(target) +
                             " has no window of " + std::to_string(window) +
                             " previous days in the data");
    }
    for (Index t = 0; t < window; ++t) {
      batch.inputs.col(t * B + b) = features.col(target - window + t);
    }
    batch.targets(0, b) = features(0, target);
  }
}

// Target days of a split that have `window` previous days in the data.
inline std::vector<std::size_t> forecast_days(const BirthsData& data, Split split, Index window) {
  const auto [begin, end] = data.split_range(split);
  std::vector<std::size_t> days;
  for (std::size_t d = std::max(begin, static_cast<std::size_t>(window)); d < end; ++d) {
    days.push_back(d);
  }
  return days;
}

// A least-squares autoregressive model of the raw counts, fitted on the training split:
//   births[d] ~ c + sum_{k=1..p} a_k births[d - k]
// solved by column-pivoting Householder QR in double.
class Autoregression {
 public:
  Autoregression(const BirthsData& data, Index order) : order_(order) {
    const auto [begin, end] = data.split_range(Split::train);
    const auto first = static_cast<Index>(begin) + order;
    const Index rows = static_cast<Index>(end) - first;
    if (order < 1 || rows <= order + 1) {
      throw invalid_argument("Autoregression: order " + std::to_string(order) +
                             " needs more than " + std::to_string(2 * order + 1) +
                             " training days");
    }
    Matrix<double> design(rows, order + 1);
    Vector<double> target(rows);
    for (Index r = 0; r < rows; ++r) {
      const auto d = static_cast<std::size_t>(first + r);
      design(r, 0) = 1.0;
      for (Index k = 1; k <= order; ++k) {
        design(r, k) = data.days[d - static_cast<std::size_t>(k)].births;
      }
      target(r) = data.days[d].births;
    }
    coefficients_ = design.colPivHouseholderQr().solve(target);
  }

  Index order() const { return order_; }

  // Forecast of day d from the order days before it.
  double forecast(const BirthsData& data, std::size_t d) const {
    double value = coefficients_(0);
    for (Index k = 1; k <= order_; ++k) {
      value += coefficients_(k) * data.days[d - static_cast<std::size_t>(k)].births;
    }
    return value;
  }

  // Root mean square error of the one-step forecasts over the days of a split that have
  // order previous days.
  double rmse(const BirthsData& data, Split split) const {
    double squares = 0.0;
    std::size_t count = 0;
    for (const std::size_t d : forecast_days(data, split, order_)) {
      const double error = forecast(data, d) - data.days[d].births;
      squares += error * error;
      ++count;
    }
    return std::sqrt(squares / static_cast<double>(count));
  }

 private:
  Index order_;
  Vector<double> coefficients_;
};

}  // namespace deeprnn::examples::births_forecast

#endif  // DEEPRNN_EXAMPLES_BIRTHS_FORECAST_FEATURES_HPP
