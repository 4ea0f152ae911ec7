// char_language_model: a character-level stacked LSTM language model of Moby-Dick, trained
// with truncated backpropagation through time over stateful windows. It reports validation
// bits per character and generates text. Run with --help for the options.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../common/moby_dick_data.hpp"
#include "../common/progress.hpp"
#include "../common/utf8.hpp"
#include "model.hpp"
#include "options.hpp"
#include "report.hpp"
#include "training.hpp"

namespace lm = deeprnn::examples::char_language_model;
namespace ex = deeprnn::examples;

namespace {

// Exit statuses besides 0 (success).
constexpr int kExitFailure = 1;      // an error, or --quick above its bits-per-character limit
constexpr int kExitUsageOrData = 2;  // invalid command line, or the data set is missing

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::filesystem::path best_weights_path(const lm::Options& options) {
  return options.output_dir / "best.safetensors";
}

// Loads the chapters, or prints the install command and returns nothing.
std::optional<ex::MobyDickData> load_data_or_explain(const lm::Options& options) {
  const auto start = std::chrono::steady_clock::now();
  ex::MobyDickOptions data_options;
  if (!options.data_dir.empty()) data_options.data_location = options.data_dir;
  try {
    ex::MobyDickData data = ex::load_moby_dick_data(data_options);
    std::cout << "Loaded Moby-Dick: " << data.train.size() << " training, "
              << data.validation.size() << " validation and " << data.test.size()
              << " test characters, " << data.vocabulary_size() << " character ids, in "
              << ex::format_duration(seconds_since(start)) << "\n";
    return data;
  } catch (const ex::dataset_not_found& error) {
    std::cerr << "char_language_model: " << error.what() << "\n";
    return std::nullopt;
  }
}

// The first `limit` characters of a split, or all of it when limit is 0.
std::span<const int> first_characters(const std::vector<int>& text, std::int64_t limit) {
  const std::span<const int> all(text);
  if (limit <= 0 || static_cast<std::size_t>(limit) >= all.size()) return all;
  return all.first(static_cast<std::size_t>(limit));
}

// Id of a character in a vocabulary whose entries after id 0 are in code point order; 0 when
// the character is not in it.
std::int64_t character_id(const std::vector<char32_t>& vocabulary, char32_t character) {
  const auto known = vocabulary.begin() + 1;
  const auto found = std::lower_bound(known, vocabulary.end(), character);
  if (found == vocabulary.end() || *found != character) return 0;
  return found - vocabulary.begin();
}

// Draws an id from softmax(logits / temperature).
std::int64_t sample_id(const deeprnn::Matrix<float>& logits, double temperature,
                       deeprnn::Random& random) {
  const Eigen::ArrayXd scaled = logits.col(0).cast<double>().array() / temperature;
  const Eigen::ArrayXd weights = (scaled - scaled.maxCoeff()).exp();
  double threshold = random.uniform() * weights.sum();
  for (Eigen::Index id = 0; id < weights.size(); ++id) {
    threshold -= weights(id);
    if (threshold < 0.0) return id;
  }
  return weights.size() - 1;
}

// Reads `prime` into the model's sampling stream, then draws `count` characters one at a time,
// each fed back as the next input. Returns the drawn characters as UTF-8.
std::string generate_text(lm::CharLanguageModel& model, const std::vector<char32_t>& vocabulary,
                          const std::string& prime, std::int64_t count, double temperature,
                          deeprnn::Random& random) {
  std::vector<std::int64_t> prime_ids;
  std::size_t position = 0;
  while (position < prime.size()) {
    char32_t character = 0;
    if (!ex::next_code_point(prime, position, character)) {
      throw deeprnn::invalid_argument("--prime is not valid UTF-8");
    }
    prime_ids.push_back(character_id(vocabulary, character));
  }
  if (prime_ids.empty()) prime_ids.push_back(character_id(vocabulary, U'\n'));

  model.reset_sampling();
  const deeprnn::Matrix<float>* logits = nullptr;
  for (const std::int64_t id : prime_ids) logits = &model.next_logits(id);
  std::string text;
  for (std::int64_t n = 0; n < count; ++n) {
    const std::int64_t id = sample_id(*logits, temperature, random);
    ex::append_utf8(vocabulary[static_cast<std::size_t>(id)], text);
    logits = &model.next_logits(id);
  }
  model.reset_sampling();
  return text;
}

void print_run_summary(const lm::Options& options, lm::CharLanguageModel& model,
                       std::span<const int> train_text) {
  deeprnn::Index parameters = 0;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { parameters += value.size(); });
  const lm::ModelConfig& config = model.config();
  const lm::TextStreams streams(train_text, options.batch_size, options.window);
  std::cout << "Model: Embedding(" << config.vocabulary_size << ", " << config.embedding_size
            << ") -> 2 x LSTM(" << config.hidden_size << "), input dropout " << options.dropout
            << " -> Dropout(" << options.output_dropout << ") -> Dense(" << config.vocabulary_size
            << ") softmax; " << parameters << " float parameters\n"
            << "Training: " << train_text.size() << " characters in " << options.batch_size
            << " streams of " << streams.stream_length() << ", windows of " << options.window
            << " steps (" << streams.window_count() << " per epoch), Adam " << options.learning_rate
            << " -> " << options.final_learning_rate << " (cosine), clip-norm " << options.clip_norm
            << ", " << options.epochs << " epochs, seed " << options.seed << "\n"
            << "Reference on the validation text: unigram " << lm::kUnigramBits << ", bigram "
            << lm::kBigramBits << ", 5-gram " << lm::kFiveGramBits << " bits per character\n\n";
}

