// Output of the word_language example: epoch lines, the confusion matrix, the
// side-by-side comparison, and learning curves as CSV and SVG.
#ifndef DEEPRNN_EXAMPLES_WORD_LANGUAGE_REPORT_HPP
#define DEEPRNN_EXAMPLES_WORD_LANGUAGE_REPORT_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../common/csv.hpp"
#include "../common/plot.hpp"
#include "../common/progress.hpp"
#include "training.hpp"

namespace deeprnn::examples::word_language {

inline std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.precision(decimals);
  out << std::fixed << value;
  return out.str();
}

// One line per epoch, for example
//   epoch  3/10  train loss 0.5123 acc 83.2%  val loss 0.4811 acc 84.9% *  test acc 85.0%
//                1234 seq/s  27.1s  elapsed 1m22s  left ~3m10s
// where * marks a new best validation accuracy.
inline std::string epoch_line(const EpochMetrics& metrics, std::int64_t epochs,
                              double elapsed_seconds, std::int64_t first_epoch) {
  const int width = static_cast<int>(std::to_string(epochs).size());
  std::ostringstream line;
  line << "epoch " << std::setw(width) << metrics.epoch << "/" << epochs << "  train loss "
       << fixed(metrics.train_loss, 4) << " acc " << format_percent(metrics.train_accuracy);
  if (metrics.validation) {
    line << "  val loss " << fixed(metrics.validation->loss, 4) << " acc "
         << format_percent(metrics.validation->accuracy) << (metrics.improved ? " *" : "  ");
  }
  if (metrics.test) line << "  test acc " << format_percent(metrics.test->accuracy);
  const double done = static_cast<double>(metrics.epoch - first_epoch + 1);
  const double total = static_cast<double>(epochs - first_epoch + 1);
  line << "  " << std::llround(metrics.sequences_per_second) << " seq/s  "
       << format_duration(metrics.seconds) << "  elapsed " << format_duration(elapsed_seconds);
  if (metrics.epoch < epochs) {
    line << "  left ~" << format_duration(estimate_remaining_seconds(elapsed_seconds, done, total));
  }
  return line.str();
}

// The status line shown while an epoch runs.
inline std::string batch_line(const BatchProgress& progress, std::int64_t epochs) {
  const double fraction =
      static_cast<double>(progress.samples) / static_cast<double>(progress.sample_count);
  std::ostringstream line;
  line << "epoch " << progress.epoch << "/" << epochs << " " << progress_bar(fraction) << " "
       << progress.batch << "/" << progress.batch_count << "  loss " << fixed(progress.mean_loss, 4)
       << " acc " << format_percent(progress.mean_accuracy) << "  "
       << std::llround(static_cast<double>(progress.samples) / progress.seconds)
       << " seq/s  epoch left ~"
       << format_duration(estimate_remaining_seconds(progress.seconds,
                                                     static_cast<double>(progress.samples),
                                                     static_cast<double>(progress.sample_count)));
  return line.str();
}

// ISO 639-1 code of a language, for narrow column headers.
inline std::string language_code(Language language) {
  switch (language) {
    case Language::english:
      return "en";
    case Language::french:
      return "fr";
    case Language::german:
      return "de";
    case Language::spanish:
      return "es";
    case Language::italian:
      return "it";
    case Language::portuguese:
      return "pt";
    case Language::dutch:
      return "nl";
    case Language::polish:
      return "pl";
  }
  return "?";
}

// The confusion matrix with language names: row = true language, column = predicted language
// (by ISO 639-1 code), and the recall of each language at the end of its row.
inline void print_confusion_matrix(std::ostream& out, const ConfusionMatrix& confusion,
                                   const std::vector<Language>& languages) {
  const auto row_label = [](Language language) {
    return std::string(language_name(language)) + " (" + language_code(language) + ")";
  };
  std::size_t label_width = 4;
  for (const Language language : languages) {
    label_width = std::max(label_width, row_label(language).size());
  }
  const int cell = 6;
  out << "Confusion matrix of the test words (rows: true language, columns: predicted)\n";
  out << std::string(label_width + 2, ' ');
  for (const Language language : languages) out << std::setw(cell) << language_code(language);
  out << "  recall\n";
  const std::vector<double> recall = confusion.recall();
  for (std::size_t t = 0; t < languages.size(); ++t) {
    out << std::left << std::setw(static_cast<int>(label_width + 2)) << row_label(languages[t])
        << std::right;
    for (std::size_t p = 0; p < languages.size(); ++p) {
      out << std::setw(cell) << confusion.counts()(static_cast<Index>(t), static_cast<Index>(p));
    }
    out << "  " << std::setw(6) << format_percent(recall[t]) << "\n";
  }
}

