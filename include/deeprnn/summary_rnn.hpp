// SummaryRNN: the stack-state encoding. A second-level recurrent cell reads the outputs of
// every layer of a stack, bottom to top, as a sequence over depth; its final state encodes
// the whole stack.
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/recurrence.hpp>
#include <deeprnn/stacked_rnn.hpp>
#include <string>
#include <vector>

namespace deeprnn {

enum class SummaryMode {
  // Reads each layer's final hidden state: one encoding per sample, S x B.
  final_state,
  // Reads each layer's output at every step, each step on its own: an encoding sequence,
  // S x T*B, zero at padded steps.
  per_step,
};

// With layer values h_0 .. h_{N-1} (H_k x M each; M = B or T*B) the summary input is
//   z_k = P_k h_k + p_k      (z_k = h_k when every H_k equals the summary size S)
// and the summary cell runs over z_0 .. z_{N-1} from a zero state, the batch being the M
// columns. The encoding is its final hidden state, S x M.
//
// Backward: the cell's backward pass over depth gives dz_k; then dP_k += dz_k h_k^T,
// dp_k += sum over columns of dz_k, dh_k = P_k^T dz_k.
template <class Cell>
class SummaryRNN {
  static_assert(RecurrentCell<Cell>,
                "The cell type of SummaryRNN must satisfy deeprnn::RecurrentCell: use "
                "SimpleRNN, LSTM, GRU or a cell type with the same members.");

 public:
  using Scalar = typename Cell::Scalar;

  Cell cell;
  // Per-layer affine maps into the summary width, S x H_k and S; empty when not projected.
  std::vector<Matrix<Scalar>> projection_weight;
  std::vector<Vector<Scalar>> projection_bias;
  std::vector<Matrix<Scalar>> projection_weight_gradient;
  std::vector<Vector<Scalar>> projection_bias_gradient;

  // `layer_sizes` are the widths of the layers it reads, bottom first. Layers get a learned
  // projection exactly when some width differs from `summary_size`.
  SummaryRNN(const std::vector<Index>& layer_sizes, Index summary_size, SummaryMode mode)
      : cell(summary_size, summary_size), mode_(mode), layer_sizes_(layer_sizes) {
    if (layer_sizes.empty()) {
      detail::throw_invalid("SummaryRNN needs the widths of at least one layer, got none");
    }
    bool projected = false;
    for (std::size_t k = 0; k < layer_sizes.size(); ++k) {
      if (layer_sizes[k] < 1) {
        detail::throw_invalid("SummaryRNN layer_sizes[" + std::to_string(k) + "] is " +
                              std::to_string(layer_sizes[k]) + ", expected at least 1");
      }
      projected = projected || layer_sizes[k] != summary_size;
    }
    if (projected) {
      for (const Index size : layer_sizes) {
        projection_weight.push_back(Matrix<Scalar>::Zero(summary_size, size));
        projection_bias.push_back(Vector<Scalar>::Zero(summary_size));
      }
      projection_weight_gradient = projection_weight;
      projection_bias_gradient = projection_bias;
    }
  }

  // Builds a summary over every layer of `stack`.
  template <class... Cells>
  SummaryRNN(const StackedRNN<Cells...>& stack, Index summary_size, SummaryMode mode)
      : SummaryRNN(stack.hidden_sizes(), summary_size, mode) {}

  SummaryMode mode() const { return mode_; }
  Index summary_size() const { return cell.hidden_size(); }
  Index layer_count() const { return static_cast<Index>(layer_sizes_.size()); }
  bool has_projection() const { return !projection_weight.empty(); }

  // Encodes the stack's last forward(): its final hidden states or its output sequences,
  // by mode. Returns the encoding, S x B or S x T*B.
  template <class... Cells>
  ConstMatrixRef<Scalar> forward(const StackedRNN<Cells...>& stack) {
    std::vector<ConstMatrixRef<Scalar>> layers;
    for (std::size_t k = 0; k < StackedRNN<Cells...>::layer_count; ++k) {
      if (mode_ == SummaryMode::final_state) {
        layers.push_back(stack.final_hidden(k));
      } else {
        layers.push_back(stack.layer_output(k));
      }
    }
    if (mode_ == SummaryMode::per_step) {
      set_padding(stack.lengths(), stack.steps(), stack.batch_size());
    } else {
      set_padding({}, 0, 0);
    }
    return encode_layers(layers);
  }

