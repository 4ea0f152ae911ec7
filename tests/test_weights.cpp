// save_weights / load_weights: exact round trips, PyTorch names and shapes, and all-or-nothing
// loading that rejects files not matching the model.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/io/weights.hpp>
#include <deeprnn/layers/dense.hpp>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using deeprnn::GRU;
using deeprnn::Index;
using deeprnn::LSTM;
using deeprnn::Matrix;
using deeprnn::StackedRNN;
using deeprnn::io::format_error;
using deeprnn::io::SafetensorsFile;
using deeprnn::io::SafetensorsWriter;
using deeprnn::io_testing::TemporaryDirectory;
using Shape = std::vector<std::int64_t>;

using DoubleStack = StackedRNN<LSTM<double>, GRU<double>>;
using FloatStack = StackedRNN<LSTM<float>, GRU<float>>;

// Fills every parameter with distinct random values, the same ones for the same seed.
template <class Model>
void randomize(Model& model, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  model.for_each_parameter([&](const std::string&, auto& value, auto&) {
    using Scalar = typename std::decay_t<decltype(value)>::Scalar;
    for (Index k = 0; k < value.size(); ++k) value.data()[k] = static_cast<Scalar>(uniform(engine));
  });
}

// A copy of every parameter as a matrix, by name.
template <class Scalar, class Model>
std::map<std::string, Matrix<Scalar>> parameters_of(Model& model) {
  std::map<std::string, Matrix<Scalar>> parameters;
  model.for_each_parameter(
      [&](const std::string& name, auto& value, auto&) { parameters[name] = value; });
  return parameters;
}

// A writer holding every parameter of the model except `skipped`.
template <class Model>
SafetensorsWriter writer_of(Model& model, const std::string& skipped = "") {
  SafetensorsWriter writer;
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    if (name != skipped) writer.add(name, value);
  });
  return writer;
}

// The expected names and PyTorch shapes of DoubleStack(3, {4, 5}): LSTM rows 4 * 4 = 16,
// GRU rows 3 * 5 = 15.
const std::map<std::string, Shape> stack_shapes{
    {"weight_ih_l0", {16, 3}}, {"weight_hh_l0", {16, 4}}, {"bias_ih_l0", {16}},
    {"bias_hh_l0", {16}},      {"weight_ih_l1", {15, 4}}, {"weight_hh_l1", {15, 5}},
    {"bias_ih_l1", {15}},      {"bias_hh_l1", {15}},
};

}  // namespace

TEST_CASE("weights round trip is exact", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "stack.safetensors";
  DoubleStack saved(3, {4, 5});
  randomize(saved, 1);
  deeprnn::io::save_weights(path, saved);

  DoubleStack loaded(3, {4, 5});
  deeprnn::io::load_weights(path, loaded);
  const auto expected = parameters_of<double>(saved);
  const auto actual = parameters_of<double>(loaded);
  REQUIRE(actual.size() == 8);
  for (const auto& [name, value] : expected) {
    INFO(name);
    CHECK(actual.at(name) == value);
  }
}

TEST_CASE("weights round trip of float model", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "stack.safetensors";
  FloatStack saved(3, {4, 5});
  randomize(saved, 2);
  deeprnn::io::save_weights(path, saved);

  FloatStack loaded(3, {4, 5});
  deeprnn::io::load_weights(SafetensorsFile::read(path), loaded);
  CHECK(parameters_of<float>(loaded) == parameters_of<float>(saved));
  CHECK(SafetensorsFile::read(path).info("weight_hh_l1").dtype == deeprnn::io::DType::f32);
}

TEST_CASE("weights file has PyTorch layout", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "stack.safetensors";
  DoubleStack rnn(3, {4, 5});
  randomize(rnn, 3);
  deeprnn::io::save_weights(path, rnn);

  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.metadata().at("format") == "deeprnn-weights");
  CHECK(file.metadata().at("format_version") == "1");
  REQUIRE(file.size() == stack_shapes.size());
  for (const auto& [name, shape] : stack_shapes) {
    INFO(name);
    REQUIRE(file.contains(name));
    CHECK(file.info(name).shape == shape);
    CHECK(file.info(name).dtype == deeprnn::io::DType::f64);
  }

  // weight_ih is stored [out, in] row-major: flat element i * 3 + j is W(i, j).
  const Matrix<double>& weight = rnn.layer<0>().parameters.weight_ih;
  const std::vector<double> flat = file.values<double>("weight_ih_l0");
  CHECK(flat[5 * 3 + 2] == weight(5, 2));
  CHECK(flat[15 * 3 + 0] == weight(15, 0));
  CHECK(file.matrix<double>("weight_hh_l1") == rnn.layer<1>().parameters.weight_hh);
  CHECK(file.matrix<double>("bias_ih_l1") == Matrix<double>(rnn.layer<1>().parameters.bias_ih));
}

