// Command-line options of the word_language example.
#ifndef DEEPRNN_EXAMPLES_WORD_LANGUAGE_OPTIONS_HPP
#define DEEPRNN_EXAMPLES_WORD_LANGUAGE_OPTIONS_HPP

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "../common/cli.hpp"

namespace deeprnn::examples::word_language {

struct Options {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 64;
  double learning_rate = 3e-3;
  std::int64_t embedding_size = 32;
  std::int64_t hidden_size = 64;
  double dropout = 0.2;
  // "keras" (glorot_uniform, orthogonal, unit forget bias, embedding uniform +-0.05) or
  // "pytorch" (uniform +-1/sqrt(H), embedding standard normal); see init.hpp.
  std::string init = "keras";
  double clip_norm = 5.0;
  std::int64_t patience = 0;
  std::uint64_t seed = 1;
  std::filesystem::path dict_dir = "/usr/share/dict";
  std::int64_t train_per_language = 5000;
  std::int64_t validation_per_language = 1000;
  std::int64_t test_per_language = 1000;
  bool summary = false;
  bool compare = false;
  std::filesystem::path output_dir = "word_language_out";
  bool quick = false;
  std::string predict;
  bool evaluate = false;
};

// The smaller run of --quick, for continuous integration: enough data and steps to beat
// chance (12.5%) clearly in seconds. Options given explicitly keep their values.
inline void apply_quick_settings(Options& options, const CommandLine& command_line) {
  const auto set = [&](const char* name, auto& target, auto value) {
    if (!command_line.given(name)) target = value;
  };
  set("epochs", options.epochs, std::int64_t{2});
  set("train-per-language", options.train_per_language, std::int64_t{600});
  set("validation-per-language", options.validation_per_language, std::int64_t{150});
  set("test-per-language", options.test_per_language, std::int64_t{150});
  set("embedding-size", options.embedding_size, std::int64_t{16});
  set("hidden-size", options.hidden_size, std::int64_t{32});
  set("batch-size", options.batch_size, std::int64_t{32});
  set("learning-rate", options.learning_rate, 1e-2);
  set("output-dir", options.output_dir, std::filesystem::path("word_language_quick_out"));
}

// Parses the command line into `options`. Returns false after printing the help text for
// --help; throws command_line_error for invalid input.
inline bool parse_options(int argc, const char* const* argv, Options& options) {
  CommandLine command_line(
      "word_language [options]",
      "Trains a character-level classifier that tells which of eight languages (english,\n"
      "french, german, spanish, italian, portuguese, dutch, polish) a word comes from:\n"
      "Embedding -> SpatialDropout1D -> LSTM -> LSTM -> LSTM -> Dense softmax, in float.\n"
      "Words come from the Debian word lists in --dict-dir. Outputs go to --output-dir:\n"
      "the best checkpoint by validation accuracy, learning curves as CSV and SVG.");
  command_line.add_option("epochs", "N", options.epochs, "number of passes over the training words",
                          1, 1000);
  command_line.add_option("batch-size", "N", options.batch_size,
                          "words per training step (mini-batch size)", 1, 100000);
  command_line.add_option("learning-rate", "RATE", options.learning_rate,
                          "Adam learning rate (Keras epsilon placement)", 0.0, 10.0);
  command_line.add_option("embedding-size", "N", options.embedding_size,
                          "width of each character's embedding vector", 1, 4096);
  command_line.add_option("hidden-size", "N", options.hidden_size,
                          "hidden units of each of the three LSTM layers", 1, 4096);
  command_line.add_option("dropout", "RATE", options.dropout,
                          "SpatialDropout1D rate on the embeddings during training, in [0, 1)", 0.0,
                          0.99);
  command_line.add_option("init", "NAME", options.init,
                          "initial weights: keras (Keras' defaults) or pytorch (PyTorch's "
                          "defaults)");
  command_line.add_option("clip-norm", "NORM", options.clip_norm,
                          "rescale gradients whose global L2 norm exceeds this; 0 turns it off",
                          0.0, 1e6);
  command_line.add_option("patience", "EPOCHS", options.patience,
                          "stop after this many epochs without a better validation accuracy; "
                          "0 never stops early",
                          0, 1000);
  command_line.add_option("seed", "N", options.seed,
                          "seed of the random stream for initial weights, shuffling and dropout");
  command_line.add_option("dict-dir", "DIR", options.dict_dir,
                          "folder of the Debian word lists (american-english, french, ...)");
  command_line.add_option("train-per-language", "N", options.train_per_language,
                          "training words per language (at most)", 1, 1000000);
  command_line.add_option("validation-per-language", "N", options.validation_per_language,
                          "validation words per language (at most)", 1, 1000000);
  command_line.add_option("test-per-language", "N", options.test_per_language,
                          "test words per language (at most)", 1, 1000000);
  command_line.add_flag("summary", options.summary,
                        "train (or with --predict/--evaluate, load) the variant whose classifier "
                        "reads the SummaryRNN encoding of all three layers' final states");
  command_line.add_flag("compare", options.compare,
                        "train both variants, last top-layer state and summary encoding, with "
                        "the same seed and print them side by side");
  command_line.add_option("output-dir", "DIR", options.output_dir,
                          "folder for checkpoints, CSV and SVG files (created if missing)");
  command_line.add_flag("quick", options.quick,
                        "tiny run for CI: 600 training words per language, 2 epochs, embedding "
                        "16, hidden 32, batch 32, learning rate 0.01, output in "
                        "word_language_quick_out; exits with status 1 below 35% test accuracy");
  command_line.add_option("predict", "WORD", options.predict,
                          "load the best checkpoint from --output-dir and print the language "
                          "probabilities of WORD");
  command_line.add_flag("evaluate", options.evaluate,
                        "load the best checkpoint from --output-dir and print its test accuracy "
                        "and confusion matrix");

  if (!command_line.parse(argc, argv)) {
    std::cout << command_line.help();
    return false;
  }
  if (options.quick) apply_quick_settings(options, command_line);
  if (options.compare && (options.summary || !options.predict.empty() || options.evaluate)) {
    throw command_line_error(
        "--compare trains both variants; it cannot be combined with "
        "--summary, --predict or --evaluate");
  }
  if (options.init != "keras" && options.init != "pytorch") {
    throw command_line_error("--init is '" + options.init + "', expected keras or pytorch");
  }
  if (!options.predict.empty() && options.evaluate) {
    throw command_line_error("give either --predict or --evaluate, not both");
  }
  return true;
}

}  // namespace deeprnn::examples::word_language

#endif  // DEEPRNN_EXAMPLES_WORD_LANGUAGE_OPTIONS_HPP
