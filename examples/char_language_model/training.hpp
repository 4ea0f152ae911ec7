// Training and evaluation of the character language model over parallel streams of text, and
// its weight files.
#ifndef DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_TRAINING_HPP
#define DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_TRAINING_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "../common/moby_dick_data.hpp"
#include "../common/utf8.hpp"
#include "model.hpp"

namespace deeprnn::examples::char_language_model {

// A text cut into `streams` equal parts that are read side by side in windows of at most
// `window` characters. Stream b is text[offset + b*L, offset + (b+1)*L) with
// L = (text.size() - offset) / streams; the characters after the last stream are not used.
// Window k holds, for every stream, the inputs at stream positions kT .. kT+T-1 and as targets
// the characters one position later, so the last window of an epoch may be shorter and
// L - 1 characters of each stream are predicted.
class TextStreams {
 public:
  TextStreams(std::span<const int> text, Index streams, Index window, Index offset = 0)
      : text_(text), streams_(streams), window_(window), offset_(offset) {
    if (streams < 1 || window < 1 || offset < 0) {
      throw invalid_argument("TextStreams: streams is " + std::to_string(streams) + ", window " +
                             std::to_string(window) + " and offset " + std::to_string(offset) +
                             "; expected streams >= 1, window >= 1 and offset >= 0");
    }
    const auto usable = static_cast<Index>(text.size()) - offset;
    stream_length_ = usable > 0 ? usable / streams : 0;
    if (stream_length_ < 2) {
      throw invalid_argument("the text has " + std::to_string(text.size()) +
                             " characters, too few for " + std::to_string(streams) +
                             " streams of at least 2 characters each; use a longer text or a "
                             "smaller batch size");
    }
  }

  Index streams() const { return streams_; }
  Index stream_length() const { return stream_length_; }
  Index window_count() const { return (stream_length_ - 1 + window_ - 1) / window_; }

  // Number of predicted characters over all windows.
  Index predicted_characters() const { return streams_ * (stream_length_ - 1); }

  // Fills the inputs and targets of window k, position t*B + b for stream b at step t, and
  // returns the window's number of steps.
  Index fill(Index k, std::vector<std::int64_t>& inputs, std::vector<std::int64_t>& targets) const {
    const Index first = k * window_;
    const Index steps = std::min(window_, stream_length_ - 1 - first);
    const auto count = static_cast<std::size_t>(steps * streams_);
    inputs.resize(count);
    targets.resize(count);
    for (Index t = 0; t < steps; ++t) {
      for (Index b = 0; b < streams_; ++b) {
        const auto position = static_cast<std::size_t>(offset_ + b * stream_length_ + first + t);
        const auto column = static_cast<std::size_t>(t * streams_ + b);
        inputs[column] = text_[position];
        targets[column] = text_[position + 1];
      }
    }
    return steps;
  }

