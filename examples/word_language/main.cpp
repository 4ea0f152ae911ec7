// word_language: which language is a word from? A character-level stacked LSTM classifier
// trained on eight Debian word lists, with checkpoints, learning curves and a confusion matrix.
// Run with --help for the options.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/word_language_data.hpp"
#include "options.hpp"
#include "report.hpp"
#include "training.hpp"

namespace wl = deeprnn::examples::word_language;
namespace ex = deeprnn::examples;

namespace {

// Exit statuses besides 0 (success).
constexpr int kExitFailure = 1;      // an error, or --quick below its accuracy threshold
constexpr int kExitUsageOrData = 2;  // invalid command line, or the word lists are missing
constexpr double kQuickMinimumAccuracy = 0.35;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

wl::Variant chosen_variant(const wl::Options& options) {
  return options.summary ? wl::Variant::summary : wl::Variant::top_state;
}

// Loads the word lists, or prints what to install and returns nothing.
std::optional<wl::WordData> load_data_or_explain(const wl::Options& options) {
  const auto start = std::chrono::steady_clock::now();
  try {
    wl::WordData data = wl::load_data(options);
    std::cout << "Loaded " << data.train.size() << " training, " << data.validation.size()
              << " validation and " << data.test.size() << " test words of "
              << data.languages.size() << " languages from " << options.dict_dir.string() << " in "
              << ex::format_duration(seconds_since(start)) << std::endl;
    return data;
  } catch (const ex::dataset_not_found& error) {
    std::cerr << "word_language: " << error.what() << "\n\nInstall the word lists with:\n  "
              << ex::kWordListInstallCommand << "\n(prefix it with sudo unless you are root)\n";
    return std::nullopt;
  }
}

void print_model_summary(const wl::Options& options, wl::Variant variant) {
  wl::Model model(
      wl::model_config(options.embedding_size, options.hidden_size, options.dropout, variant, 8));
  deeprnn::Index parameters = 0;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { parameters += value.size(); });
  std::cout << "Model (" << wl::variant_name(variant) << "): Embedding(" << ex::kWordVocabularySize
            << ", " << options.embedding_size << ") -> SpatialDropout1D(" << options.dropout
            << ") -> 3 x LSTM(" << options.hidden_size << ") -> "
            << wl::variant_description(variant) << " -> Dense(8) softmax; " << parameters
            << " float parameters\n"
            << "Training: " << options.init << " initial weights, Adam " << options.learning_rate
            << ", batch " << options.batch_size << ", clip-norm " << options.clip_norm << ", "
            << options.epochs << " epochs, seed " << options.seed << std::endl;
}

// Trains one variant, printing a line per epoch and a progress line while an epoch runs.
wl::TrainingOutcome train_and_report(const wl::Options& options, const wl::WordData& data,
                                     wl::Variant variant) {
  print_model_summary(options, variant);
  ex::ProgressLine progress;
  const auto start = std::chrono::steady_clock::now();
  deeprnn::FitCallbacks callbacks;
  callbacks.on_batch = [&](const deeprnn::BatchProgress& batch) {
    progress.update(wl::batch_line(batch, options.epochs));
  };
  callbacks.on_epoch_end = [&](const deeprnn::EpochMetrics& metrics) {
    progress.clear();
    std::cout << wl::epoch_line(metrics, options.epochs, seconds_since(start), 1) << std::endl;
  };
  wl::TrainingOutcome outcome = wl::train_variant(options, data, variant, callbacks);
  if (outcome.stopped_early) {
    std::cout << "Stopped early: no better validation accuracy for " << options.patience
              << " epochs\n";
  }
  return outcome;
}

void write_curves(const wl::Options& options, const wl::TrainingOutcome& outcome) {
  const wl::OutputFiles files = wl::output_files(options.output_dir, outcome.variant);
  wl::learning_curve_table(outcome.history).write(files.curves_csv);
  ex::write_svg_chart(files.curves_svg,
                      "word_language: " + wl::variant_description(outcome.variant),
                      wl::learning_curve_panels({{"", &outcome.history}}));
}

void print_outputs(const wl::Options& options, wl::Variant variant) {
  const wl::OutputFiles files =
      wl::output_files(std::filesystem::absolute(options.output_dir), variant);
  std::cout << "\nOutputs (" << wl::variant_name(variant) << "):\n"
            << "  best checkpoint   " << files.best_checkpoint.string() << "\n"
            << "  last checkpoint   " << files.last_checkpoint.string() << "\n"
            << "  learning curves   " << files.curves_csv.string() << "\n"
            << "  plot              " << files.curves_svg.string() << "\n";
}