TEST_CASE("weights of several models share a file", "[weights]") {
  using deeprnn::io::with_prefix;
  TemporaryDirectory directory;
  const auto path = directory / "model.safetensors";
  DoubleStack rnn(3, {4, 5});
  deeprnn::SummaryRNN<GRU<double>> summary(rnn, 3, deeprnn::SummaryMode::final_state);
  deeprnn::Dense<double> head(3, 2);
  randomize(rnn, 4);
  randomize(summary, 5);
  randomize(head, 6);
  deeprnn::io::save_weights(path, with_prefix("rnn.", rnn), with_prefix("", summary),
                            with_prefix("head.", head));

  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.contains("rnn.weight_ih_l0"));
  CHECK(file.contains("summary.weight_ih"));
  CHECK(file.info("summary.proj.1.weight").shape == Shape{3, 5});
  CHECK(file.info("head.weight").shape == Shape{2, 3});
  CHECK(file.info("head.bias").shape == Shape{2});
  CHECK(file.size() == 8 + 4 + 2 * 2 + 2);

  DoubleStack rnn_loaded(3, {4, 5});
  deeprnn::SummaryRNN<GRU<double>> summary_loaded(rnn, 3, deeprnn::SummaryMode::final_state);
  deeprnn::Dense<double> head_loaded(3, 2);
  deeprnn::io::load_weights(path, with_prefix("rnn.", rnn_loaded), with_prefix("", summary_loaded),
                            with_prefix("head.", head_loaded));
  CHECK(parameters_of<double>(rnn_loaded) == parameters_of<double>(rnn));
  CHECK(parameters_of<double>(summary_loaded) == parameters_of<double>(summary));
  CHECK(parameters_of<double>(head_loaded) == parameters_of<double>(head));

  // One model alone does not account for the other models' tensors.
  DoubleStack alone(3, {4, 5});
  CHECK_THROWS_WITH(deeprnn::io::load_weights(path, alone, "rnn."),
                    Contains("unknown head.bias, head.weight, summary.bias_hh"));
}

TEST_CASE("weights load rejects mismatches", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "bad.safetensors";
  DoubleStack source(3, {4, 5});
  randomize(source, 7);

  // The target's parameters must survive every failed load unchanged.
  DoubleStack target(3, {4, 5});
  randomize(target, 8);
  const auto before = parameters_of<double>(target);
  auto check_rejected = [&](const std::vector<std::string>& message_parts) {
    CHECK_THROWS_AS(deeprnn::io::load_weights(path, target), format_error);
    CHECK_THROWS_WITH(deeprnn::io::load_weights(path, target), StartsWith(path.string() + ": "));
    for (const std::string& part : message_parts) {
      CHECK_THROWS_WITH(deeprnn::io::load_weights(path, target), Contains(part));
    }
    CHECK(parameters_of<double>(target) == before);
  };

  SECTION("missing tensor") {
    writer_of(source, "bias_hh_l1").write(path);
    check_rejected({"missing bias_hh_l1;"});
  }
  SECTION("unknown tensor") {
    SafetensorsWriter writer = writer_of(source);
    writer.add("weight_ih_l2", Matrix<double>::Zero(2, 2));
    writer.write(path);
    check_rejected({"unknown weight_ih_l2;"});
  }
  SECTION("prefix mismatch") {
    deeprnn::io::save_weights(path, source, "rnn.");
    check_rejected(
        {"missing weight_ih_l0, weight_hh_l0", "unknown rnn.bias_hh_l0, rnn.bias_hh_l1"});
  }
  SECTION("wrong shape") {
    StackedRNN<LSTM<double>, GRU<double>> narrow(2, {4, 5});
    deeprnn::io::save_weights(path, narrow);
    check_rejected({"\"weight_ih_l0\" has shape [16, 2]", "model expects [16, 3]"});
  }
  SECTION("vector stored as matrix") {
    SafetensorsWriter writer = writer_of(source, "bias_ih_l0");
    writer.add("bias_ih_l0", Matrix<double>::Zero(16, 1));
    writer.write(path);
    check_rejected({"\"bias_ih_l0\" has shape [16, 1]", "model expects [16]"});
  }
  SECTION("float file into double model") {
    FloatStack single(3, {4, 5});
    deeprnn::io::save_weights(path, single);
    check_rejected({"dtype F32", "model's parameters are double (F64)"});
  }
  SECTION("NaN in the file") {
    // The NaN sits in the last tensor visited, after valid tensors that a partial load would
    // already have assigned.
    SafetensorsWriter writer = writer_of(source, "bias_hh_l1");
    deeprnn::Vector<double> bias = source.layer<1>().parameters.bias_hh;
    bias(11) = std::numeric_limits<double>::quiet_NaN();
    writer.add("bias_hh_l1", bias);
    writer.write(path);
    check_rejected({"\"bias_hh_l1\" contains the non-finite value nan at [11] (flat index 11)"});
  }
  SECTION("infinity in a matrix") {
    SafetensorsWriter writer = writer_of(source, "weight_hh_l1");
    Matrix<double> weight = source.layer<1>().parameters.weight_hh;
    weight(2, 3) = -std::numeric_limits<double>::infinity();
    writer.add("weight_hh_l1", weight);
    writer.write(path);
    check_rejected({"\"weight_hh_l1\"", "-inf at [2, 3] (flat index 13)"});
  }
  SECTION("other format") {
    SafetensorsWriter writer = writer_of(source);
    writer.set_metadata("format", "keras");
    writer.write(path);
    check_rejected({"format is \"keras\"", "\"deeprnn-weights\""});
  }
  SECTION("newer format version") {
    SafetensorsWriter writer = writer_of(source);
    writer.set_metadata("format", "deeprnn-weights");
    writer.set_metadata("format_version", "2");
    writer.write(path);
    check_rejected({"format_version is \"2\""});
  }
}