 private:
  std::span<const int> text_;
  Index streams_;
  Index window_;
  Index offset_;
  Index stream_length_ = 0;
};

// Mean cross-entropy in bits per predicted character over a whole text, read statefully in
// `streams` parallel streams of windows of `window` characters, in evaluation mode (no
// dropout). The model's training flag is restored afterwards and its carried state reset.
inline double evaluate_bits_per_character(CharLanguageModel& model, std::span<const int> text,
                                          Index streams, Index window) {
  const TextStreams windows(text, streams, window);
  const bool was_training = model.training();
  model.set_training(false);
  model.reset_state();
  Random unused;  // evaluation mode draws no dropout mask
  std::vector<std::int64_t> inputs;
  std::vector<std::int64_t> targets;
  double nats_sum = 0.0;
  for (Index k = 0; k < windows.window_count(); ++k) {
    windows.fill(k, inputs, targets);
    const Matrix<float>& logits = model.forward(inputs, streams, unused);
    nats_sum += static_cast<double>(softmax_cross_entropy(logits, targets)) *
                static_cast<double>(targets.size());
  }
  model.reset_state();
  model.set_training(was_training);
  return deeprnn::bits_per_character(nats_sum /
                                     static_cast<double>(windows.predicted_characters()));
}

struct TrainingSettings {
  Index streams = 16;
  Index window = 64;
  double learning_rate = 5e-3;
  double final_learning_rate = 5e-4;
  double clip_norm = 1.0;
  std::int64_t epochs = 1;
};

// Progress within an epoch, reported after every window.
struct WindowProgress {
  std::int64_t epoch = 0;  // 1-based
  Index window = 0;        // 1-based
  Index window_count = 0;
  double mean_bits = 0.0;  // training bits per character of the epoch so far
  double seconds = 0.0;    // since the epoch started
  Index characters = 0;    // predicted characters of the epoch so far
};

struct EpochTraining {
  double train_bits = 0.0;  // mean over the epoch's windows, with dropout active
  double seconds = 0.0;
  Index characters = 0;
  double learning_rate = 0.0;       // at the epoch's last step
  double mean_gradient_norm = 0.0;  // before clipping
};

// Trains the model on the training text, one epoch per train_epoch() call. Each epoch starts
// from zero states at a random offset in [0, window), so that the window boundaries move from
// epoch to epoch. The learning rate follows a cosine from settings.learning_rate at the run's
// first step to settings.final_learning_rate at its last.
class StreamTrainer {
 public:
  StreamTrainer(CharLanguageModel& model, Adam<float>& optimizer, Random& random,
                std::span<const int> text, const TrainingSettings& settings)
      : model_(model), optimizer_(optimizer), random_(random), text_(text), settings_(settings) {
    const TextStreams probe(text, settings.streams, settings.window);
    total_steps_ = std::max<std::int64_t>(1, probe.window_count() * settings.epochs);
  }

