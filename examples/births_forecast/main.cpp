// births_forecast: one-day-ahead forecasts of US daily births 1969-1988 with a stacked GRU,
// early stopping on 1985-1986 and the test RMSE on 1987-1988 next to simple baselines. Run
// with --help for the options.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "../common/births_data.hpp"
#include "../common/csv.hpp"
#include "../common/plot.hpp"
#include "../common/progress.hpp"
#include "features.hpp"
#include "model.hpp"
#include "options.hpp"
#include "report.hpp"
#include "training.hpp"

namespace bf = deeprnn::examples::births_forecast;
namespace ex = deeprnn::examples;

namespace {

// Exit statuses besides 0 (success).
constexpr int kExitFailure = 1;      // an error, or --quick above its RMSE limit
constexpr int kExitUsageOrData = 2;  // invalid command line, or the data set is missing

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::filesystem::path best_weights_path(const bf::Options& options) {
  return options.output_dir / "best.safetensors";
}

// Loads the daily counts, or prints the install command and returns nothing.
std::optional<ex::BirthsData> load_data_or_explain(const bf::Options& options) {
  ex::BirthsOptions data_options;
  if (!options.data_dir.empty()) data_options.data_location = options.data_dir;
  try {
    ex::BirthsData data = ex::load_births_data(data_options);
    std::cout << "Loaded " << data.days.size() << " days of births: " << data.train().size()
              << " training (1969-1984), " << data.validation().size()
              << " validation (1985-1986), " << data.test().size() << " test (1987-1988)\n";
    return data;
  } catch (const ex::dataset_not_found& error) {
    std::cerr << "births_forecast: " << error.what() << "\n";
    return std::nullopt;
  }
}

int run_training(const bf::Options& options) {
  const std::optional<ex::BirthsData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  std::filesystem::create_directories(options.output_dir);
  const auto start = std::chrono::steady_clock::now();

  const bf::Standardization standardization = bf::fit_standardization(data->train());
  const deeprnn::Matrix<float> features = bf::step_features(data->days, standardization);
  const std::vector<std::size_t> validation_days =
      bf::forecast_days(*data, ex::Split::validation, options.window);
  const std::vector<std::size_t> test_days =
      bf::forecast_days(*data, ex::Split::test, options.window);
  const bf::Baselines baselines = bf::compute_baselines(*data);

  bf::ModelConfig config;
  config.hidden_size = options.hidden_size;
  config.dropout = options.dropout;
  bf::Forecaster model(config);
  deeprnn::Random random(options.seed);
  model.initialize(random);
  deeprnn::Adam<float> optimizer(deeprnn::AdamOptions{.learning_rate = options.learning_rate});
  optimizer.add(model);

  bf::TrainingSettings settings;
  settings.window = options.window;
  settings.batch_size = options.batch_size;
  settings.learning_rate = options.learning_rate;
  settings.final_learning_rate = options.final_learning_rate;
  settings.clip_norm = options.clip_norm;
  settings.epochs = options.epochs;
  std::vector<std::size_t> train_days = bf::forecast_days(*data, ex::Split::train, options.window);
  const std::size_t train_count = train_days.size();
  bf::Trainer trainer(model, optimizer, random, features, std::move(train_days), settings);

  deeprnn::Index parameters = 0;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { parameters += value.size(); });
  std::cout << "Births standardised with the training mean " << bf::fixed(standardization.mean, 1)
            << " and standard deviation " << bf::fixed(standardization.std, 1) << "\n"
            << "Model: 2 x GRU(" << options.hidden_size << ") over " << options.window
            << " days of " << bf::kStepFeatureCount << " features -> Dense(1); " << parameters
            << " float parameters\n"
            << "Training: " << train_count << " forecasts per epoch, batch " << options.batch_size
            << ", Adam " << options.learning_rate << " -> " << options.final_learning_rate
            << " (cosine), clip-norm " << options.clip_norm << ", dropout " << options.dropout
            << ", at most " << options.epochs << " epochs, patience " << options.patience
            << ", seed " << options.seed << "\n"
            << "Validation RMSE of the baselines: persistence "
            << bf::fixed(baselines.persistence_validation, 1) << ", same day last week "
            << bf::fixed(baselines.weekly_validation, 1) << ", AR(" << bf::kAutoregressionOrder
            << ") " << bf::fixed(baselines.autoregression_validation, 1) << " births\n\n";

