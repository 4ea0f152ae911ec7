// SequenceClassifier: the PyTorch classifier fixture end to end, finite-difference gradients
// of the whole model (with and without dropout, with the summary encoder), padding and
// inference mode.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/train/model.hpp>
#include <string>
#include <vector>

#include "support/fixture.hpp"
#include "support/gradient_check.hpp"

using namespace deeprnn;
using deeprnn::testing::Fixture;

namespace {

using FixtureStack = StackedRNN<LSTM<double>, LSTM<double>, LSTM<double>>;
using FixtureClassifier = SequenceClassifier<FixtureStack>;

// "rnn.weight_ih_l2" -> "layers.2.weight_ih"
std::string fixture_parameter_name(const std::string& name) {
  if (name.rfind("rnn.", 0) != 0) return name;
  const std::string rnn_name = name.substr(4);
  const std::size_t split = rnn_name.rfind("_l");
  return "layers." + rnn_name.substr(split + 2) + "." + rnn_name.substr(0, split);
}

std::vector<Index> split_sizes(const std::string& text) {
  std::vector<Index> sizes;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    sizes.push_back(std::stoll(text.substr(start, end - start)));
    start = end + 1;
  }
  return sizes;
}

}  // namespace

TEST_CASE("classifier matches PyTorch classifier_lstm3", "[classifier][fixture]") {
  Fixture fixture("classifier_lstm3");
  REQUIRE(fixture.meta("model") == "classifier");
  REQUIRE(fixture.meta("cells") == "lstm,lstm,lstm");
  REQUIRE(fixture.meta("has_lengths") == "false");

  ClassifierConfig config;
  config.vocabulary_size = std::stoll(fixture.meta("vocab_size"));
  config.embedding_size = std::stoll(fixture.meta("embedding_size"));
  config.hidden_sizes = split_sizes(fixture.meta("hidden_sizes"));
  config.class_count = std::stoll(fixture.meta("num_classes"));
  FixtureClassifier model(config);
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    value = fixture.matrix<double>(fixture_parameter_name(name));
  });

  const Index batch = std::stoll(fixture.meta("batch"));
  const Index steps = std::stoll(fixture.meta("seq_len"));
  const std::vector<std::int64_t> tokens = fixture.integers("tokens");
  const std::vector<std::int64_t> labels = fixture.integers("labels");
  REQUIRE(static_cast<Index>(tokens.size()) == steps * batch);

  SequenceBatch input;
  input.ids = tokens;
  input.labels = labels;
  input.batch_size = batch;
  input.steps = steps;

  Random random(1);
  model.zero_gradients();
  const FixtureClassifier::BatchResult result = model.forward_backward(input, random);
  const Matrix<double> logits = model.forward(input, random);

  fixture.compare("logits", logits);
  fixture.compare("loss.value", Matrix<double>::Constant(1, 1, result.loss));
  for (std::size_t k = 0; k < FixtureClassifier::layer_count; ++k) {
    const std::string layer = "layers." + std::to_string(k);
    fixture.compare(layer + ".output", model.rnn.layer_output(k));
    fixture.compare(layer + ".h_n", model.rnn.final_hidden(k));
    fixture.compare(layer + ".c_n", model.rnn.final_cell(k));
  }
  fixture.compare("embedding.output", model.embedding.forward(std::span(tokens)));
  fixture.compare("grad.embedding.output", model.embedding_output_gradient());

  model.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    fixture.compare_matrix("grad." + fixture_parameter_name(name), gradient);
  });
  fixture.require_all_used();
}

TEST_CASE("classifier gradient of unused embedding rows is exactly zero", "[classifier]") {
  Fixture fixture("classifier_lstm3");
  const std::vector<std::int64_t> tokens = fixture.integers("tokens");
  const Matrix<double> reference = fixture.matrix<double>("grad.embedding.weight");
  const Index vocabulary = reference.rows();

  std::vector<bool> used(static_cast<std::size_t>(vocabulary), false);
  for (const std::int64_t token : tokens) used[static_cast<std::size_t>(token)] = true;
  Index unused_rows = 0;
  for (Index v = 0; v < vocabulary; ++v) {
    if (!used[static_cast<std::size_t>(v)]) {
      ++unused_rows;
      CHECK(reference.row(v).isZero(0.0));
    }
  }
  // The case is meant to contain unused tokens; the end-to-end test then checks exact zeros.
  CHECK(unused_rows > 0);
}

