// Output of the births_forecast example: the baselines, epoch lines, and learning curves as
// CSV and SVG.
#ifndef DEEPRNN_EXAMPLES_BIRTHS_FORECAST_REPORT_HPP
#define DEEPRNN_EXAMPLES_BIRTHS_FORECAST_REPORT_HPP

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "../common/births_data.hpp"
#include "../common/csv.hpp"
#include "../common/plot.hpp"
#include "../common/progress.hpp"
#include "features.hpp"
#include "training.hpp"

namespace deeprnn::examples::births_forecast {

// Order of the least-squares autoregressive baseline.
inline constexpr Index kAutoregressionOrder = 28;

// One-step-ahead RMSE, in births, of the simple forecasts on the validation and test years.
struct Baselines {
  double persistence_validation = 0.0;  // births[d - 1]
  double persistence_test = 0.0;
  double weekly_validation = 0.0;  // births[d - 7], same day last week
  double weekly_test = 0.0;
  double autoregression_validation = 0.0;  // least-squares AR(28) fitted on the training years
  double autoregression_test = 0.0;
};

inline Baselines compute_baselines(const BirthsData& data) {
  const Autoregression autoregression(data, kAutoregressionOrder);
  return {births_lag_forecast_rmse(data, Split::validation, 1),
          births_lag_forecast_rmse(data, Split::test, 1),
          births_lag_forecast_rmse(data, Split::validation, 7),
          births_lag_forecast_rmse(data, Split::test, 7),
          autoregression.rmse(data, Split::validation),
          autoregression.rmse(data, Split::test)};
}

inline std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.precision(decimals);
  out << std::fixed << value;
  return out.str();
}

// The model's RMSE next to the baselines', validation and test, in births.
inline void print_comparison(std::ostream& out, const Baselines& baselines, double model_validation,
                             double model_test, const std::string& model_name) {
  const auto row = [&](const std::string& name, double validation, double test) {
    out << "  " << std::left << std::setw(34) << name << std::right << std::setw(10)
        << fixed(validation, 1) << std::setw(10) << fixed(test, 1) << "\n";
  };
  out << "One-step-ahead RMSE in births   validation (1985-86)  test (1987-88)\n";
  row("persistence (yesterday)", baselines.persistence_validation, baselines.persistence_test);
  row("same day last week", baselines.weekly_validation, baselines.weekly_test);
  row("least-squares AR(" + std::to_string(kAutoregressionOrder) + ")",
      baselines.autoregression_validation, baselines.autoregression_test);
  row(model_name, model_validation, model_test);
}

// One line per epoch, for example
//   epoch 12/60  train mse 0.0612 (rmse 412.3)  val rmse 388.1 *  lr 0.00271  21311 seq/s
//                0.4s  elapsed 5.1s  left <= ~20.3s
// where * marks a new best validation RMSE. The time left assumes no early stop.
inline std::string epoch_line(const EpochRecord& record, std::int64_t epochs,
                              const Standardization& standardization, double elapsed_seconds) {
  const int width = static_cast<int>(std::to_string(epochs).size());
  std::ostringstream line;
  line << "epoch " << std::setw(width) << record.epoch << "/" << epochs << "  train mse "
       << fixed(record.train_loss, 4) << " (rmse "
       << fixed(std::sqrt(record.train_loss) * standardization.std, 1) << ")  val rmse "
       << fixed(record.validation_rmse, 1) << (record.improved ? " *" : "  ") << "  lr "
       << std::setprecision(3) << record.learning_rate << "  "
       << std::llround(record.sequences_per_second) << " seq/s  " << format_duration(record.seconds)
       << "  elapsed " << format_duration(elapsed_seconds);
  if (record.epoch < epochs) {
    line << "  left <= ~"
         << format_duration(estimate_remaining_seconds(
                elapsed_seconds, static_cast<double>(record.epoch), static_cast<double>(epochs)));
  }
  return line.str();
}

inline CsvTable learning_curve_table(const std::vector<EpochRecord>& history,
                                     const Standardization& standardization) {
  CsvTable table({"epoch", "train_mse", "train_rmse_births", "val_rmse_births", "learning_rate",
                  "train_seconds", "seconds", "sequences_per_second"});
  for (const EpochRecord& record : history) {
    table.add_row({static_cast<double>(record.epoch), record.train_loss,
                   std::sqrt(record.train_loss) * standardization.std, record.validation_rmse,
                   record.learning_rate, record.train_seconds, record.seconds,
                   record.sequences_per_second});
  }
  return table;
}

// RMSE in births by epoch, training (with dropout) and validation, with the validation RMSE of
// the AR(28) baseline as a reference line.
inline std::vector<PlotPanel> learning_curve_panels(const std::vector<EpochRecord>& history,
                                                    const Standardization& standardization,
                                                    const Baselines& baselines) {
  PlotSeries train{"train", {}, {}, "#1f77b4", false};
  PlotSeries validation{"validation", {}, {}, "#ff7f0e", true};
  PlotSeries autoregression{"AR(28) validation", {}, {}, "#7f7f7f", true};
  for (const EpochRecord& record : history) {
    const auto epoch = static_cast<double>(record.epoch);
    train.x.push_back(epoch);
    train.y.push_back(std::sqrt(record.train_loss) * standardization.std);
    validation.x.push_back(epoch);
    validation.y.push_back(record.validation_rmse);
    autoregression.x.push_back(epoch);
    autoregression.y.push_back(baselines.autoregression_validation);
  }
  return {PlotPanel{
      "One-step-ahead RMSE", "epoch", "births", {train, validation, autoregression}, false}};
}

inline const char* weekday_name(int iso_day_of_week) {
  static const char* const names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  return iso_day_of_week >= 1 && iso_day_of_week <= 7 ? names[iso_day_of_week - 1] : "?";
}

}  // namespace deeprnn::examples::births_forecast

#endif  // DEEPRNN_EXAMPLES_BIRTHS_FORECAST_REPORT_HPP