int run_training(const lm::Options& options) {
  const std::optional<ex::MobyDickData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  std::filesystem::create_directories(options.output_dir);
  const std::span<const int> train_text = first_characters(data->train, options.train_characters);
  const std::span<const int> validation_text =
      first_characters(data->validation, options.validation_characters);
  const std::span<const int> test_text =
      first_characters(data->test, options.validation_characters);

  lm::ModelConfig config;
  config.vocabulary_size = data->vocabulary_size();
  config.embedding_size = options.embedding_size;
  config.hidden_size = options.hidden_size;
  config.dropout = options.dropout;
  config.output_dropout = options.output_dropout;
  lm::CharLanguageModel model(config);
  deeprnn::Random random(options.seed);
  model.initialize(random);
  deeprnn::Adam<float> optimizer(deeprnn::AdamOptions{.learning_rate = options.learning_rate});
  optimizer.add(model);
  print_run_summary(options, model, train_text);

  lm::TrainingSettings settings;
  settings.streams = options.batch_size;
  settings.window = options.window;
  settings.learning_rate = options.learning_rate;
  settings.final_learning_rate = options.final_learning_rate;
  settings.clip_norm = options.clip_norm;
  settings.epochs = options.epochs;
  lm::StreamTrainer trainer(model, optimizer, random, train_text, settings);

  const std::filesystem::path best_path = best_weights_path(options);
  const std::filesystem::path csv_path = options.output_dir / "curves.csv";
  const std::filesystem::path svg_path = options.output_dir / "curves.svg";
  std::vector<lm::EpochRecord> history;
  double best_bits = HUGE_VAL;
  ex::ProgressLine progress;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const lm::EpochTraining training =
        trainer.train_epoch(epoch, [&](const lm::WindowProgress& window) {
          progress.update(lm::window_line(window, options.epochs));
        });
    lm::EpochRecord record;
    record.epoch = epoch;
    record.train_bits = training.train_bits;
    record.learning_rate = training.learning_rate;
    record.mean_gradient_norm = training.mean_gradient_norm;
    record.train_seconds = training.seconds;
    record.characters_per_second = static_cast<double>(training.characters) / training.seconds;
    record.validation_bits = lm::evaluate_bits_per_character(
        model, validation_text, options.evaluation_batch_size, options.window);
    record.improved = record.validation_bits < best_bits;
    if (record.improved) {
      best_bits = record.validation_bits;
      lm::save_model(best_path, model, data->vocabulary, epoch, best_bits);
    }
    record.seconds = seconds_since(epoch_start);
    history.push_back(record);
    progress.clear();
    std::cout << lm::epoch_line(record, options.epochs, seconds_since(start)) << std::endl;
    lm::learning_curve_table(history).write(csv_path);
    ex::write_svg_chart(svg_path, "char_language_model: Moby-Dick",
                        lm::learning_curve_panels(history));
  }

  lm::LoadedModel best = lm::load_model(best_path);
  const double test_bits = lm::evaluate_bits_per_character(
      *best.model, test_text, options.evaluation_batch_size, options.window);
  std::cout << "\nBest epoch " << best.epoch << ": validation " << lm::fixed(best_bits, 4)
            << " bits per character, test " << lm::fixed(test_bits, 4) << " (5-gram on validation "
            << lm::kFiveGramBits << ", unigram " << lm::kUnigramBits << "); total time "
            << ex::format_duration(seconds_since(start)) << "\n";
  deeprnn::Random sampling_random(options.seed);
  std::cout << "\nSample (temperature " << options.temperature << "):\n"
            << options.prime
            << generate_text(*best.model, best.vocabulary, options.prime, 300, options.temperature,
                             sampling_random)
            << "\n\nOutputs:\n  best weights      " << std::filesystem::absolute(best_path).string()
            << "\n  learning curves   " << std::filesystem::absolute(csv_path).string()
            << "\n  plot              " << std::filesystem::absolute(svg_path).string() << "\n";

  if (options.quick) {
    if (!(best_bits < lm::kQuickMaximumBitsPerCharacter)) {
      std::cerr << "char_language_model: --quick reached " << lm::fixed(best_bits, 4)
                << " validation bits per character, above the limit of "
                << lm::kQuickMaximumBitsPerCharacter << " (unigram " << lm::kUnigramBits
                << "); training is broken\n";
      return kExitFailure;
    }
    std::cout << "\n--quick: validation bits per character below "
              << lm::kQuickMaximumBitsPerCharacter << " (unigram " << lm::kUnigramBits << ")\n";
  }
  return EXIT_SUCCESS;
}

