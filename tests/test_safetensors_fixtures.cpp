// Reads every PyTorch reference fixture and checks the facts its documentation states about
// names, shapes, dtypes and metadata, so that a reader bug shows up before the model tests
// use the tensors.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <deeprnn/io/safetensors.hpp>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

namespace {

using deeprnn::Index;
using deeprnn::io::DType;
using deeprnn::io::SafetensorsFile;
using deeprnn::io_testing::fixture_files;
using deeprnn::io_testing::fixture_path;
using Shape = std::vector<std::int64_t>;

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) parts.push_back(part);
  return parts;
}

std::int64_t metadata_integer(const SafetensorsFile& file, const std::string& key) {
  return std::stoll(file.metadata().at(key));
}

std::int64_t gate_count(const std::string& cell) {
  if (cell == "lstm") return 4;
  if (cell == "gru") return 3;
  return 1;
}

void check_shape(const SafetensorsFile& file, const std::string& name, const Shape& expected) {
  INFO("tensor " << name);
  REQUIRE(file.contains(name));
  CHECK(file.info(name).shape == expected);
}

// Checks every stack layer's parameters, states and loss weights (names and shapes as the
// fixture documentation lists them).
void check_stack_layers(const SafetensorsFile& file) {
  const auto cells = split_commas(file.metadata().at("cells"));
  const auto widths = split_commas(file.metadata().at("hidden_sizes"));
  const std::int64_t layers = metadata_integer(file, "num_layers");
  const std::int64_t batch = metadata_integer(file, "batch");
  const std::int64_t steps = metadata_integer(file, "seq_len");
  const bool initial_state = file.metadata().at("has_initial_state") == "true";
  REQUIRE(static_cast<std::int64_t>(cells.size()) == layers);
  REQUIRE(static_cast<std::int64_t>(widths.size()) == layers);

  std::int64_t input_width = metadata_integer(file, "input_size");
  for (std::int64_t k = 0; k < layers; ++k) {
    const std::string layer = "layers." + std::to_string(k) + ".";
    const std::int64_t hidden = std::stoll(widths[k]);
    const std::int64_t gate_rows = gate_count(cells[k]) * hidden;
    const bool lstm = cells[k] == "lstm";
    INFO("layer " << k << " (" << cells[k] << ")");

    check_shape(file, layer + "weight_ih", {gate_rows, input_width});
    check_shape(file, layer + "weight_hh", {gate_rows, hidden});
    check_shape(file, layer + "bias_ih", {gate_rows});
    check_shape(file, layer + "bias_hh", {gate_rows});
    check_shape(file, layer + "output", {steps, batch, hidden});
    check_shape(file, layer + "h_n", {batch, hidden});
    CHECK(file.contains(layer + "c_n") == lstm);
    CHECK(file.contains(layer + "h0") == initial_state);
    CHECK(file.contains(layer + "c0") == (initial_state && lstm));
    if (initial_state) check_shape(file, layer + "h0", {batch, hidden});

    const bool classifier = file.metadata().at("model") == "classifier";
    if (!classifier) {
      check_shape(file, "loss.R_out." + std::to_string(k), {steps, batch, hidden});
      check_shape(file, "loss.R_h." + std::to_string(k), {batch, hidden});
      CHECK(file.contains("loss.R_c." + std::to_string(k)) == lstm);
    }
    input_width = hidden;
  }
}

}  // namespace

TEST_CASE("fixture directory has every case", "[safetensors][fixtures]") {
  // The 18 cases listed in the fixture documentation.
  CHECK(fixture_files().size() == 18);
}

TEST_CASE("fixture metadata matches file", "[safetensors][fixtures]") {
  for (const auto& path : fixture_files()) {
    INFO(path.string());
    const SafetensorsFile file = SafetensorsFile::read(path);
    const auto& metadata = file.metadata();

    CHECK(metadata.at("case") == path.stem().string());
    CHECK(metadata.at("format_version") == "1");
    CHECK(metadata.at("compute_dtype") == "float64");
    CHECK(metadata.at("layout") == "time-major [T, B, features]");
    CHECK(!file.contains("__metadata__"));

    const std::string dtype = metadata.at("dtype");
    REQUIRE((dtype == "float64" || dtype == "float32"));
    const DType floating = dtype == "float64" ? DType::f64 : DType::f32;
    for (const std::string& name : file.names()) {
      INFO("tensor " << name);
      const bool integer = name == "lengths" || name == "tokens" || name == "labels";
      CHECK(file.info(name).dtype == (integer ? DType::i64 : floating));
    }
  }
}

TEST_CASE("fixture names are sorted", "[safetensors][fixtures]") {
  for (const auto& path : fixture_files()) {
    INFO(path.string());
    const SafetensorsFile file = SafetensorsFile::read(path);
    const std::vector<std::string> names = file.names();
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    CHECK(names.size() == file.size());
  }
}