  EpochTraining train_epoch(std::int64_t epoch,
                            const std::function<void(const WindowProgress&)>& on_window) {
    const auto offset = static_cast<Index>(random_.uniform_index(
        static_cast<std::uint64_t>(std::min<Index>(settings_.window, offset_count()))));
    const TextStreams windows(text_, settings_.streams, settings_.window, offset);
    model_.set_training(true);
    model_.reset_state();

    const auto start = std::chrono::steady_clock::now();
    EpochTraining result;
    double nats_sum = 0.0;
    double norm_sum = 0.0;
    for (Index k = 0; k < windows.window_count(); ++k) {
      windows.fill(k, inputs_, targets_);
      model_.zero_gradients();
      const Matrix<float>& logits = model_.forward(inputs_, settings_.streams, random_);
      const double loss = softmax_cross_entropy(logits, targets_, &d_logits_);
      model_.backward(d_logits_);

      const double norm = settings_.clip_norm > 0.0
                              ? optimizer_.clip_gradient_norm(settings_.clip_norm)
                              : optimizer_.parameters().gradient_norm();
      if (!std::isfinite(loss) || !std::isfinite(norm)) {
        throw invalid_argument("training diverged at epoch " + std::to_string(epoch) + ", window " +
                               std::to_string(k + 1) +
                               ": the loss or gradient norm is not finite; lower "
                               "--learning-rate or --clip-norm");
      }
      result.learning_rate = current_learning_rate();
      optimizer_.options.learning_rate = result.learning_rate;
      optimizer_.step();
      ++step_;

      nats_sum += loss * static_cast<double>(targets_.size());
      norm_sum += norm;
      result.characters += static_cast<Index>(targets_.size());
      result.seconds = seconds_since(start);
      if (on_window) {
        on_window({epoch, k + 1, windows.window_count(),
                   deeprnn::bits_per_character(nats_sum / static_cast<double>(result.characters)),
                   result.seconds, result.characters});
      }
    }
    model_.reset_state();
    result.train_bits =
        deeprnn::bits_per_character(nats_sum / static_cast<double>(result.characters));
    result.mean_gradient_norm = norm_sum / static_cast<double>(windows.window_count());
    return result;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // Number of offsets 0, 1, ... that still leave every stream at least 2 characters.
  Index offset_count() const {
    return std::max<Index>(1, static_cast<Index>(text_.size()) - 2 * settings_.streams + 1);
  }

  double current_learning_rate() const {
    if (total_steps_ <= 1) return settings_.learning_rate;
    return cosine_decay(settings_.learning_rate, std::min(step_, total_steps_ - 1),
                        total_steps_ - 1, 0, settings_.final_learning_rate);
  }

  CharLanguageModel& model_;
  Adam<float>& optimizer_;
  Random& random_;
  std::span<const int> text_;
  TrainingSettings settings_;
  std::int64_t total_steps_ = 1;
  std::int64_t step_ = 0;
  std::vector<std::int64_t> inputs_;
  std::vector<std::int64_t> targets_;
  Matrix<float> d_logits_;
};

// Value of the "example" metadata entry of the weight files.
inline constexpr const char* kExampleName = "char_language_model";

inline std::string utf8_of(const std::vector<char32_t>& characters) {
  std::string text;
  for (const char32_t character : characters) append_utf8(character, text);
  return text;
}

// Writes the weight file atomically: the parameters under their names (see
// CharLanguageModel::for_each_parameter), and as metadata the vocabulary, the layer widths and
// the epoch's figures. Throws when a parameter is not finite.
inline void save_model(const std::filesystem::path& path, CharLanguageModel& model,
                       const std::vector<char32_t>& vocabulary, std::int64_t epoch,
                       double validation_bits) {
  io::SafetensorsWriter writer;
  io::add_weights(writer, model);
  writer.set_metadata("format", io::weights_format);
  writer.set_metadata("format_version", io::weights_format_version);
  writer.set_metadata("example", kExampleName);
  writer.set_metadata("vocabulary", utf8_of(vocabulary));
  writer.set_metadata("embedding_size", std::to_string(model.config().embedding_size));
  writer.set_metadata("hidden_size", std::to_string(model.config().hidden_size));
  writer.set_metadata("epoch", std::to_string(epoch));
  writer.set_metadata("validation_bits_per_character", std::to_string(validation_bits));
  writer.write(path);
}

// A model rebuilt from a weight file, in evaluation mode.
struct LoadedModel {
  std::unique_ptr<CharLanguageModel> model;
  std::vector<char32_t> vocabulary;  // vocabulary[id]; id 0 is the unknown character
  std::int64_t epoch = 0;
  std::string validation_bits;  // as saved, for display
};

// Throws deeprnn::invalid_argument when the file is missing or was not written by this
// example, and io::format_error when its tensors do not fit the model its metadata describes.
inline LoadedModel load_model(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw invalid_argument("no weights at " + path.string() +
                           "; train the model first (run char_language_model with the same "
                           "--output-dir)");
  }
  const io::SafetensorsFile file = io::SafetensorsFile::read(path);
  const auto value = [&](const std::string& key) {
    const auto found = file.metadata().find(key);
    if (found == file.metadata().end()) {
      throw invalid_argument(path.string() + " has no metadata entry \"" + key +
                             "\"; it was not written by the char_language_model example");
    }
    return found->second;
  };
  if (value("example") != kExampleName) {
    throw invalid_argument(path.string() + " was written by the example \"" + value("example") +
                           "\", not " + kExampleName);
  }

  LoadedModel loaded;
  const std::string vocabulary = value("vocabulary");
  std::size_t position = 0;
  while (position < vocabulary.size()) {
    char32_t character = 0;
    if (!next_code_point(vocabulary, position, character)) {
      throw invalid_argument(path.string() + ": the metadata vocabulary is not valid UTF-8");
    }
    loaded.vocabulary.push_back(character);
  }
  ModelConfig config;
  config.vocabulary_size = static_cast<Index>(loaded.vocabulary.size());
  config.embedding_size = std::stoll(value("embedding_size"));
  config.hidden_size = std::stoll(value("hidden_size"));
  loaded.model = std::make_unique<CharLanguageModel>(config);
  io::load_weights(file, *loaded.model);
  loaded.model->set_training(false);
  loaded.epoch = std::stoll(value("epoch"));
  loaded.validation_bits = value("validation_bits_per_character");
  return loaded;
}

}  // namespace deeprnn::examples::char_language_model

#endif  // DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_TRAINING_HPP
