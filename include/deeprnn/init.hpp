// Parameter initialisation with the defaults of Keras (2.x and 3.x layers) or of PyTorch
// (1.13 modules), drawn from a deeprnn::Random so that a seed fixes every value.
#pragma once

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/layers/dense.hpp>
#include <deeprnn/layers/embedding.hpp>
#include <deeprnn/random.hpp>
#include <deeprnn/stacked_rnn.hpp>
#include <deeprnn/summary_rnn.hpp>
#include <string>
#include <type_traits>
#include <utility>

namespace deeprnn {

// A recurrent cell that the initialisers accept: RecurrentCell plus the number of gate blocks,
// which tells an LSTM (4) from a GRU (3) or a plain RNN (1).
template <class Cell>
concept InitializableCell = RecurrentCell<Cell> && requires {
  { Cell::gate_count } -> std::convertible_to<int>;
};

namespace init {

// Fills a weight of output_size x input_size (PyTorch's layout) with uniform(-limit, limit),
//   limit = sqrt(6 / (fan_in + fan_out)),   fan_in = columns, fan_out = rows,
// Keras' glorot_uniform (Glorot and Bengio 2010). Values are drawn in column-major order.
template <class Dense>
void glorot_uniform(Dense&& weight, Random& random) {
  if (weight.size() == 0) return;
  const double fan_in = static_cast<double>(weight.cols());
  const double fan_out = static_cast<double>(weight.rows());
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  random.fill_uniform(weight, -limit, limit);
}

// Fills a rows x cols weight with gain times a random orthogonal matrix, as Keras'
// Orthogonal: A (max(rows, cols) x min(rows, cols), standard normal, column-major) is
// factored A = Q R, each column of Q is multiplied by the sign of R's diagonal entry (which
// makes Q uniformly distributed), and W = Q when rows >= cols, W = Q^T otherwise. So W has
// orthonormal columns (W^T W = I) when rows >= cols and orthonormal rows (W W^T = I)
// otherwise. The factorisation runs in double for every Scalar.
template <class Dense>
void orthogonal(Dense&& weight, Random& random, double gain = 1.0) {
  using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
  const Index rows = weight.rows();
  const Index cols = weight.cols();
  if (weight.size() == 0) return;
  const Index long_side = std::max(rows, cols);
  const Index short_side = std::min(rows, cols);

  Matrix<double> a(long_side, short_side);
  random.fill_normal(a);
  const Eigen::HouseholderQR<Matrix<double>> qr(a);
  Matrix<double> q = qr.householderQ() * Matrix<double>::Identity(long_side, short_side);
  for (Index j = 0; j < short_side; ++j) {
    if (qr.matrixQR()(j, j) < 0.0) q.col(j) *= -1.0;
  }

  if (rows >= cols) {
    weight = (gain * q).template cast<Scalar>();
  } else {
    weight = (gain * q.transpose()).template cast<Scalar>();
  }
}

// Keras' defaults for a recurrent layer (SimpleRNN, LSTM, GRU), drawn in this order:
//   weight_ih: glorot_uniform, fan_in = input_size, fan_out = G*H (Keras' kernel)
//   weight_hh: orthogonal, (G*H) x H with W^T W = I (Keras' recurrent_kernel)
//   bias_ih, bias_hh: zero
// Keras' recurrent kernel is one H x G*H orthogonal matrix over all gate blocks (orthonormal
// rows), so its transpose in PyTorch's layout has orthonormal columns. The single gate blocks
// are not orthogonal on their own.
// unit_forget_bias (LSTM only, Keras' default): the forget-gate rows H..2H-1 of the bias are
// 1. Keras has one bias and PyTorch two that are always summed, so the 1 goes into bias_ih and
// bias_hh stays zero.
template <InitializableCell Cell>
void keras_default(Cell& cell, Random& random, bool unit_forget_bias = true) {
  RecurrentParameters<typename Cell::Scalar>& p = cell.parameters;
  glorot_uniform(p.weight_ih, random);
  orthogonal(p.weight_hh, random);
  p.bias_ih.setZero();
  p.bias_hh.setZero();
  if constexpr (Cell::gate_count == 4) {
    const Index H = cell.hidden_size();
    if (unit_forget_bias) p.bias_ih.segment(H, H).setOnes();
  }
}

// PyTorch's default for nn.RNN, nn.LSTM and nn.GRU: every tensor uniform(-k, k) with
// k = 1 / sqrt(H), drawn in the order weight_ih, weight_hh, bias_ih, bias_hh.
template <InitializableCell Cell>
void pytorch_default(Cell& cell, Random& random) {
  const double k = 1.0 / std::sqrt(static_cast<double>(cell.hidden_size()));
  cell.parameters.for_each(
      [&](const std::string&, auto& tensor) { random.fill_uniform(tensor, -k, k); });
}

// Keras' Dense: weight glorot_uniform (fan_in = input_size, fan_out = output_size), bias zero.
template <class Scalar>
void keras_default(Dense<Scalar>& dense, Random& random) {
  glorot_uniform(dense.parameters.weight, random);
  dense.parameters.bias.setZero();
}

// PyTorch's nn.Linear: weight, then bias, uniform(-k, k) with k = 1 / sqrt(input_size) (what
// its kaiming_uniform with a = sqrt(5) reduces to).
template <class Scalar>
void pytorch_default(Dense<Scalar>& dense, Random& random) {
  const double k = 1.0 / std::sqrt(static_cast<double>(dense.input_size()));
  random.fill_uniform(dense.parameters.weight, -k, k);
  random.fill_uniform(dense.parameters.bias, -k, k);
}

// Keras' Embedding: uniform(-0.05, 0.05). The padding id's row, if any, is set to zero.
template <class Scalar>
void keras_default(Embedding<Scalar>& embedding, Random& random) {
  random.fill_uniform(embedding.parameters.weight, -0.05, 0.05);
  if (const auto id = embedding.padding_id()) {
    embedding.parameters.weight.row(static_cast<Index>(*id)).setZero();
  }
}

// PyTorch's nn.Embedding: standard normal. The padding id's row, if any, is set to zero.
template <class Scalar>
void pytorch_default(Embedding<Scalar>& embedding, Random& random) {
  random.fill_normal(embedding.parameters.weight);
  if (const auto id = embedding.padding_id()) {
    embedding.parameters.weight.row(static_cast<Index>(*id)).setZero();
  }
}

// Every layer of a stack, bottom to top, with the cell overloads above.
template <class... Cells>
void keras_default(StackedRNN<Cells...>& stack, Random& random, bool unit_forget_bias = true) {
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (keras_default(stack.template layer<K>(), random, unit_forget_bias), ...);
  }
  (std::index_sequence_for<Cells...>{});
}

template <class... Cells>
void pytorch_default(StackedRNN<Cells...>& stack, Random& random) {
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (pytorch_default(stack.template layer<K>(), random), ...);
  }
  (std::index_sequence_for<Cells...>{});
}

// The summary cell, then each layer's projection as a Dense layer (weight, then bias) of the
// same framework.
template <class Cell>
void keras_default(SummaryRNN<Cell>& summary, Random& random, bool unit_forget_bias = true) {
  keras_default(summary.cell, random, unit_forget_bias);
  for (std::size_t k = 0; k < summary.projection_weight.size(); ++k) {
    glorot_uniform(summary.projection_weight[k], random);
    summary.projection_bias[k].setZero();
  }
}

template <class Cell>
void pytorch_default(SummaryRNN<Cell>& summary, Random& random) {
  pytorch_default(summary.cell, random);
  for (std::size_t k = 0; k < summary.projection_weight.size(); ++k) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(summary.projection_weight[k].cols()));
    random.fill_uniform(summary.projection_weight[k], -bound, bound);
    random.fill_uniform(summary.projection_bias[k], -bound, bound);
  }
}

}  // namespace init
}  // namespace deeprnn