int run_training(const wl::Options& options) {
  const std::optional<wl::WordData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  std::filesystem::create_directories(options.output_dir);

  std::vector<wl::Variant> variants{chosen_variant(options)};
  if (options.compare) variants = {wl::Variant::top_state, wl::Variant::summary};

  std::vector<wl::TrainingOutcome> outcomes;
  for (const wl::Variant variant : variants) {
    std::cout << "\n";
    outcomes.push_back(train_and_report(options, *data, variant));
    print_test_result(std::cout, outcomes.back(), data->languages);
    write_curves(options, outcomes.back());
  }
  if (options.compare) {
    print_comparison(std::cout, outcomes[0], outcomes[1]);
    const auto path = options.output_dir / "compare-curves.svg";
    ex::write_svg_chart(path, "word_language: top-layer state vs summary encoding",
                        wl::learning_curve_panels({{"top-state", &outcomes[0].history},
                                                   {"summary", &outcomes[1].history}}));
    std::cout << "\nComparison plot: " << std::filesystem::absolute(path).string() << "\n";
  }
  for (const wl::Variant variant : variants) print_outputs(options, variant);

  if (options.quick) {
    for (const wl::TrainingOutcome& outcome : outcomes) {
      if (outcome.test.accuracy < kQuickMinimumAccuracy) {
        std::cerr << "word_language: --quick reached " << ex::format_percent(outcome.test.accuracy)
                  << " test accuracy (" << wl::variant_name(outcome.variant)
                  << "), below the required " << ex::format_percent(kQuickMinimumAccuracy)
                  << "; training is broken\n";
        return kExitFailure;
      }
    }
    std::cout << "\n--quick: test accuracy above " << ex::format_percent(kQuickMinimumAccuracy)
              << " (chance 12.5%)\n";
  }
  return EXIT_SUCCESS;
}

int run_evaluation(const wl::Options& options) {
  wl::LoadedModel loaded = wl::load_best_model(options.output_dir, chosen_variant(options));
  const std::optional<wl::WordData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  if (data->languages != loaded.languages) {
    std::cerr << "word_language: the checkpoint was trained on other languages\n";
    return kExitFailure;
  }
  wl::TrainingOutcome outcome;
  outcome.variant = chosen_variant(options);
  outcome.best_epoch = loaded.epoch;
  outcome.confusion =
      deeprnn::ConfusionMatrix(static_cast<deeprnn::Index>(loaded.languages.size()));
  outcome.test =
      deeprnn::evaluate(*loaded.model, data->test, 256, ex::kWordPaddingId, &outcome.confusion);
  print_test_result(std::cout, outcome, loaded.languages);
  return EXIT_SUCCESS;
}

int run_prediction(const wl::Options& options) {
  const std::optional<std::string> word = ex::normalize_word(options.predict);
  if (!word) {
    std::cerr << "word_language: '" << options.predict
              << "' is not a word the model can read: use letters a-z and the accented Latin "
                 "letters of U+00DF-U+017F only, with no digits, spaces or punctuation\n";
    return kExitUsageOrData;
  }
  wl::LoadedModel loaded = wl::load_best_model(options.output_dir, chosen_variant(options));
  const std::vector<int> characters = ex::word_character_ids(*word);
  const std::vector<std::int64_t> ids(characters.begin(), characters.end());
  const deeprnn::Matrix<float> probabilities = loaded.model->predict(ids, 1);

  std::vector<std::size_t> order(loaded.languages.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return probabilities(static_cast<deeprnn::Index>(a), 0) >
           probabilities(static_cast<deeprnn::Index>(b), 0);
  });
  std::cout << "'" << *word << "' (" << wl::variant_name(chosen_variant(options))
            << " model, epoch " << loaded.epoch << "):\n";
  for (const std::size_t c : order) {
    const double p = probabilities(static_cast<deeprnn::Index>(c), 0);
    std::cout << "  " << std::left << std::setw(11)
              << std::string(ex::language_name(loaded.languages[c])) << std::right << std::setw(7)
              << ex::format_percent(p) << "  "
              << std::string(static_cast<std::size_t>(std::lround(p * 40)), '#') << "\n";
  }
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Options options;
  try {
    if (!wl::parse_options(argc, argv, options)) return EXIT_SUCCESS;
  } catch (const ex::command_line_error& error) {
    std::cerr << "word_language: " << error.what() << "\n";
    return kExitUsageOrData;
  }

  try {
    if (!options.predict.empty()) return run_prediction(options);
    if (options.evaluate) return run_evaluation(options);
    return run_training(options);
  } catch (const std::exception& error) {
    std::cerr << "word_language: " << error.what() << "\n";
    return kExitFailure;
  }
}
