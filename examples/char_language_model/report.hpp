// Output of the char_language_model example: epoch lines, the progress line, and learning
// curves as CSV and SVG.
#ifndef DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_REPORT_HPP
#define DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_REPORT_HPP

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "../common/csv.hpp"
#include "../common/plot.hpp"
#include "../common/progress.hpp"
#include "training.hpp"

namespace deeprnn::examples::char_language_model {

// Bits per character on the validation chapters of character n-gram models of the training
// chapters: unigram with add-one smoothing, interpolated Witten-Bell bigram and 5-gram.
// NOTE: the figures were computed outside this repository; only the unigram one was rechecked,
// with a plain count of the same split.
inline constexpr double kUnigramBits = 4.405;
inline constexpr double kBigramBits = 3.472;
inline constexpr double kFiveGramBits = 2.123;

// Figures of one epoch.
struct EpochRecord {
  std::int64_t epoch = 0;
  double train_bits = 0.0;
  double validation_bits = 0.0;
  double learning_rate = 0.0;
  double mean_gradient_norm = 0.0;
  double train_seconds = 0.0;
  double seconds = 0.0;                // training and validation
  double characters_per_second = 0.0;  // training characters
  bool improved = false;
};

inline std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.precision(decimals);
  out << std::fixed << value;
  return out.str();
}

// One line per epoch, for example
//   epoch  3/8  train 2.0312 bpc  val 1.9875 bpc *  lr 0.00241  |g| 0.84  7512 char/s
//               2m12s  elapsed 6m40s  left ~11m07s
// where * marks a new best validation figure.
inline std::string epoch_line(const EpochRecord& record, std::int64_t epochs,
                              double elapsed_seconds) {
  const int width = static_cast<int>(std::to_string(epochs).size());
  std::ostringstream line;
  line << "epoch " << std::setw(width) << record.epoch << "/" << epochs << "  train "
       << fixed(record.train_bits, 4) << " bpc  val " << fixed(record.validation_bits, 4) << " bpc"
       << (record.improved ? " *" : "  ") << "  lr " << std::setprecision(3) << record.learning_rate
       << "  |g| " << fixed(record.mean_gradient_norm, 2) << "  "
       << std::llround(record.characters_per_second) << " char/s  "
       << format_duration(record.seconds) << "  elapsed " << format_duration(elapsed_seconds);
  if (record.epoch < epochs) {
    line << "  left ~"
         << format_duration(estimate_remaining_seconds(
                elapsed_seconds, static_cast<double>(record.epoch), static_cast<double>(epochs)));
  }
  return line.str();
}

// The status line shown while an epoch runs.
inline std::string window_line(const WindowProgress& progress, std::int64_t epochs) {
  const double fraction =
      static_cast<double>(progress.window) / static_cast<double>(progress.window_count);
  std::ostringstream line;
  line << "epoch " << progress.epoch << "/" << epochs << " " << progress_bar(fraction) << " "
       << progress.window << "/" << progress.window_count << "  train "
       << fixed(progress.mean_bits, 4) << " bpc  "
       << std::llround(static_cast<double>(progress.characters) / progress.seconds)
       << " char/s  epoch left ~"
       << format_duration(estimate_remaining_seconds(progress.seconds,
                                                     static_cast<double>(progress.window),
                                                     static_cast<double>(progress.window_count)));
  return line.str();
}

inline CsvTable learning_curve_table(const std::vector<EpochRecord>& history) {
  CsvTable table({"epoch", "train_bpc", "val_bpc", "learning_rate", "mean_gradient_norm",
                  "train_seconds", "seconds", "characters_per_second"});
  for (const EpochRecord& record : history) {
    table.add_row({static_cast<double>(record.epoch), record.train_bits, record.validation_bits,
                   record.learning_rate, record.mean_gradient_norm, record.train_seconds,
                   record.seconds, record.characters_per_second});
  }
  return table;
}

// Bits per character of training and validation by epoch, with the 5-gram's figure as a
// reference line.
inline std::vector<PlotPanel> learning_curve_panels(const std::vector<EpochRecord>& history) {
  PlotSeries train{"train (with dropout)", {}, {}, "#1f77b4", false};
  PlotSeries validation{"validation", {}, {}, "#ff7f0e", true};
  PlotSeries five_gram{"5-gram (validation)", {}, {}, "#7f7f7f", true};
  for (const EpochRecord& record : history) {
    const auto epoch = static_cast<double>(record.epoch);
    train.x.push_back(epoch);
    train.y.push_back(record.train_bits);
    validation.x.push_back(epoch);
    validation.y.push_back(record.validation_bits);
    five_gram.x.push_back(epoch);
    five_gram.y.push_back(kFiveGramBits);
  }
  PlotPanel panel{
      "Cross-entropy", "epoch", "bits per character", {train, validation, five_gram}, false};
  return {panel};
}

}  // namespace deeprnn::examples::char_language_model

#endif  // DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_REPORT_HPP