// Columns of the learning-curve CSV file.
inline CsvTable learning_curve_table(const std::vector<EpochMetrics>& history) {
  CsvTable table({"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"});
  const double missing = std::numeric_limits<double>::quiet_NaN();
  for (const EpochMetrics& metrics : history) {
    table.add_row({static_cast<double>(metrics.epoch), metrics.train_loss, metrics.train_accuracy,
                   metrics.validation ? metrics.validation->loss : missing,
                   metrics.validation ? metrics.validation->accuracy : missing, metrics.seconds});
  }
  return table;
}

// Loss and accuracy panels with the train and validation curves of each run. `runs` pairs a
// label prefix with a history; a second run is drawn in other colours.
inline std::vector<PlotPanel> learning_curve_panels(
    const std::vector<std::pair<std::string, const std::vector<EpochMetrics>*>>& runs) {
  const std::vector<std::pair<std::string, std::string>> colors{{"#1f77b4", "#ff7f0e"},
                                                                {"#2ca02c", "#d62728"}};
  PlotPanel loss{"Loss", "epoch", "mean cross-entropy (nats)", {}, false};
  PlotPanel accuracy{"Accuracy", "epoch", "accuracy", {}, true};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& [label, history] = runs[r];
    const std::string prefix = label.empty() ? "" : label + " ";
    const auto& [train_color, validation_color] = colors[r % colors.size()];
    PlotSeries train_loss{prefix + "train", {}, {}, train_color, false};
    PlotSeries validation_loss{prefix + "validation", {}, {}, validation_color, true};
    PlotSeries train_accuracy = train_loss;
    PlotSeries validation_accuracy = validation_loss;
    for (const EpochMetrics& metrics : *history) {
      const auto epoch = static_cast<double>(metrics.epoch);
      const double missing = std::numeric_limits<double>::quiet_NaN();
      for (PlotSeries* series :
           {&train_loss, &validation_loss, &train_accuracy, &validation_accuracy}) {
        series->x.push_back(epoch);
      }
      train_loss.y.push_back(metrics.train_loss);
      train_accuracy.y.push_back(metrics.train_accuracy);
      validation_loss.y.push_back(metrics.validation ? metrics.validation->loss : missing);
      validation_accuracy.y.push_back(metrics.validation ? metrics.validation->accuracy : missing);
    }
    loss.series.push_back(train_loss);
    loss.series.push_back(validation_loss);
    accuracy.series.push_back(train_accuracy);
    accuracy.series.push_back(validation_accuracy);
  }
  return {loss, accuracy};
}

inline void print_test_result(std::ostream& out, const TrainingOutcome& outcome,
                              const std::vector<Language>& languages) {
  out << "\nTest accuracy (" << variant_name(outcome.variant) << ", best epoch "
      << outcome.best_epoch << " by validation accuracy): " << format_percent(outcome.test.accuracy)
      << " of " << outcome.test.samples << " words, loss " << fixed(outcome.test.loss, 4)
      << ", chance " << format_percent(1.0 / static_cast<double>(languages.size())) << "\n\n";
  print_confusion_matrix(out, outcome.confusion, languages);
}

// The per-epoch figures of two runs next to each other, then their test results.
inline void print_comparison(std::ostream& out, const TrainingOutcome& first,
                             const TrainingOutcome& second) {
  out << "\nSide by side (validation accuracy; * marks each run's best epoch)\n";
  out << "epoch  " << std::setw(28) << std::left << variant_name(first.variant)
      << variant_name(second.variant) << std::right << "\n";
  const std::size_t epochs = std::max(first.history.size(), second.history.size());
  const auto cell = [](const TrainingOutcome& outcome, std::size_t i) {
    if (i >= outcome.history.size()) return std::string("-");
    const EpochMetrics& metrics = outcome.history[i];
    std::string text = "loss " + fixed(metrics.train_loss, 4) + "  val " +
                       format_percent(metrics.validation ? metrics.validation->accuracy : 0.0);
    if (metrics.epoch == outcome.best_epoch) text += " *";
    return text;
  };
  for (std::size_t i = 0; i < epochs; ++i) {
    out << std::setw(5) << i + 1 << "  " << std::setw(28) << std::left << cell(first, i)
        << cell(second, i) << std::right << "\n";
  }
  out << "test   " << std::setw(28) << std::left << format_percent(first.test.accuracy)
      << format_percent(second.test.accuracy) << std::right << "\n";
  out << "time   " << std::setw(28) << std::left << format_duration(first.seconds)
      << format_duration(second.seconds) << std::right << "\n";
}

}  // namespace deeprnn::examples::word_language

#endif  // DEEPRNN_EXAMPLES_WORD_LANGUAGE_REPORT_HPP
