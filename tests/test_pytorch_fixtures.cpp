// Every stack and summary case of the PyTorch reference fixtures: forward values, final
// states, loss and every gradient, at the tolerances the fixtures' README states.
#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>
#include <sstream>

#include "support/fixture.hpp"

using namespace deeprnn;
using deeprnn::testing::Fixture;

namespace {

template <class Cell>
struct FixtureCellName;
template <class S>
struct FixtureCellName<SimpleRNN<S, Activation::tanh>> {
  static constexpr const char* value = "rnn_tanh";
};
template <class S>
struct FixtureCellName<SimpleRNN<S, Activation::relu>> {
  static constexpr const char* value = "rnn_relu";
};
template <class S>
struct FixtureCellName<LSTM<S>> {
  static constexpr const char* value = "lstm";
};
template <class S>
struct FixtureCellName<GRU<S, ResetGate::after>> {
  static constexpr const char* value = "gru";
};

template <class... Cells>
std::string cell_list(const StackedRNN<Cells...>*) {
  std::string list;
  ((list += std::string(list.empty() ? "" : ",") + FixtureCellName<Cells>::value), ...);
  return list;
}

std::vector<Index> split_sizes(const std::string& text) {
  std::vector<Index> sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) sizes.push_back(std::stoll(item));
  return sizes;
}

// "weight_ih_l2" -> "layers.2.weight_ih"
std::string fixture_parameter_name(const std::string& name) {
  const std::size_t split = name.rfind("_l");
  return "layers." + name.substr(split + 2) + "." + name.substr(0, split);
}

// Loads the stack's parameters from the fixture and checks its structure against the
// metadata.
template <class Stack>
Stack load_stack(Fixture& fixture) {
  using Scalar = typename Stack::Scalar;
  REQUIRE(fixture.meta("cells") == cell_list(static_cast<Stack*>(nullptr)));
  const std::vector<Index> sizes = split_sizes(fixture.meta("hidden_sizes"));
  REQUIRE(sizes.size() == Stack::layer_count);
  std::array<Index, Stack::layer_count> hidden_sizes;
  std::copy(sizes.begin(), sizes.end(), hidden_sizes.begin());
  Stack rnn(std::stoll(fixture.meta("input_size")), hidden_sizes);
  rnn.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    value = fixture.matrix<Scalar>(fixture_parameter_name(name));
  });
  return rnn;
}

// Runs forward and backward of the stack case in `fixture`, with an optional summary whose
// encoding enters the loss, and compares everything the file stores.
template <class Stack, class Summary = void>
void run_case(const std::string& case_name) {
  using Scalar = typename Stack::Scalar;
  Fixture fixture(case_name);
  REQUIRE(fixture.is_float32() == std::is_same_v<Scalar, float>);
  Stack rnn = load_stack<Stack>(fixture);
  const Index batch = std::stoll(fixture.meta("batch"));
  const Index steps = std::stoll(fixture.meta("seq_len"));

  const Matrix<Scalar> x = fixture.sequence<Scalar>("input");
  REQUIRE(x.cols() == steps * batch);
  std::vector<Index> lengths;
  if (fixture.meta("has_lengths") == "true") lengths = fixture.lengths();
  std::vector<LayerState<Scalar>> initial_states;
  OutputGradients<Scalar> seeds(Stack::layer_count);
  for (std::size_t k = 0; k < Stack::layer_count; ++k) {
    const std::string layer = std::to_string(k);
    if (fixture.meta("has_initial_state") == "true") {
      LayerState<Scalar> state;
      state.h = fixture.sequence<Scalar>("layers." + layer + ".h0");
      if (rnn.has_cell_state(k)) state.c = fixture.sequence<Scalar>("layers." + layer + ".c0");
      initial_states.push_back(state);
    }
    seeds.layer_output[k] = fixture.sequence<Scalar>("loss.R_out." + layer);
    seeds.final_hidden[k] = fixture.sequence<Scalar>("loss.R_h." + layer);
    if (rnn.has_cell_state(k)) {
      seeds.final_cell[k] = fixture.sequence<Scalar>("loss.R_c." + layer);
    }
  }

  rnn.forward(x, batch, lengths, initial_states);
  double loss = 0;
  for (std::size_t k = 0; k < Stack::layer_count; ++k) {
    const std::string layer = "layers." + std::to_string(k);
    fixture.compare(layer + ".output", rnn.layer_output(k));
    fixture.compare(layer + ".h_n", rnn.final_hidden(k));
    loss += rnn.layer_output(k)
                .template cast<double>()
                .cwiseProduct(seeds.layer_output[k].template cast<double>())
                .sum() +
            rnn.final_hidden(k)
                .template cast<double>()
                .cwiseProduct(seeds.final_hidden[k].template cast<double>())
                .sum();
    if (rnn.has_cell_state(k)) {
      fixture.compare(layer + ".c_n", rnn.final_cell(k));
      loss += rnn.final_cell(k)
                  .template cast<double>()
                  .cwiseProduct(seeds.final_cell[k].template cast<double>())
                  .sum();
    }
  }
  fixture.compare("output", rnn.layer_output(Stack::layer_count - 1));

  if constexpr (!std::is_void_v<Summary>) {
    const SummaryMode mode =
        fixture.meta("summary") == "depth_final" ? SummaryMode::final_state : SummaryMode::per_step;
    REQUIRE(
        (fixture.meta("summary") == "depth_final" || fixture.meta("summary") == "depth_per_step"));
    Summary summary(rnn, std::stoll(fixture.meta("summary_size")), mode);
    REQUIRE(summary.has_projection() == (fixture.meta("summary_projection") == "true"));
    summary.for_each_parameter(
        [&](const std::string& name, auto& value, auto&) { value = fixture.matrix<Scalar>(name); });
    const Matrix<Scalar> encoding = summary.forward(rnn);
    fixture.compare("summary.input", summary.depth_input());
    fixture.compare("summary.output", summary.depth_output());
    fixture.compare("summary.h_n", encoding);
    if (fixture.contains("summary.c_n")) fixture.compare("summary.c_n", summary.encoding_cell());
    const Matrix<Scalar> weights = fixture.sequence<Scalar>("loss.R_summary");
    loss += encoding.template cast<double>().cwiseProduct(weights.template cast<double>()).sum();
    summary.zero_gradients();
    summary.backward(weights, seeds);
    summary.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
      fixture.compare_matrix("grad." + name, gradient);
    });
  }
  fixture.compare("loss.value", Matrix<double>::Constant(1, 1, loss));

  rnn.zero_gradients();
  const Matrix<Scalar> dx = rnn.backward(seeds);
  fixture.compare("grad.input", dx);
  rnn.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    fixture.compare_matrix("grad." + fixture_parameter_name(name), gradient);
  });
  for (std::size_t k = 0; k < initial_states.size(); ++k) {
    const std::string layer = "grad.layers." + std::to_string(k);
    const LayerState<Scalar> gradient = rnn.initial_state_gradient(k);
    fixture.compare(layer + ".h0", gradient.h);
    if (rnn.has_cell_state(k)) fixture.compare(layer + ".c0", gradient.c);
  }
  fixture.require_all_used();
}

}  // namespace