TEST_CASE("fixture tensors are aligned", "[safetensors][fixtures]") {
  // The documentation promises that every tensor starts at a multiple of its element size.
  for (const auto& path : fixture_files()) {
    INFO(path.string());
    const auto bytes = deeprnn::io_testing::read_bytes(path);
    CHECK(deeprnn::io_testing::header_length(bytes) % 8 == 0);
    const SafetensorsFile file = SafetensorsFile::read(path);
    for (const std::string& name : file.names()) {
      INFO("tensor " << name);
      CHECK(file.info(name).begin % deeprnn::io::element_size(file.info(name).dtype) == 0);
    }
  }
}

TEST_CASE("fixture shapes match metadata", "[safetensors][fixtures]") {
  for (const auto& path : fixture_files()) {
    INFO(path.string());
    const SafetensorsFile file = SafetensorsFile::read(path);
    const std::int64_t batch = metadata_integer(file, "batch");
    const std::int64_t steps = metadata_integer(file, "seq_len");
    const std::int64_t input_width = metadata_integer(file, "input_size");
    const bool classifier = file.metadata().at("model") == "classifier";

    check_stack_layers(file);
    check_shape(file, "loss.value", {1});
    if (classifier) {
      check_shape(file, "tokens", {steps, batch});
      check_shape(file, "labels", {batch});
      check_shape(file, "embedding.output", {steps, batch, input_width});
      check_shape(file, "embedding.weight",
                  {metadata_integer(file, "vocab_size"), metadata_integer(file, "embedding_size")});
    } else {
      check_shape(file, "input", {steps, batch, input_width});
      const auto widths = split_commas(file.metadata().at("hidden_sizes"));
      check_shape(file, "output", {steps, batch, std::stoll(widths.back())});
    }

    // Every gradient has the shape of the tensor it belongs to.
    for (const std::string& name : file.names()) {
      if (name.rfind("grad.", 0) != 0) continue;
      const std::string target = name.substr(5);
      INFO("gradient " << name);
      REQUIRE(file.contains(target));
      CHECK(file.info(name).shape == file.info(target).shape);
    }
  }
}

TEST_CASE("fixture summary shapes", "[safetensors][fixtures]") {
  for (const auto& path : fixture_files()) {
    const SafetensorsFile file = SafetensorsFile::read(path);
    if (file.metadata().at("model") != "stack+summary") continue;
    INFO(path.string());
    const auto& metadata = file.metadata();
    const std::int64_t size = std::stoll(metadata.at("summary_size"));
    const std::int64_t gate_rows = gate_count(metadata.at("summary_cell")) * size;
    const auto widths = split_commas(metadata.at("hidden_sizes"));
    const bool projected = metadata.at("summary_projection") == "true";

    check_shape(file, "summary.weight_ih", {gate_rows, size});
    check_shape(file, "summary.weight_hh", {gate_rows, size});
    check_shape(file, "summary.bias_ih", {gate_rows});
    check_shape(file, "summary.bias_hh", {gate_rows});
    for (std::size_t k = 0; k < widths.size(); ++k) {
      const std::string projection = "summary.proj." + std::to_string(k);
      CHECK(file.contains(projection + ".weight") == projected);
      if (projected) {
        check_shape(file, projection + ".weight", {size, std::stoll(widths[k])});
        check_shape(file, projection + ".bias", {size});
      }
    }
  }
}

TEST_CASE("fixture lengths match documentation", "[safetensors][fixtures]") {
  // Lengths as listed in the fixture documentation's table of cases.
  const std::map<std::string, std::vector<std::int64_t>> documented{
      {"gru_stack3_lengths", {5, 3, 1, 4}}, {"hetero_lengths_init", {7, 2, 5, 1}},
      {"edge_batch1_lengths", {6}},         {"f32_lstm_stack3_lengths", {6, 4, 2}},
      {"summary_gru_proj", {5, 3, 4}},
  };
  for (const auto& path : fixture_files()) {
    INFO(path.string());
    const SafetensorsFile file = SafetensorsFile::read(path);
    const auto expected = documented.find(path.stem().string());
    const bool has_lengths = file.metadata().at("has_lengths") == "true";
    CHECK(has_lengths == (expected != documented.end()));
    CHECK(file.contains("lengths") == has_lengths);
    if (expected == documented.end()) continue;
    CHECK(file.integers("lengths") == expected->second);
    CHECK(file.values<std::int64_t>("lengths") == expected->second);
    check_shape(file, "lengths", {metadata_integer(file, "batch")});
  }
}

