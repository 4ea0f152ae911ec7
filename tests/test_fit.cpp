// Padded batches, evaluation and the fit loop: layout of a batch, shuffling, evaluation against
// per-sample predictions, learning a small task, early stopping, best weights, clipping.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/train/fit.hpp>
#include <deeprnn/train/model.hpp>
#include <deeprnn/train/optimizers.hpp>
#include <numeric>
#include <set>
#include <vector>

using namespace deeprnn;

namespace {

using Stack = StackedRNN<LSTM<double>, GRU<double>>;
using Classifier = SequenceClassifier<Stack>;

// A task a small model learns in a few epochs: the class is the first token (1, 2 or 3),
// followed by 0 to 4 noise tokens from 4..6.
LabeledSequences first_token_task(std::size_t count, std::uint64_t seed) {
  Random random(seed);
  LabeledSequences data;
  for (std::size_t i = 0; i < count; ++i) {
    const auto label = static_cast<std::int64_t>(random.uniform_index(3));
    std::vector<std::int64_t> sequence{label + 1};
    const auto noise = random.uniform_index(5);
    for (std::uint64_t k = 0; k < noise; ++k) {
      sequence.push_back(4 + static_cast<std::int64_t>(random.uniform_index(3)));
    }
    data.sequences.push_back(sequence);
    data.labels.push_back(label);
  }
  return data;
}

ClassifierConfig task_config(double dropout_rate = 0.0) {
  ClassifierConfig config;
  config.vocabulary_size = 7;
  config.embedding_size = 4;
  config.hidden_sizes = {8, 6};
  config.class_count = 3;
  config.dropout_rate = dropout_rate;
  config.padding_id = 0;
  return config;
}

template <class Model>
std::vector<Matrix<double>> parameters_of(Model& model) {
  std::vector<Matrix<double>> values;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { values.push_back(value); });
  return values;
}

}  // namespace

TEST_CASE("make_batch pads to the longest sequence", "[fit][batching]") {
  LabeledSequences data;
  data.sequences = {{5, 6, 7}, {8}, {9, 10}};
  data.labels = {2, 0, 1};
  const std::vector<std::size_t> indices{2, 0, 1};
  const SequenceBatch batch = make_batch(data, indices, 0);

  CHECK(batch.batch_size == 3);
  CHECK(batch.steps == 3);
  CHECK(batch.lengths == std::vector<Index>{2, 3, 1});
  CHECK(batch.labels == std::vector<std::int64_t>{1, 2, 0});
  // Position t*B + b: step 0 of samples 9, 5, 8, then step 1, then step 2.
  CHECK(batch.ids == std::vector<std::int64_t>{9, 5, 8, 10, 6, 0, 0, 7, 0});
}

TEST_CASE("make_batch rejects invalid input", "[fit][batching]") {
  LabeledSequences data;
  data.sequences = {{1, 2}, {}};
  data.labels = {0, 1};
  const std::vector<std::size_t> empty_one{0, 1};
  CHECK_THROWS_WITH(make_batch(data, empty_one), Catch::Contains("sequence 1 is empty"));

  const std::vector<std::size_t> out_of_range{0, 5};
  CHECK_THROWS_WITH(make_batch(data, out_of_range), Catch::Contains("sample index 5"));

  data.labels = {0};
  const std::vector<std::size_t> first{0};
  CHECK_THROWS_WITH(make_batch(data, first), Catch::Contains("2 sequences but 1 labels"));

  CHECK_THROWS_WITH(batch_indices(4, 0), Catch::Contains("batch_size is 0"));
}