TEST_CASE("fixture rnn_tanh_single", "[fixture]") {
  run_case<StackedRNN<SimpleRNN<double>>>("rnn_tanh_single");
}
TEST_CASE("fixture rnn_relu_single", "[fixture]") {
  run_case<StackedRNN<SimpleRNN<double, Activation::relu>>>("rnn_relu_single");
}
TEST_CASE("fixture lstm_single", "[fixture]") { run_case<StackedRNN<LSTM<double>>>("lstm_single"); }
TEST_CASE("fixture gru_single", "[fixture]") { run_case<StackedRNN<GRU<double>>>("gru_single"); }
TEST_CASE("fixture lstm_stack3_init", "[fixture]") {
  run_case<StackedRNN<LSTM<double>, LSTM<double>, LSTM<double>>>("lstm_stack3_init");
}
TEST_CASE("fixture gru_stack3_lengths", "[fixture]") {
  run_case<StackedRNN<GRU<double>, GRU<double>, GRU<double>>>("gru_stack3_lengths");
}
TEST_CASE("fixture rnn_tanh_stack3", "[fixture]") {
  run_case<StackedRNN<SimpleRNN<double>, SimpleRNN<double>, SimpleRNN<double>>>("rnn_tanh_stack3");
}
TEST_CASE("fixture hetero_lstm_gru_rnn", "[fixture]") {
  run_case<StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>>>("hetero_lstm_gru_rnn");
}
TEST_CASE("fixture hetero_lengths_init", "[fixture]") {
  run_case<StackedRNN<GRU<double>, LSTM<double>, SimpleRNN<double, Activation::relu>>>(
      "hetero_lengths_init");
}
TEST_CASE("fixture edge_seq1_init", "[fixture]") {
  run_case<StackedRNN<LSTM<double>, GRU<double>>>("edge_seq1_init");
}
TEST_CASE("fixture edge_batch1_lengths", "[fixture]") {
  run_case<StackedRNN<SimpleRNN<double>, LSTM<double>>>("edge_batch1_lengths");
}
TEST_CASE("fixture edge_hidden1", "[fixture]") {
  run_case<StackedRNN<SimpleRNN<double>, LSTM<double>, GRU<double>>>("edge_hidden1");
}
TEST_CASE("fixture f32_lstm_stack3_lengths", "[fixture]") {
  run_case<StackedRNN<LSTM<float>, LSTM<float>, LSTM<float>>>("f32_lstm_stack3_lengths");
}
TEST_CASE("fixture f32_hetero_init", "[fixture]") {
  run_case<StackedRNN<GRU<float>, SimpleRNN<float, Activation::relu>>>("f32_hetero_init");
}
TEST_CASE("fixture summary_gru_proj", "[fixture][summary]") {
  run_case<StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>>, SummaryRNN<GRU<double>>>(
      "summary_gru_proj");
}
TEST_CASE("fixture summary_lstm_identity", "[fixture][summary]") {
  run_case<StackedRNN<GRU<double>, GRU<double>, GRU<double>>, SummaryRNN<LSTM<double>>>(
      "summary_lstm_identity");
}
TEST_CASE("fixture summary_per_step_gru", "[fixture][summary]") {
  run_case<StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>>, SummaryRNN<GRU<double>>>(
      "summary_per_step_gru");
}
