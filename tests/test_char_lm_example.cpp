// Tests of the char_language_model example's stream batching, stateful evaluation and training,
// on small synthetic texts (no data set needed).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "../examples/char_language_model/model.hpp"
#include "../examples/char_language_model/training.hpp"

namespace {

namespace lm = deeprnn::examples::char_language_model;

std::vector<int> counting_text(int length) {
  std::vector<int> text(static_cast<std::size_t>(length));
  for (int i = 0; i < length; ++i) text[static_cast<std::size_t>(i)] = i;
  return text;
}

std::vector<int> random_text(int length, int vocabulary_size, std::uint64_t seed) {
  deeprnn::Random random(seed);
  std::vector<int> text(static_cast<std::size_t>(length));
  for (int& id : text) id = static_cast<int>(random.uniform_index(vocabulary_size));
  return text;
}

lm::ModelConfig small_config(deeprnn::Index vocabulary_size) {
  lm::ModelConfig config;
  config.vocabulary_size = vocabulary_size;
  config.embedding_size = 3;
  config.hidden_size = 5;
  return config;
}

// Mean cross-entropy in bits of the text read one character at a time through step(), in
// double: an evaluation path independent of forward() over windows.
double stepwise_bits(lm::CharLanguageModel& model, const std::vector<int>& text) {
  model.reset_sampling();
  double nats = 0.0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const deeprnn::Matrix<float>& logits = model.next_logits(text[i]);
    const Eigen::ArrayXd z = logits.col(0).cast<double>().array();
    const double log_sum = std::log((z - z.maxCoeff()).exp().sum()) + z.maxCoeff();
    nats += log_sum - z(text[i + 1]);
  }
  model.reset_sampling();
  return nats / static_cast<double>(text.size() - 1) / std::numbers::ln2;
}

}  // namespace

TEST_CASE("TextStreams window layout", "[examples][char_lm]") {
  // 23 characters, offset 1: two streams of L = 11, positions 1..11 and 12..22, each
  // predicting 10 characters in windows of 4, 4 and 2 steps.
  const std::vector<int> text = counting_text(23);
  const lm::TextStreams streams(text, 2, 4, 1);
  CHECK(streams.stream_length() == 11);
  CHECK(streams.window_count() == 3);
  CHECK(streams.predicted_characters() == 20);

  std::vector<std::int64_t> inputs;
  std::vector<std::int64_t> targets;
  CHECK(streams.fill(0, inputs, targets) == 4);
  REQUIRE(inputs.size() == 8);
  for (int t = 0; t < 4; ++t) {
    for (int b = 0; b < 2; ++b) {
      const auto column = static_cast<std::size_t>(t * 2 + b);
      CHECK(inputs[column] == 1 + 11 * b + t);
      CHECK(targets[column] == 2 + 11 * b + t);
    }
  }

  CHECK(streams.fill(2, inputs, targets) == 2);
  REQUIRE(inputs.size() == 4);
  CHECK(inputs[0] == 9);
  CHECK(inputs[1] == 20);
  CHECK(inputs[2] == 10);
  CHECK(inputs[3] == 21);
  CHECK(targets[2] == 11);
  CHECK(targets[3] == 22);
}

TEST_CASE("TextStreams rejects short text", "[examples][char_lm]") {
  const std::vector<int> text = counting_text(5);
  CHECK_THROWS_AS(lm::TextStreams(text, 3, 4), deeprnn::invalid_argument);
  CHECK_THROWS_AS(lm::TextStreams(text, 0, 4), deeprnn::invalid_argument);
  CHECK_NOTHROW(lm::TextStreams(text, 2, 4));
}

TEST_CASE("Stateful windows match stepwise reading", "[examples][char_lm]") {
  // The state is carried from window to window, so reading the text in windows of 5 gives the
  // same cross-entropy as reading it one character at a time. Resetting the state at each
  // window would not.
  const std::vector<int> text = random_text(41, 6, 3);
  lm::CharLanguageModel model(small_config(6));
  deeprnn::Random random(11);
  model.initialize(random);

  const double expected = stepwise_bits(model, text);
  CHECK(lm::evaluate_bits_per_character(model, text, 1, 5) == Approx(expected).epsilon(1e-5));
  CHECK(lm::evaluate_bits_per_character(model, text, 1, 40) == Approx(expected).epsilon(1e-5));
  CHECK(lm::evaluate_bits_per_character(model, text, 1, 1) == Approx(expected).epsilon(1e-5));
}

TEST_CASE("Evaluation restores the training flag", "[examples][char_lm]") {
  const std::vector<int> text = random_text(30, 4, 5);
  lm::CharLanguageModel model(small_config(4));
  deeprnn::Random random(2);
  model.initialize(random);
  model.set_training(true);
  lm::evaluate_bits_per_character(model, text, 2, 4);
  CHECK(model.training());
  model.set_training(false);
  lm::evaluate_bits_per_character(model, text, 2, 4);
  CHECK_FALSE(model.training());
}

TEST_CASE("StreamTrainer learns a periodic text", "[examples][char_lm]") {
  // "abcd" repeated: after the first character every next one is certain, so a model whose
  // backward pass is wired correctly drives the training cross-entropy towards 0 bits, far
  // below the 2 bits of a uniform guess over 4 characters.
  std::vector<int> text;
  for (int i = 0; i < 800; ++i) text.push_back(i % 4);
  lm::CharLanguageModel model(small_config(4));
  deeprnn::Random random(1);
  model.initialize(random);
  deeprnn::Adam<float> optimizer(0.02);
  optimizer.add(model);
  lm::TrainingSettings settings;
  settings.streams = 4;
  settings.window = 10;
  settings.learning_rate = 0.02;
  settings.final_learning_rate = 0.005;
  settings.epochs = 15;
  lm::StreamTrainer trainer(model, optimizer, random, text, settings);

  double first_bits = 0.0;
  double last_bits = 0.0;
  for (std::int64_t epoch = 1; epoch <= settings.epochs; ++epoch) {
    const lm::EpochTraining result = trainer.train_epoch(epoch, nullptr);
    if (epoch == 1) first_bits = result.train_bits;
    last_bits = result.train_bits;
  }
  CHECK(first_bits > 1.0);
  CHECK(last_bits < 0.2);
  CHECK(lm::evaluate_bits_per_character(model, text, 4, 10) < 0.2);
}

TEST_CASE("Saved char model reloads", "[examples][char_lm]") {
  const std::vector<int> text = random_text(40, 5, 9);
  lm::CharLanguageModel model(small_config(5));
  deeprnn::Random random(4);
  model.initialize(random);
  const std::vector<char32_t> vocabulary{U'\uFFFD', U'a', U'b', U'\u2014', U'z'};
  const auto path = std::filesystem::temp_directory_path() / "deeprnn_test_char_lm.safetensors";
  lm::save_model(path, model, vocabulary, 3, 2.5);

  lm::LoadedModel loaded = lm::load_model(path);
  std::filesystem::remove(path);
  CHECK(loaded.vocabulary == vocabulary);
  CHECK(loaded.epoch == 3);
  CHECK(loaded.model->config().hidden_size == 5);
  CHECK(lm::evaluate_bits_per_character(*loaded.model, text, 2, 7) ==
        lm::evaluate_bits_per_character(model, text, 2, 7));
}