namespace {

using SmallStack = StackedRNN<LSTM<double>, GRU<double>>;
using SmallClassifier = SequenceClassifier<SmallStack, GRU<double>>;

ClassifierConfig small_config(ClassifierFeatures features, double dropout_rate) {
  ClassifierConfig config;
  config.vocabulary_size = 7;
  config.embedding_size = 3;
  config.hidden_sizes = {4, 3};
  config.class_count = 3;
  config.dropout_rate = dropout_rate;
  config.features = features;
  config.summary_size = features == ClassifierFeatures::summary ? 2 : 0;
  config.padding_id = 0;
  return config;
}

// Four samples of lengths 4, 2, 1, 3 (T = 4), padded with id 0; ids 1..5 occur, id 6 does not.
SequenceBatch small_batch() {
  const std::vector<std::vector<std::int64_t>> sequences{{1, 2, 3, 2}, {4, 5}, {3}, {5, 1, 4}};
  std::vector<const std::vector<std::int64_t>*> pointers;
  for (const auto& sequence : sequences) pointers.push_back(&sequence);
  const std::vector<std::int64_t> labels{0, 2, 1, 2};
  return make_batch(pointers, labels, 0);
}

// Checks every parameter gradient of `model` against central differences of the batch loss.
// The dropout stream is re-seeded before every evaluation, so each sees the same mask.
template <class Model>
void check_model_gradients(Model& model, const SequenceBatch& batch, std::uint64_t seed) {
  Random random(seed);
  model.zero_gradients();
  model.forward_backward(batch, random);

  std::vector<Matrix<double>> analytic;
  model.for_each_parameter(
      [&](const std::string&, auto&, auto& gradient) { analytic.push_back(gradient); });

  const auto loss = [&]() {
    random.seed(seed);
    return model.forward_backward(batch, random, false).loss;
  };
  std::size_t i = 0;
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    deeprnn::testing::check_gradient(name, value, analytic[i++], loss);
  });
}

}  // namespace

TEST_CASE("classifier gradients match finite differences", "[classifier][gradient]") {
  SmallClassifier model(small_config(ClassifierFeatures::top_final_hidden, 0.0));
  Random init_random(11);
  init::pytorch_default(model, init_random);
  model.embedding.parameters.weight.row(0).setConstant(0.3);  // padding must not leak
  check_model_gradients(model, small_batch(), 5);
}

TEST_CASE("classifier gradients with dropout match finite differences", "[classifier][gradient]") {
  SmallClassifier model(small_config(ClassifierFeatures::top_final_hidden, 0.4));
  Random init_random(12);
  init::pytorch_default(model, init_random);
  REQUIRE(model.training());

  // The loss is a deterministic function of the seed, and the seed's mask drops something.
  Random random(7);
  const double first = model.forward_backward(small_batch(), random, false).loss;
  random.seed(7);
  const double second = model.forward_backward(small_batch(), random, false).loss;
  CHECK(first == second);
  CHECK((model.dropout.mask().array() == 0.0).any());

  check_model_gradients(model, small_batch(), 7);
}

TEST_CASE("classifier summary gradients match finite differences", "[classifier][gradient]") {
  for (const double rate : {0.0, 0.3}) {
    INFO("dropout rate " << rate);
    SmallClassifier model(small_config(ClassifierFeatures::summary, rate));
    REQUIRE(model.uses_summary());
    REQUIRE(model.summary->has_projection());
    Random init_random(13);
    init::pytorch_default(model, init_random);
    check_model_gradients(model, small_batch(), 9);
  }
}