  const std::filesystem::path best_path = best_weights_path(options);
  const std::filesystem::path csv_path = options.output_dir / "curves.csv";
  const std::filesystem::path svg_path = options.output_dir / "curves.svg";
  std::vector<bf::EpochRecord> history;
  double best_rmse = HUGE_VAL;
  std::int64_t best_epoch = 0;
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    bf::EpochRecord record;
    record.epoch = epoch;
    trainer.train_epoch(record);
    const std::vector<double> forecasts =
        bf::forecast_births(model, features, validation_days, options.window, standardization);
    record.validation_rmse = bf::rmse_births(*data, validation_days, forecasts);
    record.improved = record.validation_rmse < best_rmse;
    if (record.improved) {
      best_rmse = record.validation_rmse;
      best_epoch = epoch;
      bf::save_model(best_path, model, options.window, standardization, epoch, best_rmse);
    }
    record.seconds = seconds_since(epoch_start);
    history.push_back(record);
    std::cout << bf::epoch_line(record, options.epochs, standardization, seconds_since(start))
              << std::endl;
    if (options.patience > 0 && epoch - best_epoch >= options.patience) {
      std::cout << "Stopped early: no lower validation RMSE for " << options.patience
                << " epochs\n";
      break;
    }
  }
  bf::learning_curve_table(history, standardization).write(csv_path);
  ex::write_svg_chart(svg_path, "births_forecast: US daily births",
                      bf::learning_curve_panels(history, standardization, baselines));

  bf::LoadedModel best = bf::load_model(best_path);
  const std::vector<double> test_forecasts =
      bf::forecast_births(*best.model, features, test_days, options.window, standardization);
  const double test_rmse = bf::rmse_births(*data, test_days, test_forecasts);
  std::cout << "\nBest epoch " << best_epoch << " of " << history.size() << ", total time "
            << ex::format_duration(seconds_since(start)) << "\n";
  bf::print_comparison(std::cout, baselines, best_rmse, test_rmse,
                       "2 x GRU(" + std::to_string(options.hidden_size) + ")");
  std::cout << "\nOutputs:\n  best weights      " << std::filesystem::absolute(best_path).string()
            << "\n  learning curves   " << std::filesystem::absolute(csv_path).string()
            << "\n  plot              " << std::filesystem::absolute(svg_path).string() << "\n";

  if (options.quick) {
    if (!(test_rmse < bf::kQuickMaximumRmse)) {
      std::cerr << "births_forecast: --quick reached a test RMSE of " << bf::fixed(test_rmse, 1)
                << " births, not below the limit of " << bf::kQuickMaximumRmse << " (persistence "
                << bf::fixed(baselines.persistence_test, 1) << "); training is broken\n";
      return kExitFailure;
    }
    std::cout << "\n--quick: test RMSE below " << bf::kQuickMaximumRmse << " births (persistence "
              << bf::fixed(baselines.persistence_test, 1) << ")\n";
  }
  return EXIT_SUCCESS;
}

int run_evaluation(const bf::Options& options) {
  bf::LoadedModel loaded = bf::load_model(best_weights_path(options));
  const std::optional<ex::BirthsData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  const deeprnn::Matrix<float> features = bf::step_features(data->days, loaded.standardization);
  double rmse[2] = {0.0, 0.0};
  int index = 0;
  for (const ex::Split split : {ex::Split::validation, ex::Split::test}) {
    const std::vector<std::size_t> days = bf::forecast_days(*data, split, loaded.window);
    const std::vector<double> forecasts =
        bf::forecast_births(*loaded.model, features, days, loaded.window, loaded.standardization);
    rmse[index++] = bf::rmse_births(*data, days, forecasts);
  }
  std::cout << "Weights of epoch " << loaded.epoch << "\n";
  bf::print_comparison(std::cout, bf::compute_baselines(*data), rmse[0], rmse[1],
                       "2 x GRU(" + std::to_string(loaded.model->config().hidden_size) + ")");
  return EXIT_SUCCESS;
}

// Parses YYYY-MM-DD; returns nothing for any other text or an invalid date.
std::optional<std::chrono::year_month_day> parse_date(const std::string& text) {
  int parts[3] = {0, 0, 0};
  const char* position = text.data();
  const char* const end = text.data() + text.size();
  for (int k = 0; k < 3; ++k) {
    const auto [next, error] = std::from_chars(position, end, parts[k]);
    if (error != std::errc() || next == position) return std::nullopt;
    position = next;
    if (k < 2) {
      if (position == end || *position != '-') return std::nullopt;
      ++position;
    }
  }
  if (position != end) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{parts[0]},
                                         std::chrono::month{static_cast<unsigned>(parts[1])},
                                         std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!date.ok()) return std::nullopt;
  return date;
}

