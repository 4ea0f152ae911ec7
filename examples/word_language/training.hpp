// The word_language model, its data, training with checkpoints, and reloading it.
#ifndef DEEPRNN_EXAMPLES_WORD_LANGUAGE_TRAINING_HPP
#define DEEPRNN_EXAMPLES_WORD_LANGUAGE_TRAINING_HPP

#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/init.hpp>
#include <deeprnn/io/safetensors.hpp>
#include <deeprnn/train/checkpoint.hpp>
#include <deeprnn/train/fit.hpp>
#include <deeprnn/train/metrics.hpp>
#include <deeprnn/train/model.hpp>
#include <deeprnn/train/optimizers.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../common/word_language_data.hpp"
#include "options.hpp"

namespace deeprnn::examples::word_language {

using Stack = StackedRNN<LSTM<float>, LSTM<float>, LSTM<float>>;
using Model = SequenceClassifier<Stack, LSTM<float>>;

// The two ways the classifier reads the stack.
enum class Variant { top_state, summary };

inline std::string variant_name(Variant variant) {
  return variant == Variant::summary ? "summary" : "top-state";
}

inline std::string variant_description(Variant variant) {
  return variant == Variant::summary ? "SummaryRNN encoding of the three layers' final states"
                                     : "final state of the top LSTM layer";
}

// Files of one variant in the output folder.
struct OutputFiles {
  std::filesystem::path best_checkpoint;  // weights of the best epoch by validation accuracy
  std::filesystem::path last_checkpoint;  // state after the last completed epoch
  std::filesystem::path curves_csv;
  std::filesystem::path curves_svg;
};

inline OutputFiles output_files(const std::filesystem::path& directory, Variant variant) {
  const std::string stem = variant_name(variant);
  return {directory / (stem + "-best.safetensors"), directory / (stem + "-last.safetensors"),
          directory / (stem + "-curves.csv"), directory / (stem + "-curves.svg")};
}

// The three splits as token sequences: character ids with 0 as padding.
struct WordData {
  std::vector<Language> languages;
  LabeledSequences train;
  LabeledSequences validation;
  LabeledSequences test;
};

inline LabeledSequences to_sequences(const std::vector<WordSample>& samples) {
  LabeledSequences result;
  result.sequences.reserve(samples.size());
  result.labels.reserve(samples.size());
  for (const WordSample& sample : samples) {
    result.sequences.emplace_back(sample.char_ids.begin(), sample.char_ids.end());
    result.labels.push_back(sample.label);
  }
  return result;
}

inline WordData load_data(const Options& options) {
  WordLanguageOptions data_options;
  data_options.dictionary_directory = options.dict_dir;
  data_options.train_words_per_language = static_cast<std::size_t>(options.train_per_language);
  data_options.validation_words_per_language =
      static_cast<std::size_t>(options.validation_per_language);
  data_options.test_words_per_language = static_cast<std::size_t>(options.test_per_language);
  const WordLanguageData data = load_word_language_data(data_options);
  return {data.languages, to_sequences(data.train), to_sequences(data.validation),
          to_sequences(data.test)};
}

inline ClassifierConfig model_config(std::int64_t embedding_size, std::int64_t hidden_size,
                                     double dropout, Variant variant, Index class_count) {
  ClassifierConfig config;
  config.vocabulary_size = kWordVocabularySize;
  config.embedding_size = embedding_size;
  config.hidden_sizes = {hidden_size, hidden_size, hidden_size};
  config.class_count = class_count;
  config.dropout_rate = dropout;
  config.features = variant == Variant::summary ? ClassifierFeatures::summary
                                                : ClassifierFeatures::top_final_hidden;
  config.padding_id = kWordPaddingId;
  return config;
}

inline std::string join_language_names(const std::vector<Language>& languages) {
  std::string text;
  for (const Language language : languages) {
    text += (text.empty() ? "" : ",") + std::string(language_name(language));
  }
  return text;
}

// What a checkpoint records about the model, so that --predict and --evaluate can rebuild it.
inline std::map<std::string, std::string> checkpoint_metadata(
    const Options& options, Variant variant, const std::vector<Language>& languages) {
  return {{"example", "word_language"},
          {"variant", variant_name(variant)},
          {"languages", join_language_names(languages)},
          {"embedding_size", std::to_string(options.embedding_size)},
          {"hidden_size", std::to_string(options.hidden_size)},
          {"dropout", std::to_string(options.dropout)},
          {"init", options.init},
          {"seed", std::to_string(options.seed)}};
}

// Everything a training run produced.
struct TrainingOutcome {
  Variant variant = Variant::top_state;
  std::vector<EpochMetrics> history;
  std::int64_t best_epoch = 0;
  Evaluation test;
  ConfusionMatrix confusion{8};
  double seconds = 0.0;
  bool stopped_early = false;
};

// Trains one variant with the options' settings, saving the last and the best checkpoint after
// every epoch, then evaluates the best weights on the test split.
inline TrainingOutcome train_variant(const Options& options, const WordData& data, Variant variant,
                                     const FitCallbacks& callbacks) {
  const auto class_count = static_cast<Index>(data.languages.size());
  Model model(model_config(options.embedding_size, options.hidden_size, options.dropout, variant,
                           class_count));
  Random random(options.seed);
  if (options.init == "pytorch") {
    init::pytorch_default(model, random);
  } else {
    init::keras_default(model, random);
  }
  Adam<float> optimizer(AdamOptions::keras(options.learning_rate));
  optimizer.add(model);

  FitOptions fit_options;
  fit_options.epochs = options.epochs;
  fit_options.batch_size = options.batch_size;
  fit_options.clip_norm = options.clip_norm;
  fit_options.patience = options.patience;
  fit_options.padding_id = kWordPaddingId;

  const OutputFiles files = output_files(options.output_dir, variant);
  const auto metadata = checkpoint_metadata(options, variant, data.languages);
  TrainingState<float> state;
  FitCallbacks with_checkpoints = callbacks;
  with_checkpoints.on_epoch_end = [&](const EpochMetrics& metrics) {
    save_checkpoint(files.last_checkpoint, model, optimizer, random, state, metadata);
    if (metrics.improved) {
      save_checkpoint(files.best_checkpoint, model, optimizer, random, state, metadata);
    }
    if (callbacks.on_epoch_end) callbacks.on_epoch_end(metrics);
  };

  const auto start = std::chrono::steady_clock::now();
  const FitResult result =
      fit(model, optimizer, random, state, FitData{data.train, &data.validation, &data.test},
          fit_options, with_checkpoints);

  TrainingOutcome outcome;
  outcome.variant = variant;
  outcome.history = result.history;
  outcome.best_epoch = state.best_epoch;
  outcome.stopped_early = result.stopped_early;
  outcome.confusion = ConfusionMatrix(class_count);
  // fit() has restored the best weights.
  outcome.test = evaluate(model, data.test, 256, kWordPaddingId, &outcome.confusion);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

// A model rebuilt from a best checkpoint, with the languages it classifies.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::vector<Language> languages;
  std::int64_t epoch = 0;
};

// Throws deeprnn::invalid_argument when the checkpoint is missing or was not written by this
// example, and io::format_error when it does not fit the model it describes.
inline LoadedModel load_best_model(const std::filesystem::path& directory, Variant variant) {
  const OutputFiles files = output_files(directory, variant);
  if (!std::filesystem::exists(files.best_checkpoint)) {
    throw invalid_argument("no checkpoint at " + files.best_checkpoint.string() +
                           "; train the model first (run word_language" +
                           (variant == Variant::summary ? " --summary" : "") +
                           " with the same --output-dir)");
  }
  const io::SafetensorsFile file = io::SafetensorsFile::read(files.best_checkpoint);
  const auto& metadata = file.metadata();
  const auto value = [&](const std::string& key) {
    const auto found = metadata.find(key);
    if (found == metadata.end()) {
      throw invalid_argument(files.best_checkpoint.string() + " has no metadata entry \"" + key +
                             "\"; it was not written by the word_language example");
    }
    return found->second;
  };
  if (value("example") != "word_language") {
    throw invalid_argument(files.best_checkpoint.string() + " was written by the example \"" +
                           value("example") + "\", not word_language");
  }

  LoadedModel loaded;
  std::string names = value("languages");
  std::size_t start = 0;
  while (start <= names.size()) {
    const std::size_t comma = std::min(names.find(',', start), names.size());
    loaded.languages.push_back(parse_language(names.substr(start, comma - start)));
    start = comma + 1;
  }
  loaded.model = std::make_unique<Model>(
      model_config(std::stoll(value("embedding_size")), std::stoll(value("hidden_size")), 0.0,
                   variant, static_cast<Index>(loaded.languages.size())));
  load_checkpoint_weights(file, *loaded.model);
  loaded.model->set_training(false);
  loaded.epoch = file.integers("training.epoch").at(0);
  return loaded;
}

}  // namespace deeprnn::examples::word_language

#endif  // DEEPRNN_EXAMPLES_WORD_LANGUAGE_TRAINING_HPP
