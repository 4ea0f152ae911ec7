// Checkpoints: exact resume of a training run, round trips, and rejection of damaged or
// mismatched files without changing anything.
#include <catch2/catch.hpp>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/train/checkpoint.hpp>
#include <deeprnn/train/fit.hpp>
#include <deeprnn/train/model.hpp>
#include <deeprnn/train/optimizers.hpp>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

using namespace deeprnn;
using deeprnn::io::format_error;
using deeprnn::io::SafetensorsFile;
using deeprnn::io::SafetensorsWriter;
using deeprnn::io_testing::TemporaryDirectory;

namespace {

using FloatClassifier = SequenceClassifier<StackedRNN<LSTM<float>, LSTM<float>>>;
using DoubleClassifier = SequenceClassifier<StackedRNN<GRU<double>, LSTM<double>>, GRU<double>>;

ClassifierConfig small_config(bool summary) {
  ClassifierConfig config;
  config.vocabulary_size = 9;
  config.embedding_size = 4;
  config.hidden_sizes = {6, 5};
  config.class_count = 3;
  config.dropout_rate = 0.2;
  config.padding_id = 0;
  config.features = summary ? ClassifierFeatures::summary : ClassifierFeatures::top_final_hidden;
  return config;
}

// Random sequences of ids 1..8, lengths 1..6, labelled by their first id modulo 3.
LabeledSequences random_sequences(std::size_t count, std::uint64_t seed) {
  Random random(seed);
  LabeledSequences data;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::int64_t> sequence;
    const auto length = 1 + random.uniform_index(6);
    for (std::uint64_t t = 0; t < length; ++t) {
      sequence.push_back(1 + static_cast<std::int64_t>(random.uniform_index(8)));
    }
    data.labels.push_back(sequence.front() % 3);
    data.sequences.push_back(sequence);
  }
  return data;
}

template <class Scalar, class Model>
std::vector<Matrix<Scalar>> parameters_of(Model& model) {
  std::vector<Matrix<Scalar>> values;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { values.push_back(value); });
  return values;
}

template <class Scalar, class Optimizer>
std::map<std::string, Matrix<Scalar>> optimizer_state_of(Optimizer& optimizer) {
  std::map<std::string, Matrix<Scalar>> state;
  optimizer.for_each_state([&](const std::string& name, auto& tensor) { state[name] = tensor; });
  return state;
}

// A model, its Adam optimizer, the random stream and the training state of one run.
template <class Model>
struct Run {
  using Scalar = typename Model::Scalar;
  Model model;
  Adam<Scalar> optimizer;
  Random random;
  TrainingState<Scalar> state;

  Run(const ClassifierConfig& config, std::uint64_t seed)
      : model(config), optimizer(AdamOptions{.learning_rate = 0.01}), random(seed) {
    init::keras_default(model, random);
    optimizer.add(model);
  }

  void train_until(std::int64_t epochs, const LabeledSequences& train,
                   const LabeledSequences& validation) {
    FitOptions options;
    options.epochs = epochs;
    options.batch_size = 7;
    options.clip_norm = 1.0;
    options.restore_best_weights = false;
    fit(model, optimizer, random, state, FitData{train, &validation}, options);
  }
};

// Rewrites a safetensors file tensor by tensor. For each tensor `edit` may add something to the
// writer; it returns true when it replaced the tensor and false to have it copied unchanged.
void rewrite(const std::filesystem::path& from, const std::filesystem::path& to,
             const std::function<bool(const std::string&, SafetensorsWriter&)>& edit,
             const std::map<std::string, std::string>& metadata_changes = {}) {
  const SafetensorsFile file = SafetensorsFile::read(from);
  SafetensorsWriter writer;
  for (const std::string& name : file.names()) {
    if (edit(name, writer)) continue;
    const io::TensorInfo& info = file.info(name);
    switch (info.dtype) {
      case io::DType::f32:
        writer.add_values(name, file.values<float>(name), info.shape);
        break;
      case io::DType::f64:
        writer.add_values(name, file.values<double>(name), info.shape);
        break;
      case io::DType::i64:
        writer.add_values(name, file.integers(name), info.shape);
        break;
    }
  }
  std::map<std::string, std::string> metadata = file.metadata();
  for (const auto& [key, value] : metadata_changes) metadata[key] = value;
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  writer.write(to);
}