TEST_CASE("classifier parameter names carry prefixes", "[classifier]") {
  SmallClassifier plain(small_config(ClassifierFeatures::top_final_hidden, 0.0));
  std::vector<std::string> names;
  plain.for_each_parameter([&](const std::string& name, auto&, auto&) { names.push_back(name); });
  const std::vector<std::string> expected{
      "embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
      "rnn.bias_hh_l0",   "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1",
      "rnn.bias_hh_l1",   "dense.weight",     "dense.bias"};
  CHECK(names == expected);

  SmallClassifier with_summary(small_config(ClassifierFeatures::summary, 0.0));
  names.clear();
  with_summary.for_each_parameter(
      [&](const std::string& name, auto&, auto&) { names.push_back(name); });
  const std::vector<std::string> expected_summary{"embedding.weight",    "rnn.weight_ih_l0",
                                                  "rnn.weight_hh_l0",    "rnn.bias_ih_l0",
                                                  "rnn.bias_hh_l0",      "rnn.weight_ih_l1",
                                                  "rnn.weight_hh_l1",    "rnn.bias_ih_l1",
                                                  "rnn.bias_hh_l1",      "summary.weight_ih",
                                                  "summary.weight_hh",   "summary.bias_ih",
                                                  "summary.bias_hh",     "summary.proj.0.weight",
                                                  "summary.proj.0.bias", "summary.proj.1.weight",
                                                  "summary.proj.1.bias", "dense.weight",
                                                  "dense.bias"};
  CHECK(names == expected_summary);
}

TEST_CASE("classifier ignores the ids at padded steps", "[classifier]") {
  SmallClassifier model(small_config(ClassifierFeatures::summary, 0.0));
  Random init_random(14);
  init::pytorch_default(model, init_random);

  const SequenceBatch batch = small_batch();
  SequenceBatch altered = batch;
  for (Index t = 0; t < batch.steps; ++t) {
    for (Index b = 0; b < batch.batch_size; ++b) {
      if (t >= batch.lengths[static_cast<std::size_t>(b)]) {
        altered.ids[static_cast<std::size_t>(t * batch.batch_size + b)] = 6;
      }
    }
  }
  Random random(1);
  const Matrix<double> logits = model.forward(batch, random);
  const Matrix<double> altered_logits = model.forward(altered, random);
  CHECK(logits == altered_logits);

  model.zero_gradients();
  model.forward_backward(altered, random);
  // Id 6 occurs only at padded steps, so its row gets no gradient.
  CHECK(model.embedding.gradients.weight.row(6).isZero(0.0));
}

TEST_CASE("classifier predicts without dropout", "[classifier]") {
  SmallClassifier model(small_config(ClassifierFeatures::top_final_hidden, 0.5));
  Random init_random(15);
  init::keras_default(model, init_random);
  const SequenceBatch batch = small_batch();

  REQUIRE(model.training());
  const Matrix<double> first = model.predict(batch);
  CHECK(model.training());
  const Matrix<double> second = model.predict(batch);
  CHECK(first == second);
  CHECK(model.dropout.mask().size() == 0);

  // Softmax of the evaluation-mode logits.
  model.set_training(false);
  Random random(3);
  const Matrix<double> logits = model.forward(batch, random);
  for (Index b = 0; b < batch.batch_size; ++b) {
    const double normaliser = logits.col(b).array().exp().sum();
    for (Index c = 0; c < logits.rows(); ++c) {
      CHECK(first(c, b) == Approx(std::exp(logits(c, b)) / normaliser).epsilon(1e-12));
    }
  }
}

TEST_CASE("classifier rejects invalid configurations", "[classifier]") {
  ClassifierConfig config = small_config(ClassifierFeatures::top_final_hidden, 0.0);
  config.hidden_sizes = {4};
  CHECK_THROWS_WITH(SmallClassifier(config), Catch::Contains("hidden_sizes has 1 entries"));

  config = small_config(ClassifierFeatures::top_final_hidden, 0.0);
  config.class_count = 1;
  CHECK_THROWS_WITH(SmallClassifier(config), Catch::Contains("class_count is 1"));

  config = small_config(ClassifierFeatures::top_final_hidden, 0.0);
  config.dropout_rate = 1.0;
  CHECK_THROWS_AS(SmallClassifier(config), deeprnn::invalid_argument);

  SmallClassifier model(small_config(ClassifierFeatures::top_final_hidden, 0.0));
  Random random(1);
  const std::vector<std::int64_t> ids{1, 2, 3};
  CHECK_THROWS_WITH(model.forward(ids, 2, {}, random), Catch::Contains("3 ids for batch_size 2"));
}