TEST_CASE("weights load rejects double into float", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "double.safetensors";
  DoubleStack source(3, {4, 5});
  deeprnn::io::save_weights(path, source);
  FloatStack target(3, {4, 5});
  CHECK_THROWS_AS(deeprnn::io::load_weights(path, target), format_error);
  CHECK_THROWS_WITH(deeprnn::io::load_weights(path, target),
                    Contains("dtype F64, but the model's parameters are float (F32)"));
}

TEST_CASE("weights save rejects non-finite values", "[weights]") {
  TemporaryDirectory directory;
  const auto path = directory / "diverged.safetensors";
  DoubleStack rnn(3, {4, 5});
  rnn.layer<0>().parameters.weight_hh(3, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(deeprnn::io::save_weights(path, rnn), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(
      deeprnn::io::save_weights(path, rnn),
      Contains("\"weight_hh_l0\" contains the non-finite value inf at row 3, column 1"));
  CHECK(directory.entries().empty());
}

TEST_CASE("weights reject shared parameter names", "[weights]") {
  using deeprnn::io::with_prefix;
  TemporaryDirectory directory;
  const auto path = directory / "shared.safetensors";
  DoubleStack first(3, {4, 5});
  DoubleStack second(3, {4, 5});
  CHECK_THROWS_WITH(
      deeprnn::io::save_weights(path, with_prefix("", first), with_prefix("", second)),
      Contains("already added"));
  CHECK(directory.entries().empty());

  deeprnn::io::save_weights(path, first);
  CHECK_THROWS_WITH(
      deeprnn::io::load_weights(path, with_prefix("", first), with_prefix("", second)),
      Contains("two parameters are both named"));
}

TEST_CASE("weights load PyTorch parameters", "[weights][fixtures]") {
  // A file with PyTorch's nn.LSTM names and no deeprnn metadata, made from a fixture's
  // parameters, must load and reproduce the fixture's output sequence.
  const SafetensorsFile fixture =
      SafetensorsFile::read(deeprnn::io_testing::fixture_path("lstm_single"));
  SafetensorsWriter writer;
  for (const std::string tensor : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
    const std::string name = "layers.0." + tensor;
    writer.add_values(tensor + "_l0", fixture.values<double>(name), fixture.info(name).shape);
  }
  TemporaryDirectory directory;
  const auto path = directory / "pytorch.safetensors";
  writer.write(path);

  deeprnn::StackOptions options;
  options.return_sequences = true;
  StackedRNN<LSTM<double>> rnn(3, {5}, options);
  deeprnn::io::load_weights(path, rnn);
  CHECK(rnn.layer<0>().parameters.weight_ih == fixture.matrix<double>("layers.0.weight_ih"));

  // lstm_single: T = 7, B = 2, tolerance 1e-9 relative as the fixture documentation advises.
  const Matrix<double> output = rnn.forward(fixture.feature_columns<double>("input"), 2);
  const Matrix<double> expected = fixture.feature_columns<double>("layers.0.output");
  REQUIRE(output.rows() == expected.rows());
  REQUIRE(output.cols() == expected.cols());
  for (Index k = 0; k < output.size(); ++k) {
    INFO("element " << k);
    CHECK(std::abs(output.data()[k] - expected.data()[k]) <=
          1e-9 * std::max(1.0, std::abs(expected.data()[k])));
  }
}