// Copies a tensor of `file` into `writer` as double values, whatever its stored dtype.
void add_as_double(const SafetensorsFile& file, const std::string& name,
                   SafetensorsWriter& writer) {
  writer.add_values(name, file.values<double>(name), file.info(name).shape);
}

}  // namespace

TEST_CASE("checkpoint resume is bit-identical", "[checkpoint]") {
  for (const bool summary : {false, true}) {
    INFO("summary encoder " << summary);
    TemporaryDirectory directory;
    const LabeledSequences train = random_sequences(40, 1);
    const LabeledSequences validation = random_sequences(15, 2);

    Run<FloatClassifier> straight(small_config(summary), 5);
    straight.train_until(2, train, validation);

    Run<FloatClassifier> first_half(small_config(summary), 5);
    first_half.train_until(1, train, validation);
    save_checkpoint(directory / "epoch1.safetensors", first_half.model, first_half.optimizer,
                    first_half.random, first_half.state);

    // Fresh objects with other initial weights and another stream: loading must replace all.
    Run<FloatClassifier> resumed(small_config(summary), 99);
    load_checkpoint(directory / "epoch1.safetensors", resumed.model, resumed.optimizer,
                    resumed.random, resumed.state);
    CHECK(resumed.state.epoch == 1);
    CHECK(resumed.optimizer.step_count() == first_half.optimizer.step_count());
    resumed.train_until(2, train, validation);

    const auto expected = parameters_of<float>(straight.model);
    const auto actual = parameters_of<float>(resumed.model);
    REQUIRE(expected.size() == actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(actual[i] == expected[i]);
    CHECK(optimizer_state_of<float>(resumed.optimizer) ==
          optimizer_state_of<float>(straight.optimizer));
    CHECK(resumed.random.state() == straight.random.state());
    CHECK(resumed.state.epoch == 2);
    CHECK(resumed.state.best_epoch == straight.state.best_epoch);
    CHECK(resumed.state.best_validation_accuracy == straight.state.best_validation_accuracy);
    CHECK(resumed.state.best_parameters == straight.state.best_parameters);
  }
}

TEST_CASE("checkpoint round trip restores everything", "[checkpoint]") {
  TemporaryDirectory directory;
  const LabeledSequences train = random_sequences(20, 3);
  Run<DoubleClassifier> saved(small_config(true), 6);
  saved.train_until(2, train, train);
  REQUIRE(saved.state.best_epoch >= 1);
  const std::map<std::string, std::string> metadata{{"languages", "english,french"}};
  save_checkpoint(directory / "c.safetensors", saved.model, saved.optimizer, saved.random,
                  saved.state, metadata);

  const SafetensorsFile file = SafetensorsFile::read(directory / "c.safetensors");
  CHECK(file.metadata().at("format") == "deeprnn-checkpoint");
  CHECK(file.metadata().at("scalar") == "double");
  CHECK(file.metadata().at("languages") == "english,french");
  CHECK(file.info("model.rnn.weight_ih_l0").shape == std::vector<std::int64_t>{18, 4});
  CHECK(file.info("model.dense.bias").shape == std::vector<std::int64_t>{3});
  CHECK(file.info("best.dense.bias").shape == std::vector<std::int64_t>{3});
  CHECK(file.info("optimizer.exp_avg.summary.weight_hh").shape == std::vector<std::int64_t>{15, 5});
  CHECK(file.integers("training.epoch") == std::vector<std::int64_t>{2});

  Run<DoubleClassifier> loaded(small_config(true), 7);
  load_checkpoint(file, loaded.model, loaded.optimizer, loaded.random, loaded.state);
  CHECK(parameters_of<double>(loaded.model) == parameters_of<double>(saved.model));
  CHECK(optimizer_state_of<double>(loaded.optimizer) ==
        optimizer_state_of<double>(saved.optimizer));
  CHECK(loaded.optimizer.step_count() == saved.optimizer.step_count());
  CHECK(loaded.random.state() == saved.random.state());
  CHECK(loaded.random.next_bits() == saved.random.next_bits());
  CHECK(loaded.state.epoch == saved.state.epoch);
  CHECK(loaded.state.best_epoch == saved.state.best_epoch);
  CHECK(loaded.state.best_validation_accuracy == saved.state.best_validation_accuracy);
  CHECK(loaded.state.best_parameters == saved.state.best_parameters);

  // Only the weights, current or best.
  DoubleClassifier weights_only(small_config(true));
  load_checkpoint_weights(file, weights_only);
  CHECK(parameters_of<double>(weights_only) == parameters_of<double>(saved.model));
  load_checkpoint_weights(file, weights_only, true);
  CHECK(parameters_of<double>(weights_only) == saved.state.best_parameters);
}

TEST_CASE("checkpoint without best weights loads", "[checkpoint]") {
  TemporaryDirectory directory;
  Run<DoubleClassifier> saved(small_config(false), 8);
  save_checkpoint(directory / "c.safetensors", saved.model, saved.optimizer, saved.random,
                  saved.state);
  CHECK_FALSE(SafetensorsFile::read(directory / "c.safetensors").contains("best.dense.bias"));

  Run<DoubleClassifier> loaded(small_config(false), 9);
  loaded.state.best_epoch = 3;
  loaded.state.epoch = 3;
  load_checkpoint(directory / "c.safetensors", loaded.model, loaded.optimizer, loaded.random,
                  loaded.state);
  CHECK(loaded.state.epoch == 0);
  CHECK(loaded.state.best_epoch == 0);
  CHECK(loaded.state.best_parameters.empty());
  DoubleClassifier weights_only(small_config(false));
  CHECK_THROWS_WITH(load_checkpoint_weights(directory / "c.safetensors", weights_only, true),
                    Catch::Contains("has no best weights"));
}

TEST_CASE("checkpoint save rejects bad input", "[checkpoint]") {
  TemporaryDirectory directory;
  Run<DoubleClassifier> run(small_config(false), 10);
  CHECK_THROWS_WITH(save_checkpoint(directory / "c.safetensors", run.model, run.optimizer,
                                    run.random, run.state, {{"random_state", "x"}}),
                    Catch::Contains("\"random_state\" is reserved"));

  run.model.dense.parameters.bias(1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(
      save_checkpoint(directory / "c.safetensors", run.model, run.optimizer, run.random, run.state),
      Catch::Contains("model.dense.bias"));
  CHECK(directory.entries().empty());
}

TEST_CASE("damaged checkpoints are rejected", "[checkpoint]") {
  TemporaryDirectory directory;
  const auto good = directory / "good.safetensors";
  const auto bad = directory / "bad.safetensors";
  const LabeledSequences train = random_sequences(20, 4);
  Run<DoubleClassifier> saved(small_config(false), 11);
  saved.train_until(1, train, train);
  save_checkpoint(good, saved.model, saved.optimizer, saved.random, saved.state);

  struct Case {
    std::string name;
    std::function<void()> damage;
    std::string message;
  };
  const auto copy_except = [&](const std::string& skipped) {
    rewrite(good, bad,
            [&](const std::string& name, SafetensorsWriter&) { return name == skipped; });
  };
  const std::vector<Case> cases{
      {"truncated file",
       [&] {
         std::vector<std::byte> bytes = io_testing::read_bytes(good);
         bytes.resize(bytes.size() - 10);
         io_testing::write_bytes(bad, bytes);
       },
       ""},
      {"missing tensor", [&] { copy_except("optimizer.exp_avg_sq.dense.weight"); },
       "missing optimizer.exp_avg_sq.dense.weight"},
      {"unknown tensor",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name == "model.dense.bias") {
             writer.add_values("model.dense.extra", std::vector<double>{1.0}, {1});
           }
           return false;
         });
       },
       "unknown model.dense.extra"},
      {"wrong dtype",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "model.rnn.weight_hh_l0") return false;
           const SafetensorsFile file = SafetensorsFile::read(good);
           writer.add_values(name, std::vector<float>(file.values<float>(name)),
                             file.info(name).shape);
           return true;
         });
       },
       "has dtype F32"},
      {"wrong shape",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "optimizer.exp_avg.dense.weight") return false;
           writer.add_values(name, std::vector<double>(3 * 4, 0.0), {3, 4});
           return true;
         });
       },
       "has shape [3, 4]"},
      {"non-finite value",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "model.embedding.weight") return false;
           const SafetensorsFile file = SafetensorsFile::read(good);
           std::vector<double> values = file.values<double>(name);
           values[5] = std::numeric_limits<double>::infinity();
           writer.add_values(name, values, file.info(name).shape);
           return true;
         });
       },
       "non-finite value"},
      {"wrong counter dtype",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "training.epoch") return false;
           add_as_double(SafetensorsFile::read(good), name, writer);
           return true;
         });
       },
       "expected I64 [1]"},
      {"best epoch after epoch",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "training.epoch") return false;
           writer.add_integers(name, {0});
           return true;
         });
       },
       "expected 0 <= best_epoch <= epoch"},
      {"fractional step",
       [&] {
         rewrite(good, bad, [&](const std::string& name, SafetensorsWriter& writer) {
           if (name != "optimizer.step") return false;
           writer.add_values(name, std::vector<double>{2.5}, {1, 1});
           return true;
         });
       },
       "expected a whole number"},
      {"invalid random state",
       [&] {
         rewrite(good, bad, [](const std::string&, SafetensorsWriter&) { return false; },
                 {{"random_state", "deeprnn.Random.v1 1 2"}});
       },
       "random_state is invalid"},
      {"other format",
       [&] {
         rewrite(good, bad, [](const std::string&, SafetensorsWriter&) { return false; },
                 {{"format", "deeprnn-weights"}});
       },
       "this file is not a deeprnn checkpoint"},
      {"other version",
       [&] {
         rewrite(good, bad, [](const std::string&, SafetensorsWriter&) { return false; },
                 {{"format_version", "2"}});
       },
       "format_version is \"2\""},
  };

  for (const Case& test : cases) {
    INFO("case: " << test.name);
    test.damage();
    Run<DoubleClassifier> target(small_config(false), 12);
    const auto parameters_before = parameters_of<double>(target.model);
    const auto optimizer_before = optimizer_state_of<double>(target.optimizer);
    const std::string random_before = target.random.state();
    target.state.epoch = 7;

    try {
      load_checkpoint(bad, target.model, target.optimizer, target.random, target.state);
      FAIL("the damaged checkpoint was accepted");
    } catch (const format_error& error) {
      CHECK_THAT(error.what(), Catch::Contains(bad.string()));
      CHECK_THAT(error.what(), Catch::Contains(test.message));
    }
    // Nothing changed.
    CHECK(parameters_of<double>(target.model) == parameters_before);
    CHECK(optimizer_state_of<double>(target.optimizer) == optimizer_before);
    CHECK(target.random.state() == random_before);
    CHECK(target.state.epoch == 7);
  }

  // The undamaged file loads, so each failure above comes from its damage.
  Run<DoubleClassifier> target(small_config(false), 12);
  CHECK_NOTHROW(load_checkpoint(good, target.model, target.optimizer, target.random, target.state));
}

TEST_CASE("checkpoint of another architecture is rejected", "[checkpoint]") {
  TemporaryDirectory directory;
  Run<DoubleClassifier> saved(small_config(true), 13);
  save_checkpoint(directory / "c.safetensors", saved.model, saved.optimizer, saved.random,
                  saved.state);

  Run<DoubleClassifier> without_summary(small_config(false), 14);
  CHECK_THROWS_WITH(
      load_checkpoint(directory / "c.safetensors", without_summary.model, without_summary.optimizer,
                      without_summary.random, without_summary.state),
      Catch::Contains("unknown model.summary.bias_hh"));

  // A float model reading a double checkpoint.
  FloatClassifier float_model(small_config(true));
  CHECK_THROWS_WITH(load_checkpoint_weights(directory / "c.safetensors", float_model),
                    Catch::Contains("dtype F64"));
}