TEST_CASE("batch_indices covers every sample once", "[fit][batching]") {
  const auto ordered = batch_indices(10, 4);
  REQUIRE(ordered.size() == 3);
  CHECK(ordered[0] == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(ordered[2] == std::vector<std::size_t>{8, 9});

  Random first(42);
  Random second(42);
  const auto shuffled = batch_indices(10, 4, &first);
  CHECK(shuffled == batch_indices(10, 4, &second));
  std::vector<std::size_t> all;
  for (const auto& batch : shuffled) all.insert(all.end(), batch.begin(), batch.end());
  CHECK(all != std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("length-sorted batches group similar lengths", "[fit][batching]") {
  const LabeledSequences data = first_token_task(50, 3);
  const auto batches = length_sorted_batch_indices(data, 8);
  std::vector<std::size_t> all;
  std::size_t previous_length = 0;
  for (const auto& batch : batches) {
    for (const std::size_t index : batch) {
      CHECK(data.sequences[index].size() >= previous_length);
      previous_length = data.sequences[index].size();
      all.push_back(index);
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(all == expected);
}

TEST_CASE("evaluate matches per-sample predictions", "[fit]") {
  Classifier model(task_config(0.5));
  Random init_random(4);
  init::keras_default(model, init_random);
  const LabeledSequences data = first_token_task(37, 5);

  ConfusionMatrix confusion(3);
  const Evaluation evaluation = evaluate(model, data, 8, 0, &confusion);
  CHECK(model.training());

  // The same figures from one unpadded sample at a time, without dropout.
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const Matrix<double> probabilities = model.predict(data.sequences[i], 1, std::vector<Index>{});
    const auto label = static_cast<Index>(data.labels[i]);
    loss_sum -= std::log(probabilities(label, 0));
    Index predicted = 0;
    probabilities.col(0).maxCoeff(&predicted);
    if (predicted == label) ++correct;
  }
  CHECK(evaluation.samples == 37);
  CHECK(evaluation.loss == Approx(loss_sum / 37.0).epsilon(1e-12));
  CHECK(evaluation.accuracy == static_cast<double>(correct) / 37.0);
  CHECK(confusion.total() == 37);
  CHECK(confusion.accuracy() == evaluation.accuracy);
}

TEST_CASE("fit learns the first-token task", "[fit]") {
  Classifier model(task_config(0.1));
  Random random(7);
  init::keras_default(model, random);
  Adam<double> optimizer(AdamOptions{.learning_rate = 0.02});
  optimizer.add(model);

  const LabeledSequences train = first_token_task(240, 1);
  const LabeledSequences validation = first_token_task(60, 2);
  const LabeledSequences test = first_token_task(60, 3);
  FitOptions options;
  options.epochs = 12;
  options.batch_size = 16;
  options.clip_norm = 5.0;

  std::vector<BatchProgress> progress;
  std::vector<EpochMetrics> reported;
  FitCallbacks callbacks;
  callbacks.on_batch = [&](const BatchProgress& batch) { progress.push_back(batch); };
  callbacks.on_epoch_end = [&](const EpochMetrics& metrics) { reported.push_back(metrics); };

  TrainingState<double> state;
  const FitResult result =
      fit(model, optimizer, random, state, FitData{train, &validation, &test}, options, callbacks);

  REQUIRE(result.history.size() == 12);
  CHECK_FALSE(result.stopped_early);
  CHECK(reported.size() == 12);
  CHECK(state.epoch == 12);
  CHECK(optimizer.step_count() == 12 * 15);

  // 240 samples in batches of 16: 15 reports per epoch, the last one counting every sample.
  REQUIRE(progress.size() == 12 * 15);
  CHECK(progress[14].batch == 15);
  CHECK(progress[14].batch_count == 15);
  CHECK(progress[14].samples == 240);
  CHECK(progress[14].sample_count == 240);
  CHECK(progress[14].mean_loss == result.history[0].train_loss);

  const EpochMetrics& last = result.history.back();
  CHECK(result.history.front().train_loss > last.train_loss);
  CHECK(last.validation->accuracy >= 0.95);
  CHECK(last.test->accuracy >= 0.95);
  CHECK(last.sequences_per_second > 0.0);
  CHECK(state.best_validation_accuracy >= 0.95);
}

TEST_CASE("fit stops early without improvement", "[fit]") {
  Classifier model(task_config());
  Random random(8);
  init::keras_default(model, random);
  // A learning rate of zero never changes the weights, so only epoch 1 counts as improved.
  Adam<double> optimizer(AdamOptions{.learning_rate = 0.0});
  optimizer.add(model);

  const LabeledSequences train = first_token_task(40, 1);
  const LabeledSequences validation = first_token_task(20, 2);
  FitOptions options;
  options.epochs = 10;
  options.batch_size = 8;
  options.patience = 2;

  TrainingState<double> state;
  const FitResult result =
      fit(model, optimizer, random, state, FitData{train, &validation}, options);
  CHECK(result.history.size() == 3);
  CHECK(result.stopped_early);
  CHECK(result.history[0].improved);
  CHECK_FALSE(result.history[1].improved);
  CHECK_FALSE(result.history[2].improved);
  CHECK_FALSE(result.history[0].test.has_value());
  CHECK(state.epoch == 3);
  CHECK(state.best_epoch == 1);
}

TEST_CASE("fit restores the best weights", "[fit]") {
  for (const bool restore : {true, false}) {
    INFO("restore_best_weights " << restore);
    Classifier model(task_config(0.3));
    Random random(9);
    init::keras_default(model, random);
    // A large learning rate makes validation accuracy move up and down.
    Adam<double> optimizer(AdamOptions{.learning_rate = 0.2});
    optimizer.add(model);

    const LabeledSequences train = first_token_task(64, 1);
    const LabeledSequences validation = first_token_task(30, 2);
    FitOptions options;
    options.epochs = 6;
    options.batch_size = 8;
    options.restore_best_weights = restore;

    std::vector<std::vector<Matrix<double>>> weights_after_epoch;
    FitCallbacks callbacks;
    callbacks.on_epoch_end = [&](const EpochMetrics&) {
      weights_after_epoch.push_back(parameters_of(model));
    };
    TrainingState<double> state;
    fit(model, optimizer, random, state, FitData{train, &validation}, options, callbacks);

    REQUIRE(state.best_epoch >= 1);
    const auto& best = weights_after_epoch[static_cast<std::size_t>(state.best_epoch - 1)];
    REQUIRE(state.best_parameters.size() == best.size());
    for (std::size_t i = 0; i < best.size(); ++i) CHECK(state.best_parameters[i] == best[i]);
    const auto expected = restore ? best : weights_after_epoch.back();
    CHECK(parameters_of(model) == expected);
  }
}

TEST_CASE("fit clips the global gradient norm", "[fit]") {
  Classifier model(task_config());
  Random random(10);
  init::keras_default(model, random);
  // SGD moves the parameters by learning_rate times the clipped gradient, so one step of
  // learning rate 1 changes them by a vector of norm max_norm * norm / (norm + 1e-6).
  SGD<double> optimizer(1.0);
  optimizer.add(model);
  const LabeledSequences train = first_token_task(16, 1);
  FitOptions options;
  options.epochs = 1;
  options.batch_size = 16;
  options.clip_norm = 1e-3;

  const std::vector<Matrix<double>> before = parameters_of(model);
  TrainingState<double> state;
  fit(model, optimizer, random, state, FitData{train}, options);
  const std::vector<Matrix<double>> after = parameters_of(model);

  double squared_change = 0.0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    squared_change += (after[i] - before[i]).squaredNorm();
  }
  const double change = std::sqrt(squared_change);
  CHECK(change <= 1e-3 * (1 + 1e-9));
  CHECK(change >= 1e-3 * 0.99);
}

TEST_CASE("fit is deterministic for a seed", "[fit]") {
  std::vector<std::vector<Matrix<double>>> results;
  for (int run = 0; run < 2; ++run) {
    Classifier model(task_config(0.2));
    Random random(11);
    init::keras_default(model, random);
    Adam<double> optimizer(AdamOptions{.learning_rate = 0.01});
    optimizer.add(model);
    const LabeledSequences train = first_token_task(50, 1);
    FitOptions options;
    options.epochs = 2;
    options.batch_size = 8;
    TrainingState<double> state;
    fit(model, optimizer, random, state, FitData{train}, options);
    results.push_back(parameters_of(model));
  }
  CHECK(results[0] == results[1]);
}

TEST_CASE("fit rejects invalid setups", "[fit]") {
  Classifier model(task_config());
  Random random(12);
  Adam<double> optimizer;
  const LabeledSequences train = first_token_task(10, 1);
  TrainingState<double> state;
  FitOptions options;

  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{train}, options),
                    Catch::Contains("call optimizer.add(model)"));
  optimizer.add(model);

  options.batch_size = 0;
  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{train}, options),
                    Catch::Contains("batch_size is 0"));
  options = FitOptions{};
  options.clip_norm = -1.0;
  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{train}, options),
                    Catch::Contains("clip_norm is -1"));
  options = FitOptions{};
  options.patience = -2;
  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{train}, options),
                    Catch::Contains("patience is -2"));

  const LabeledSequences empty;
  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{empty}, FitOptions{}),
                    Catch::Contains("training set is empty"));
  LabeledSequences unlabeled = train;
  unlabeled.labels.pop_back();
  CHECK_THROWS_WITH(fit(model, optimizer, random, state, FitData{unlabeled}, FitOptions{}),
                    Catch::Contains("expected one label per sequence"));
}
