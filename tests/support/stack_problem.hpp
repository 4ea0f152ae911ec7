// A StackedRNN with random parameters, inputs and a loss that reads every layer's output
// sequence and final states, for gradient and consistency tests.
#pragma once

#include <deeprnn/deeprnn.hpp>
#include <random>
#include <vector>

namespace deeprnn::testing {

template <class Scalar>
Matrix<Scalar> random_matrix(Index rows, Index cols, std::mt19937_64& engine, double limit = 1.0) {
  std::uniform_int_distribution<std::int64_t> bits(-(1 << 20), 1 << 20);
  Matrix<Scalar> m(rows, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) {
      m(i, j) = static_cast<Scalar>(limit * static_cast<double>(bits(engine)) / (1 << 20));
    }
  }
  return m;
}

// L = sum_k <R_out_k, layer_output(k)> + <R_h_k, final_hidden(k)> + <R_c_k, final_cell(k)>.
template <class Stack>
struct StackProblem {
  using Scalar = typename Stack::Scalar;

  Stack& rnn;
  Matrix<Scalar> x;
  Index batch;
  std::vector<Index> lengths;
  std::vector<LayerState<Scalar>> initial_states;
  OutputGradients<Scalar> seeds;

  // Fills the parameters, the input, the initial states (when `with_initial_states`) and the
  // loss weights with random values.
  StackProblem(Stack& stack, Index steps, Index batch_size, std::vector<Index> sample_lengths,
               bool with_initial_states, std::uint64_t seed)
      : rnn(stack),
        batch(batch_size),
        lengths(std::move(sample_lengths)),
        seeds(Stack::layer_count) {
    std::mt19937_64 engine(seed);
    rnn.for_each_parameter([&](const std::string&, auto& value, auto&) {
      const double limit = 1.0 / std::sqrt(static_cast<double>(value.rows()) / 2);
      value = random_matrix<Scalar>(value.rows(), value.cols(), engine, std::min(1.0, limit));
    });
    x = random_matrix<Scalar>(rnn.input_size(), steps * batch, engine, 1.5);
    for (std::size_t k = 0; k < Stack::layer_count; ++k) {
      const Index H = rnn.hidden_size(k);
      if (with_initial_states) {
        LayerState<Scalar> state;
        state.h = random_matrix<Scalar>(H, batch, engine);
        if (rnn.has_cell_state(k)) state.c = random_matrix<Scalar>(H, batch, engine);
        initial_states.push_back(state);
      }
      seeds.layer_output[k] = random_matrix<Scalar>(H, steps * batch, engine);
      seeds.final_hidden[k] = random_matrix<Scalar>(H, batch, engine);
      if (rnn.has_cell_state(k)) seeds.final_cell[k] = random_matrix<Scalar>(H, batch, engine);
    }
  }

  double loss() {
    rnn.forward(x, batch, lengths, initial_states);
    double total = 0;
    for (std::size_t k = 0; k < Stack::layer_count; ++k) {
      total += static_cast<double>(rnn.layer_output(k).cwiseProduct(seeds.layer_output[k]).sum());
      total += static_cast<double>(rnn.final_hidden(k).cwiseProduct(seeds.final_hidden[k]).sum());
      if (rnn.has_cell_state(k)) {
        total += static_cast<double>(rnn.final_cell(k).cwiseProduct(seeds.final_cell[k]).sum());
      }
    }
    return total;
  }

  // Runs forward and backward from zeroed gradients; returns dL/dx.
  Matrix<Scalar> backward() {
    rnn.for_each_parameter([](const std::string&, auto&, auto& gradient) {
      gradient.setConstant(std::numeric_limits<Scalar>::quiet_NaN());
    });
    rnn.zero_gradients();
    loss();
    return rnn.backward(seeds);
  }
};

}  // namespace deeprnn::testing