  // Adds the stack's share of dL/d(encoding) (and dL/d(final cell state) of an LSTM summary,
  // when not empty) to `seeds`, for StackedRNN::backward; accumulates the summary's own
  // parameter gradients.
  void backward(const ConstMatrixRef<Scalar>& d_encoding, OutputGradients<Scalar>& seeds,
                const Matrix<Scalar>& d_encoding_cell = Matrix<Scalar>()) {
    if (seeds.final_hidden.size() != layer_sizes_.size()) {
      detail::throw_invalid("SummaryRNN::backward: seeds has " +
                            std::to_string(seeds.final_hidden.size()) + " layers, expected " +
                            std::to_string(layer_sizes_.size()));
    }
    backward_layers(d_encoding, d_encoding_cell);
    for (std::size_t k = 0; k < layer_sizes_.size(); ++k) {
      Matrix<Scalar>& target =
          mode_ == SummaryMode::final_state ? seeds.final_hidden[k] : seeds.layer_output[k];
      if (target.size() == 0) {
        target = d_layers_[k];
      } else {
        target += d_layers_[k];
      }
    }
  }

  // Encodes explicit layer values, H_k x M each, bottom layer first.
  ConstMatrixRef<Scalar> encode(const std::vector<ConstMatrixRef<Scalar>>& layers) {
    set_padding({}, 0, 0);
    return encode_layers(layers);
  }

  // Computes dL/d(layer value k), H_k x M, from dL/d(encoding) of the last encode().
  const std::vector<Matrix<Scalar>>& backward_layers(
      const ConstMatrixRef<Scalar>& d_encoding,
      const Matrix<Scalar>& d_encoding_cell = Matrix<Scalar>()) {
    if (columns_ == 0) detail::throw_invalid("SummaryRNN::backward was called before forward");
    detail::check_shape(d_encoding, summary_size(), columns_, "SummaryRNN::backward: d_encoding");
    detail::check_finite(d_encoding, "SummaryRNN::backward: d_encoding");
    d_encoding_ = d_encoding;
    for (const Index column : padded_columns_) d_encoding_.col(column).setZero();
    const Matrix<Scalar>* d_cell = nullptr;
    if (d_encoding_cell.size() != 0) {
      if constexpr (Cell::state_count == 2) {
        detail::check_shape(d_encoding_cell, summary_size(), columns_,
                            "SummaryRNN::backward: d_encoding_cell");
        d_encoding_cell_ = d_encoding_cell;
        for (const Index column : padded_columns_) d_encoding_cell_.col(column).setZero();
        d_cell = &d_encoding_cell_;
      } else {
        detail::throw_invalid(
            "SummaryRNN::backward: d_encoding_cell is set but the summary cell has no cell "
            "state; leave it empty");
      }
    }

    recurrence_.backward(cell, cell.gradients, depth_input_, nullptr, {&d_encoding_, d_cell}, 0,
                         &d_depth_input_);

    const Index M = columns_;
    d_layers_.resize(layer_values_.size());
    for (std::size_t k = 0; k < layer_values_.size(); ++k) {
      const auto dz = d_depth_input_.middleCols(static_cast<Index>(k) * M, M);
      if (has_projection()) {
        projection_weight_gradient[k].noalias() += dz * layer_values_[k].transpose();
        projection_bias_gradient[k] += dz.rowwise().sum();
        d_layers_[k].noalias() = projection_weight[k].transpose() * dz;
      } else {
        d_layers_[k] = dz;
      }
    }
    return d_layers_;
  }

  // Final cell state of an LSTM summary, S x M.
  ConstMatrixRef<Scalar> encoding_cell() const {
    if constexpr (Cell::state_count == 2) {
      return recurrence_.final_state(1);
    } else {
      detail::throw_invalid("encoding_cell: the summary cell has no cell state");
    }
  }