TEST_CASE("fixture output equals top layer", "[safetensors][fixtures]") {
  for (const auto& path : fixture_files()) {
    const SafetensorsFile file = SafetensorsFile::read(path);
    if (!file.contains("output")) continue;
    INFO(path.string());
    const std::string top = "layers." + std::to_string(metadata_integer(file, "num_layers") - 1);
    const auto output = file.bytes("output");
    const auto top_output = file.bytes(top + ".output");
    REQUIRE(output.size() == top_output.size());
    CHECK(std::memcmp(output.data(), top_output.data(), output.size()) == 0);
  }
}

TEST_CASE("fixture matrix is row major", "[safetensors][fixtures]") {
  // Element (i, j) of a [R, C] tensor is flat element i*C + j.
  const SafetensorsFile file = SafetensorsFile::read(fixture_path("hetero_lstm_gru_rnn"));
  const std::vector<double> flat = file.values<double>("layers.0.weight_ih");
  const deeprnn::Matrix<double> weight = file.matrix<double>("layers.0.weight_ih");
  REQUIRE(weight.rows() == 24);  // 4 gates x 6 hidden
  REQUIRE(weight.cols() == 5);
  for (Index i = 0; i < weight.rows(); ++i) {
    for (Index j = 0; j < weight.cols(); ++j) {
      CHECK(weight(i, j) == flat[static_cast<std::size_t>(i * 5 + j)]);
    }
  }

  const deeprnn::Matrix<double> bias = file.matrix<double>("layers.0.bias_ih");
  CHECK(bias.rows() == 24);
  CHECK(bias.cols() == 1);
  CHECK(bias(7, 0) == file.values<double>("layers.0.bias_ih")[7]);
}

TEST_CASE("fixture feature columns are time major", "[safetensors][fixtures]") {
  // [T, B, F] becomes F x T*B with column t*B + b holding flat elements (t*B + b)*F + f.
  const SafetensorsFile file = SafetensorsFile::read(fixture_path("gru_stack3_lengths"));
  const Index steps = 6, batch = 4, features = 3;
  const std::vector<double> flat = file.values<double>("input");
  const deeprnn::Matrix<double> input = file.feature_columns<double>("input");
  REQUIRE(input.rows() == features);
  REQUIRE(input.cols() == steps * batch);
  for (Index t = 0; t < steps; ++t) {
    for (Index b = 0; b < batch; ++b) {
      for (Index f = 0; f < features; ++f) {
        CHECK(input(f, t * batch + b) ==
              flat[static_cast<std::size_t>((t * batch + b) * features + f)]);
      }
    }
  }

  // [B, H] becomes H x B, and [N] becomes N x 1.
  const deeprnn::Matrix<double> final_hidden = file.feature_columns<double>("layers.2.h_n");
  CHECK(final_hidden.rows() == 4);
  CHECK(final_hidden.cols() == batch);
  CHECK(final_hidden(1, 2) == file.values<double>("layers.2.h_n")[2 * 4 + 1]);
  const deeprnn::Matrix<double> bias = file.feature_columns<double>("layers.0.bias_hh");
  CHECK(bias.rows() == 12);
  CHECK(bias.cols() == 1);
}

TEST_CASE("fixture float32 converts exactly", "[safetensors][fixtures]") {
  // Every float is a double exactly, so reading F32 as double and as float must agree.
  const SafetensorsFile file = SafetensorsFile::read(fixture_path("f32_hetero_init"));
  for (const std::string& name : file.names()) {
    INFO("tensor " << name);
    const std::vector<float> as_float = file.values<float>(name);
    const std::vector<double> as_double = file.values<double>(name);
    REQUIRE(as_float.size() == as_double.size());
    for (std::size_t i = 0; i < as_float.size(); ++i) {
      CHECK(static_cast<double>(as_float[i]) == as_double[i]);
    }
  }
}

TEST_CASE("fixture lookup errors name tensor", "[safetensors][fixtures]") {
  const auto path = fixture_path("lstm_single");
  const SafetensorsFile file = SafetensorsFile::read(path);
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  using deeprnn::io::format_error;

  CHECK_THROWS_AS(file.info("layers.9.weight_ih"), format_error);
  CHECK_THROWS_WITH(file.info("layers.9.weight_ih"), StartsWith(path.string()));
  CHECK_THROWS_WITH(file.values<double>("layers.9.weight_ih"), Contains("\"layers.9.weight_ih\""));
  CHECK_THROWS_WITH(file.matrix<double>("nope"), Contains("18 tensors"));

  // Integers only from I64 tensors; matrices only from rank 1 or 2.
  CHECK_THROWS_AS(file.integers("input"), format_error);
  CHECK_THROWS_WITH(file.integers("input"), Contains("dtype F64"));
  CHECK_THROWS_AS(file.matrix<double>("input"), format_error);
  CHECK_THROWS_WITH(file.matrix<double>("input"), Contains("[7, 2, 3]"));
}