int run_evaluation(const lm::Options& options) {
  lm::LoadedModel loaded = lm::load_model(best_weights_path(options));
  const std::optional<ex::MobyDickData> data = load_data_or_explain(options);
  if (!data) return kExitUsageOrData;
  if (data->vocabulary != loaded.vocabulary) {
    std::cerr << "char_language_model: the weights were trained with another vocabulary than "
                 "the installed data set's\n";
    return kExitFailure;
  }
  const auto start = std::chrono::steady_clock::now();
  for (const ex::Split split : {ex::Split::validation, ex::Split::test}) {
    const std::span<const int> text =
        first_characters(data->split(split), options.validation_characters);
    const double bits = lm::evaluate_bits_per_character(
        *loaded.model, text, options.evaluation_batch_size, options.window);
    std::cout << ex::split_name(split) << ": " << lm::fixed(bits, 4) << " bits per character over "
              << text.size() << " characters\n";
  }
  std::cout << "(weights of epoch " << loaded.epoch << ", evaluated in "
            << ex::format_duration(seconds_since(start)) << "; 5-gram on validation "
            << lm::kFiveGramBits << ")\n";
  return EXIT_SUCCESS;
}

int run_sampling(const lm::Options& options) {
  lm::LoadedModel loaded = lm::load_model(best_weights_path(options));
  deeprnn::Random random(options.seed);
  std::cout << options.prime
            << generate_text(*loaded.model, loaded.vocabulary, options.prime, options.sample,
                             options.temperature, random)
            << "\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  lm::Options options;
  try {
    if (!lm::parse_options(argc, argv, options)) return EXIT_SUCCESS;
  } catch (const ex::command_line_error& error) {
    std::cerr << "char_language_model: " << error.what() << "\n";
    return kExitUsageOrData;
  }

  try {
    if (options.sample > 0) return run_sampling(options);
    if (options.evaluate) return run_evaluation(options);
    return run_training(options);
  } catch (const std::exception& error) {
    std::cerr << "char_language_model: " << error.what() << "\n";
    return kExitFailure;
  }
}