int run_prediction(const bf::Options& options) {
  const std::optional<std::chrono::year_month_day> date = parse_date(options.predict);
  if (!date) {
    std::cerr << "births_forecast: --predict '" << options.predict
              << "' is not a date; expected YYYY-MM-DD, for example 1987-12-25\n";
    return kExitUsageOrData;
  }
  bf::LoadedModel loaded = bf::load_model(best_weights_path(options));
  const std::optional<ex::BirthsData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;

  const auto first = std::chrono::sys_days{bf::date_of(data->days.front())};
  const auto offset = (std::chrono::sys_days{*date} - first).count();
  if (offset < loaded.window || offset >= static_cast<long>(data->days.size())) {
    std::cerr << "births_forecast: no forecast for " << options.predict << ": the data covers "
              << ex::detail::iso_date(data->days.front()) << " to "
              << ex::detail::iso_date(data->days.back()) << ", and a forecast needs the "
              << loaded.window << " days before its day; pick a day from "
              << ex::detail::iso_date(data->days[static_cast<std::size_t>(loaded.window)])
              << " on (the test years are 1987-1988)\n";
    return kExitUsageOrData;
  }
  const auto d = static_cast<std::size_t>(offset);
  const deeprnn::Matrix<float> features = bf::step_features(data->days, loaded.standardization);
  const std::vector<std::size_t> days{d};
  const double forecast =
      bf::forecast_births(*loaded.model, features, days, loaded.window, loaded.standardization)[0];
  const ex::BirthsDay& day = data->days[d];
  std::cout << ex::detail::iso_date(day) << " (" << bf::weekday_name(day.day_of_week) << ", "
            << ex::split_name(ex::births_split_of_year(day.year)) << " split)\n"
            << "  forecast            " << std::setw(8) << std::llround(forecast) << "\n"
            << "  true count          " << std::setw(8) << day.births << "\n"
            << "  forecast - true     " << std::setw(8) << std::llround(forecast - day.births)
            << "\n"
            << "  persistence         " << std::setw(8) << data->days[d - 1].births << "\n"
            << "  same day last week  " << std::setw(8) << data->days[d - 7].births << "\n";
  return EXIT_SUCCESS;
}

int run_forecast(const bf::Options& options) {
  bf::LoadedModel loaded = bf::load_model(best_weights_path(options));
  const std::optional<ex::BirthsData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  const deeprnn::Matrix<float> features = bf::step_features(data->days, loaded.standardization);
  const std::vector<std::size_t> days = bf::forecast_days(*data, ex::Split::test, loaded.window);
  const std::vector<double> forecasts =
      bf::forecast_births(*loaded.model, features, days, loaded.window, loaded.standardization);

  ex::CsvTable table({"year", "month", "day", "day_of_week", "births", "forecast"});
  ex::PlotSeries truth{"true count", {}, {}, "#1f77b4", false};
  ex::PlotSeries predicted{"forecast", {}, {}, "#ff7f0e", true};
  std::cout << "date        day    births  forecast   error (forecast - births)\n";
  for (std::size_t i = 0; i < days.size(); ++i) {
    const ex::BirthsDay& day = data->days[days[i]];
    std::cout << ex::detail::iso_date(day) << "  " << bf::weekday_name(day.day_of_week)
              << std::setw(10) << day.births << std::setw(10) << std::llround(forecasts[i])
              << std::setw(8) << std::llround(forecasts[i] - day.births) << "\n";
    table.add_row({static_cast<double>(day.year), static_cast<double>(day.month),
                   static_cast<double>(day.day_of_month), static_cast<double>(day.day_of_week),
                   static_cast<double>(day.births), forecasts[i]});
    truth.x.push_back(static_cast<double>(i + 1));
    truth.y.push_back(day.births);
    predicted.x.push_back(static_cast<double>(i + 1));
    predicted.y.push_back(forecasts[i]);
  }
  std::filesystem::create_directories(options.output_dir);
  const std::filesystem::path csv_path = options.output_dir / "forecast.csv";
  const std::filesystem::path svg_path = options.output_dir / "forecast.svg";
  table.write(csv_path);

  // The whole period shows the yearly cycle; its last 13 weeks show single days, with
  // Thanksgiving and Christmas.
  const std::size_t zoom_days = std::min<std::size_t>(91, days.size());
  const auto last_days = [&](const ex::PlotSeries& series) {
    ex::PlotSeries part = series;
    part.x.erase(part.x.begin(), part.x.end() - static_cast<std::ptrdiff_t>(zoom_days));
    part.y.erase(part.y.begin(), part.y.end() - static_cast<std::ptrdiff_t>(zoom_days));
    return part;
  };
  const ex::BirthsDay& zoom_start = data->days[days[days.size() - zoom_days]];
  ex::write_svg_chart(
      svg_path, "births_forecast: test years 1987-1988",
      {ex::PlotPanel{
           "Whole test period", "day of the test period", "births", {truth, predicted}, false},
       ex::PlotPanel{"From " + ex::detail::iso_date(zoom_start) + " on",
                     "day of the test period",
                     "births",
                     {last_days(truth), last_days(predicted)},
                     false}});
  std::cout << "\nTest RMSE " << bf::fixed(bf::rmse_births(*data, days, forecasts), 1)
            << " births over " << days.size() << " days (weights of epoch " << loaded.epoch
            << ")\nForecasts: " << std::filesystem::absolute(csv_path).string()
            << "\nPlot:      " << std::filesystem::absolute(svg_path).string() << "\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  bf::Options options;
  try {
    if (!bf::parse_options(argc, argv, options)) return EXIT_SUCCESS;
  } catch (const ex::command_line_error& error) {
    std::cerr << "births_forecast: " << error.what() << "\n";
    return kExitUsageOrData;
  }

  try {
    if (!options.predict.empty()) return run_prediction(options);
    if (options.forecast) return run_forecast(options);
    if (options.evaluate) return run_evaluation(options);
    return run_training(options);
  } catch (const std::exception& error) {
    std::cerr << "births_forecast: " << error.what() << "\n";
    return kExitFailure;
  }
}