  // Summary hidden state after each layer, S x (N * M), block k after reading layer k.
  ConstMatrixRef<Scalar> depth_output() const { return recurrence_.output(); }

  // The (projected) summary input z_0 .. z_{N-1}, S x (N * M).
  const Matrix<Scalar>& depth_input() const { return depth_input_; }

  void zero_gradients() {
    cell.gradients.set_zero();
    for (auto& gradient : projection_weight_gradient) gradient.setZero();
    for (auto& gradient : projection_bias_gradient) gradient.setZero();
  }

  // Calls visit(name, value, gradient) for every parameter tensor: summary.weight_ih, ...,
  // summary.proj.k.weight, summary.proj.k.bias.
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    visit(std::string("summary.weight_ih"), cell.parameters.weight_ih, cell.gradients.weight_ih);
    visit(std::string("summary.weight_hh"), cell.parameters.weight_hh, cell.gradients.weight_hh);
    visit(std::string("summary.bias_ih"), cell.parameters.bias_ih, cell.gradients.bias_ih);
    visit(std::string("summary.bias_hh"), cell.parameters.bias_hh, cell.gradients.bias_hh);
    for (std::size_t k = 0; k < projection_weight.size(); ++k) {
      const std::string prefix = "summary.proj." + std::to_string(k);
      visit(prefix + ".weight", projection_weight[k], projection_weight_gradient[k]);
      visit(prefix + ".bias", projection_bias[k], projection_bias_gradient[k]);
    }
  }

 private:
  ConstMatrixRef<Scalar> encode_layers(const std::vector<ConstMatrixRef<Scalar>>& layers) {
    check_layers(layers);
    const Index S = summary_size();
    const Index M = layers[0].cols();
    columns_ = M;
    layer_values_.resize(layers.size());
    depth_input_.resize(S, layer_count() * M);
    for (std::size_t k = 0; k < layers.size(); ++k) {
      layer_values_[k] = layers[k];
      auto z = depth_input_.middleCols(static_cast<Index>(k) * M, M);
      if (has_projection()) {
        z.noalias() = projection_weight[k] * layers[k];
        z.colwise() += projection_bias[k];
      } else {
        z = layers[k];
      }
    }
    recurrence_.forward(cell, depth_input_, layer_count(), M, {}, {nullptr, nullptr});

    encoding_ = recurrence_.final_state(0);
    if (!padded_columns_.empty()) {
      for (const Index column : padded_columns_) encoding_.col(column).setZero();
    }
    return encoding_;
  }

  void check_layers(const std::vector<ConstMatrixRef<Scalar>>& layers) const {
    if (layers.size() != layer_sizes_.size()) {
      detail::throw_invalid("SummaryRNN reads " + std::to_string(layer_sizes_.size()) +
                            " layers but was given " + std::to_string(layers.size()));
    }
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const std::string name = "SummaryRNN layer " + std::to_string(k);
      detail::check_shape(layers[k], layer_sizes_[k], layers[0].cols(), name);
      detail::check_finite(layers[k], name);
    }
    if (layers[0].cols() == 0)
      detail::throw_invalid("SummaryRNN: the layer values have no columns");
  }

  // Records the columns (t * B + b) of padded steps, whose encoding is zero.
  void set_padding(std::span<const Index> lengths, Index steps, Index batch) {
    padded_columns_.clear();
    for (Index t = 0; t < steps && !lengths.empty(); ++t) {
      for (Index b = 0; b < batch; ++b) {
        if (t >= lengths[b]) padded_columns_.push_back(t * batch + b);
      }
    }
  }

  SummaryMode mode_;
  std::vector<Index> layer_sizes_;
  detail::Recurrence<Cell> recurrence_;
  std::vector<Matrix<Scalar>> layer_values_;
  std::vector<Matrix<Scalar>> d_layers_;
  std::vector<Index> padded_columns_;
  Matrix<Scalar> depth_input_;
  Matrix<Scalar> d_depth_input_;
  Matrix<Scalar> encoding_;
  Matrix<Scalar> d_encoding_;
  Matrix<Scalar> d_encoding_cell_;
  Index columns_ = 0;
};

}  // namespace deeprnn
