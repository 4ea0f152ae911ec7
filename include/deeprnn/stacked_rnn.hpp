// StackedRNN<Cells...>: recurrent layers composed at compile time, each reading the whole
// output sequence of the layer below.
#pragma once

#include <array>
#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/recurrence.hpp>
#include <deeprnn/random.hpp>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace deeprnn {

// Hidden state h, and cell state c for cells that have one (empty otherwise), H x B each.
template <class Scalar>
struct LayerState {
  Matrix<Scalar> h;
  Matrix<Scalar> c;
};

// Gradients of a loss with respect to the values a StackedRNN produced, one entry per layer.
// An empty matrix means the loss does not depend on that value.
template <class Scalar>
struct OutputGradients {
  std::vector<Matrix<Scalar>> layer_output;  // H_k x T*B, dL/d(output sequence of layer k)
  std::vector<Matrix<Scalar>> final_hidden;  // H_k x B, dL/d(final h of layer k)
  std::vector<Matrix<Scalar>> final_cell;    // H_k x B, dL/d(final c of layer k), LSTM only

  explicit OutputGradients(std::size_t layer_count = 0)
      : layer_output(layer_count), final_hidden(layer_count), final_cell(layer_count) {}
};

struct StackOptions {
  // Keras return_sequences of the top layer: forward() returns the top layer's whole output
  // sequence (H x T*B) when true, each sample's last valid output (H x B) when false.
  bool return_sequences = false;
  // Each forward() starts from the final states of the previous one (same batch size) until
  // reset_state(), as Keras' stateful=True.
  bool stateful = false;
  // Backpropagate through at most this many steps (0: the whole sequence). The states
  // entering steps k, 2k, ... are treated as constants.
  Index truncation = 0;
  // Variational dropout rates of every layer, as Keras' dropout and recurrent_dropout: one
  // mask per sequence, reused at every step. They act only after draw_dropout_masks().
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
};

template <class... Cells>
class StackedRNN {
  static_assert(sizeof...(Cells) > 0,
                "StackedRNN needs at least one layer type, for example StackedRNN<LSTM<float>>.");
  static_assert((RecurrentCell<Cells> && ...),
                "Every layer type of StackedRNN must satisfy deeprnn::RecurrentCell: use "
                "SimpleRNN, LSTM, GRU or a cell type with the same members.");

 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Cells...>>::Scalar;
  static_assert((std::is_same_v<typename Cells::Scalar, Scalar> && ...),
                "All layers of a StackedRNN must use the same scalar type.");

  static constexpr std::size_t layer_count = sizeof...(Cells);

  StackOptions options;

  // Builds the stack from its cells; layer k's input_size must equal layer k-1's hidden_size.
  explicit StackedRNN(Cells... cells, StackOptions stack_options = {})
      : options(stack_options), cells_(std::move(cells)...) {
    check_layer_widths();
  }

  // Builds cells of the given widths with zero parameters (see init.hpp to initialise them).
  StackedRNN(Index input_size, const std::array<Index, layer_count>& hidden_sizes,
             StackOptions stack_options = {})
      : StackedRNN(make_cells(input_size, hidden_sizes, std::index_sequence_for<Cells...>{}),
                   stack_options) {}

  template <std::size_t K>
  auto& layer() {
    return std::get<K>(cells_);
  }
  template <std::size_t K>
  const auto& layer() const {
    return std::get<K>(cells_);
  }

  Index input_size() const { return std::get<0>(cells_).input_size(); }
  Index hidden_size(std::size_t k) const {
    check_layer_index(k);
    Index size = 0;
    visit_layer(k, [&](const auto& cell, const auto&) { size = cell.hidden_size(); });
    return size;
  }
  std::vector<Index> hidden_sizes() const {
    std::vector<Index> sizes;
    std::apply([&](const auto&... cell) { (sizes.push_back(cell.hidden_size()), ...); }, cells_);
    return sizes;
  }
  bool has_cell_state(std::size_t k) const {
    check_layer_index(k);
    bool result = false;
    visit_layer(k, [&]<class Cell>(const Cell&, const auto&) { result = Cell::state_count == 2; });
    return result;
  }

  // Runs every layer over the sequence `x` (input_size x T*B, column t*B + b is sample b at
  // step t). `lengths` is empty or gives each sample's number of valid steps (1..T);
  // `initial_states` is empty or gives every layer's initial state. Returns the top layer's
  // output sequence or last valid output (see StackOptions::return_sequences).
  ConstMatrixRef<Scalar> forward(const ConstMatrixRef<Scalar>& x, Index batch_size,
                                 std::span<const Index> lengths = {},
                                 std::span<const LayerState<Scalar>> initial_states = {}) {
    const Index steps = check_forward_arguments(x, batch_size, lengths, initial_states);
    set_lengths(lengths, steps);
    const ConstMatrixRef<Scalar> input = masked_input(x, steps, batch_size);
    const bool carry = options.stateful && initial_states.empty() && carried_batch_ == batch_size;

    for_each_layer([&]<std::size_t K>(auto& cell, auto& recurrence) {
      std::array<const Matrix<Scalar>*, 2> initial{nullptr, nullptr};
      if (!initial_states.empty()) {
        initial = state_pointers(initial_states[K]);
      } else if (carry) {
        initial = state_pointers(carried_states_[K]);
      }
      if constexpr (K == 0) {
        recurrence.forward(cell, input, steps, batch_size, padded_lengths(), initial);
      } else {
        const auto& below = std::get<K - 1>(recurrences_);
        recurrence.forward(cell, below.hidden_sequence(), steps, batch_size, padded_lengths(),
                           initial);
      }
    });
    steps_ = steps;
    batch_ = batch_size;
    if (options.stateful) save_final_states();

    if (options.return_sequences) return layer_output(layer_count - 1);
    return final_hidden(layer_count - 1);
  }

  // Output sequence of layer k from the last forward(), H_k x T*B, zero at padded steps.
  ConstMatrixRef<Scalar> layer_output(std::size_t k) const { return result(k).output(); }

  // Hidden state of layer k after each sample's last valid step, H_k x B.
  ConstMatrixRef<Scalar> final_hidden(std::size_t k) const { return result(k).final_state(0); }

  // Cell state of layer k after each sample's last valid step, H_k x B (LSTM layers only).
  ConstMatrixRef<Scalar> final_cell(std::size_t k) const {
    if (!has_cell_state(k)) {
      detail::throw_invalid("final_cell: layer " + std::to_string(k) +
                            " has no cell state; only LSTM layers have one");
    }
    return result(k).final_state(1);
  }

  // Every layer's final states, as Keras' return_state gives them.
  std::vector<LayerState<Scalar>> final_states() const {
    std::vector<LayerState<Scalar>> states(layer_count);
    for (std::size_t k = 0; k < layer_count; ++k) {
      states[k].h = final_hidden(k);
      if (has_cell_state(k)) states[k].c = final_cell(k);
    }
    return states;
  }

  Index steps() const { return steps_; }
  Index batch_size() const { return batch_; }

  // Per-sample lengths of the last forward(), or an empty span when every sample had T steps.
  std::span<const Index> lengths() const { return padded_lengths(); }

  // Backpropagates the gradient of the forward() output (the shape forward() returned) and
  // returns dL/dx, input_size x T*B. Parameter gradients are added to each cell's
  // `gradients`; call zero_gradients() between optimiser steps.
  ConstMatrixRef<Scalar> backward(const ConstMatrixRef<Scalar>& d_output) {
    check_after_forward("backward");
    OutputGradients<Scalar> seeds(layer_count);
    const std::size_t top = layer_count - 1;
    if (options.return_sequences) {
      detail::check_shape(d_output, hidden_size(top), steps_ * batch_, "backward: d_output");
      seeds.layer_output[top] = d_output;
    } else {
      detail::check_shape(d_output, hidden_size(top), batch_, "backward: d_output");
      seeds.final_hidden[top] = d_output;
    }
    return backward(seeds);
  }

  // Backpropagates gradients with respect to any layer's outputs and final states.
  ConstMatrixRef<Scalar> backward(const OutputGradients<Scalar>& seeds) {
    check_after_forward("backward");
    check_seeds(seeds);
    for_each_layer_reversed([&]<std::size_t K>(auto& cell, auto& recurrence) {
      // d_outputs_[K] already holds dL/dx of layer K+1 unless K is the top layer.
      constexpr bool has_layer_above = K + 1 < layer_count;
      Matrix<Scalar>& d_output = d_outputs_[K];
      const Matrix<Scalar>& seed = seeds.layer_output[K];
      if (seed.size() != 0) {
        if (has_layer_above) {
          d_output += seed;
        } else {
          d_output = seed;
        }
      }
      const bool depends_on_output = has_layer_above || seed.size() != 0;
      const std::array<const Matrix<Scalar>*, 2> d_final{nonempty(seeds.final_hidden[K]),
                                                         nonempty(seeds.final_cell[K])};
      Matrix<Scalar>* dx = &input_gradient_;
      if constexpr (K > 0) dx = &d_outputs_[K - 1];

      if constexpr (K == 0) {
        recurrence.backward(cell, cell.gradients, input_, depends_on_output ? &d_output : nullptr,
                            d_final, options.truncation, dx);
      } else {
        const auto& below = std::get<K - 1>(recurrences_);
        recurrence.backward(cell, cell.gradients, below.hidden_sequence(),
                            depends_on_output ? &d_output : nullptr, d_final, options.truncation,
                            dx);
      }
    });
    return input_gradient_;
  }

  // dL/d(initial state) of layer k from the last backward(); `c` is empty for layers without
  // a cell state.
  LayerState<Scalar> initial_state_gradient(std::size_t k) const {
    LayerState<Scalar> gradient;
    gradient.h = result(k).initial_state_gradient(0);
    if (has_cell_state(k)) gradient.c = result(k).initial_state_gradient(1);
    return gradient;
  }

  void zero_gradients() {
    std::apply([](auto&... cell) { (cell.gradients.set_zero(), ...); }, cells_);
  }

  // Calls visit(name, value, gradient) for every parameter tensor, named as PyTorch names
  // the parameters of a multi-layer nn.LSTM/GRU/RNN: weight_ih_l0, ..., bias_hh_l2.
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    for_each_layer([&]<std::size_t K>(auto& cell, auto&) {
      const std::string suffix = "_l" + std::to_string(K);
      visit("weight_ih" + suffix, cell.parameters.weight_ih, cell.gradients.weight_ih);
      visit("weight_hh" + suffix, cell.parameters.weight_hh, cell.gradients.weight_hh);
      visit("bias_ih" + suffix, cell.parameters.bias_ih, cell.gradients.bias_ih);
      visit("bias_hh" + suffix, cell.parameters.bias_hh, cell.gradients.bias_hh);
    });
  }

  // Advances every layer by one time step (layers bottom to top within the step) and returns
  // the top layer's new hidden state, H x B. `x` is input_size x B. The state carries over
  // to the next call until reset_state(); the first call after it starts from zero states,
  // or from `initial_states` when given.
  ConstMatrixRef<Scalar> step(const ConstMatrixRef<Scalar>& x,
                              std::span<const LayerState<Scalar>> initial_states = {}) {
    const Index batch = x.cols();
    detail::check_shape(x, input_size(), batch, "step: x");
    if (batch < 1) detail::throw_invalid("step: x has no columns; expected one per sample");
    detail::check_finite(x, "step: x");
    if (!initial_states.empty()) {
      check_initial_states(initial_states, batch);
      stream_batch_ = 0;
    }
    if (stream_batch_ == 0) {
      for_each_stream([&]<std::size_t K>(const auto& cell, auto& stream) {
        std::array<const Matrix<Scalar>*, 2> initial{nullptr, nullptr};
        if (!initial_states.empty()) initial = state_pointers(initial_states[K]);
        stream.start_stream(cell, batch, initial);
      });
      stream_batch_ = batch;
    } else if (batch != stream_batch_) {
      detail::throw_invalid("step: x has " + std::to_string(batch) +
                            " columns but the stream runs a batch of " +
                            std::to_string(stream_batch_) + "; call reset_state() first");
    }

    for_each_stream([&]<std::size_t K>(const auto& cell, auto& stream) {
      if constexpr (K == 0) {
        stream.step(cell, x);
      } else {
        stream.step(cell, std::get<K - 1>(streams_).final_state(0));
      }
    });
    return std::get<layer_count - 1>(streams_).final_state(0);
  }

  // Draws new variational dropout masks for the next forward() calls on batches of
  // `batch_size` samples: each layer's input and recurrent state are multiplied, at every
  // step, by a mask whose entries are 0 with probability rate and 1 / (1 - rate) otherwise.
  // Call it before each training batch; clear_dropout_masks() for inference.
  void draw_dropout_masks(Random& random, Index batch_size) {
    check_rate(options.dropout, "dropout");
    check_rate(options.recurrent_dropout, "recurrent_dropout");
    if (batch_size < 1) {
      detail::throw_invalid("draw_dropout_masks: batch_size is " + std::to_string(batch_size) +
                            ", expected at least 1");
    }
    std::vector<Matrix<Scalar>> input(layer_count);
    std::vector<Matrix<Scalar>> recurrent(layer_count);
    for (std::size_t k = 0; k < layer_count; ++k) {
      const Index width = k == 0 ? input_size() : hidden_size(k - 1);
      if (options.dropout > 0) input[k] = random_mask(width, batch_size, options.dropout, random);
      if (options.recurrent_dropout > 0) {
        recurrent[k] = random_mask(hidden_size(k), batch_size, options.recurrent_dropout, random);
      }
    }
    set_dropout_masks(std::move(input), std::move(recurrent));
  }

  // Sets the dropout masks explicitly: input[k] is layer k's input_size x B mask and
  // recurrent[k] its H_k x B mask; an empty vector or matrix means no mask.
  void set_dropout_masks(std::vector<Matrix<Scalar>> input, std::vector<Matrix<Scalar>> recurrent) {
    input.resize(layer_count);
    recurrent.resize(layer_count);
    mask_batch_ = 0;
    for (std::size_t k = 0; k < layer_count; ++k) {
      for (const Matrix<Scalar>* mask : {&input[k], &recurrent[k]}) {
        if (mask->size() == 0) continue;
        if (mask_batch_ == 0) mask_batch_ = mask->cols();
        const Index rows =
            mask == &input[k] ? (k == 0 ? input_size() : hidden_size(k - 1)) : hidden_size(k);
        detail::check_shape(*mask, rows, mask_batch_,
                            std::string(mask == &input[k] ? "input" : "recurrent") +
                                " dropout mask of layer " + std::to_string(k));
        detail::check_finite(*mask, "dropout mask of layer " + std::to_string(k));
      }
    }
    for_each_layer([&]<std::size_t K>(auto&, auto& recurrence) {
      recurrence.set_dropout_masks(input[K], recurrent[K]);
    });
  }

  void clear_dropout_masks() { set_dropout_masks({}, {}); }

  // Forgets the state carried by step() and by stateful forward() calls.
  void reset_state() {
    stream_batch_ = 0;
    carried_batch_ = 0;
  }

 private:
  template <std::size_t... K>
  static std::tuple<Cells...> make_cells(Index input_size,
                                         const std::array<Index, layer_count>& hidden_sizes,
                                         std::index_sequence<K...>) {
    return std::tuple<Cells...>(
        Cells(K == 0 ? input_size : hidden_sizes[K == 0 ? 0 : K - 1], hidden_sizes[K])...);
  }

  explicit StackedRNN(std::tuple<Cells...>&& cells, StackOptions stack_options)
      : options(stack_options), cells_(std::move(cells)) {
    check_layer_widths();
  }

  void check_layer_widths() const {
    const std::vector<Index> sizes = hidden_sizes();
    Index k = 0;
    std::apply(
        [&](const auto&... cell) {
          (([&] {
             if (k > 0 && cell.input_size() != sizes[k - 1]) {
               detail::throw_invalid(
                   "StackedRNN layer " + std::to_string(k) + " has input_size " +
                   std::to_string(cell.input_size()) + " but layer " + std::to_string(k - 1) +
                   " has hidden_size " + std::to_string(sizes[k - 1]) +
                   "; each layer's input_size must equal the hidden_size of the layer below");
             }
             ++k;
           }()),
           ...);
        },
        cells_);
  }

  void check_layer_index(std::size_t k) const {
    if (k >= layer_count) {
      detail::throw_invalid("layer index " + std::to_string(k) +
                            " is out of range; the stack has " + std::to_string(layer_count) +
                            " layers");
    }
  }

  void check_after_forward(const char* what) const {
    if (batch_ == 0) {
      detail::throw_invalid(std::string(what) + " was called before forward()");
    }
  }

  const detail::RecurrenceResult<Scalar>& result(std::size_t k) const {
    check_after_forward("reading a layer's results");
    check_layer_index(k);
    const detail::RecurrenceResult<Scalar>* found = nullptr;
    std::size_t index = 0;
    std::apply(
        [&](const auto&... recurrence) { ((index++ == k ? (found = &recurrence) : found), ...); },
        recurrences_);
    return *found;
  }

  template <class Function>
  void for_each_layer(Function&& function) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (function.template operator()<K>(std::get<K>(cells_), std::get<K>(recurrences_)), ...);
    }
    (std::index_sequence_for<Cells...>{});
  }

  template <class Function>
  void for_each_layer_reversed(Function&& function) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      constexpr std::size_t top = layer_count - 1;
      (function.template operator()<top - K>(std::get<top - K>(cells_),
                                             std::get<top - K>(recurrences_)),
       ...);
    }
    (std::index_sequence_for<Cells...>{});
  }

  template <class Function>
  void for_each_stream(Function&& function) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (function.template operator()<K>(std::get<K>(cells_), std::get<K>(streams_)), ...);
    }
    (std::index_sequence_for<Cells...>{});
  }

  template <class Function>
  void visit_layer(std::size_t k, Function&& function) const {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((K == k ? function(std::get<K>(cells_), std::get<K>(recurrences_)) : void()), ...);
    }
    (std::index_sequence_for<Cells...>{});
  }

  static void check_rate(double rate, const char* name) {
    if (!(rate >= 0.0 && rate < 1.0)) {
      detail::throw_invalid(std::string("StackOptions::") + name + " is " + std::to_string(rate) +
                            ", expected a rate in [0, 1)");
    }
  }

  static Matrix<Scalar> random_mask(Index rows, Index cols, double rate, Random& random) {
    Matrix<Scalar> mask(rows, cols);
    const Scalar keep = Scalar(1) / Scalar(1 - rate);
    for (Index j = 0; j < cols; ++j) {
      for (Index i = 0; i < rows; ++i) mask(i, j) = random.uniform() < rate ? Scalar(0) : keep;
    }
    return mask;
  }

  static std::array<const Matrix<Scalar>*, 2> state_pointers(const LayerState<Scalar>& state) {
    return {state.h.size() != 0 ? &state.h : nullptr, state.c.size() != 0 ? &state.c : nullptr};
  }

  static const Matrix<Scalar>* nonempty(const Matrix<Scalar>& m) {
    return m.size() != 0 ? &m : nullptr;
  }

  Index check_forward_arguments(const ConstMatrixRef<Scalar>& x, Index batch_size,
                                std::span<const Index> lengths,
                                std::span<const LayerState<Scalar>> initial_states) const {
    if (x.rows() != input_size()) {
      detail::throw_invalid("forward: x has " + std::to_string(x.rows()) +
                            " rows, expected input_size = " + std::to_string(input_size()));
    }
    if (batch_size < 1) {
      detail::throw_invalid("forward: batch_size is " + std::to_string(batch_size) +
                            ", expected at least 1");
    }
    if (x.cols() == 0) {
      detail::throw_invalid("forward: x has no columns; expected T * batch_size columns, T >= 1");
    }
    if (x.cols() % batch_size != 0) {
      detail::throw_invalid("forward: x has " + std::to_string(x.cols()) +
                            " columns, which is not a multiple of batch_size = " +
                            std::to_string(batch_size) + "; expected T * batch_size columns");
    }
    const Index steps = x.cols() / batch_size;
    if (!lengths.empty()) {
      if (static_cast<Index>(lengths.size()) != batch_size) {
        detail::throw_invalid(
            "forward: lengths has " + std::to_string(lengths.size()) +
            " entries, expected one per sample (batch_size = " + std::to_string(batch_size) + ")");
      }
      for (std::size_t b = 0; b < lengths.size(); ++b) {
        if (lengths[b] < 1 || lengths[b] > steps) {
          detail::throw_invalid("forward: lengths[" + std::to_string(b) + "] is " +
                                std::to_string(lengths[b]) + ", expected 1.." +
                                std::to_string(steps) + " (the number of steps T)");
        }
      }
    }
    check_finite_at_valid_steps(x, batch_size, lengths);
    if (!initial_states.empty()) check_initial_states(initial_states, batch_size);
    if (mask_batch_ != 0 && mask_batch_ != batch_size) {
      detail::throw_invalid("forward: the dropout masks were drawn for batch_size " +
                            std::to_string(mask_batch_) + " but x has batch_size " +
                            std::to_string(batch_size) +
                            "; call draw_dropout_masks() again or clear_dropout_masks()");
    }
    return steps;
  }

  static void check_finite_at_valid_steps(const ConstMatrixRef<Scalar>& x, Index batch_size,
                                          std::span<const Index> lengths) {
    if (x.allFinite()) return;
    for (Index column = 0; column < x.cols(); ++column) {
      const Index step = column / batch_size;
      const Index sample = column % batch_size;
      if (!lengths.empty() && step >= lengths[sample]) continue;
      for (Index feature = 0; feature < x.rows(); ++feature) {
        const Scalar value = x(feature, column);
        if (std::isfinite(value)) continue;
        detail::throw_invalid("forward: x contains the non-finite value " + std::to_string(value) +
                              " at feature " + std::to_string(feature) + ", step " +
                              std::to_string(step) + ", sample " + std::to_string(sample) +
                              " (column " + std::to_string(column) +
                              "); clean the data, or give lengths that mark the step as padding");
      }
    }
  }

  void check_initial_states(std::span<const LayerState<Scalar>> initial_states,
                            Index batch_size) const {
    if (initial_states.size() != layer_count) {
      detail::throw_invalid("initial_states has " + std::to_string(initial_states.size()) +
                            " entries, expected one per layer (" + std::to_string(layer_count) +
                            ") or none");
    }
    for (std::size_t k = 0; k < layer_count; ++k) {
      const std::string name = "initial_states[" + std::to_string(k) + "]";
      const LayerState<Scalar>& state = initial_states[k];
      detail::check_shape(state.h, hidden_size(k), batch_size, name + ".h");
      detail::check_finite(state.h, name + ".h");
      if (has_cell_state(k)) {
        if (state.c.size() != 0) {
          detail::check_shape(state.c, hidden_size(k), batch_size, name + ".c");
          detail::check_finite(state.c, name + ".c");
        }
      } else if (state.c.size() != 0) {
        detail::throw_invalid(name + ".c is set but layer " + std::to_string(k) +
                              " has no cell state; leave c empty");
      }
    }
  }

  void check_seeds(const OutputGradients<Scalar>& seeds) const {
    if (seeds.layer_output.size() != layer_count || seeds.final_hidden.size() != layer_count ||
        seeds.final_cell.size() != layer_count) {
      detail::throw_invalid("backward: OutputGradients must have one entry per layer (" +
                            std::to_string(layer_count) +
                            "); construct it as OutputGradients<Scalar>(layer_count)");
    }
    for (std::size_t k = 0; k < layer_count; ++k) {
      const std::string layer = "[" + std::to_string(k) + "]";
      const Index H = hidden_size(k);
      if (seeds.layer_output[k].size() != 0) {
        detail::check_shape(seeds.layer_output[k], H, steps_ * batch_,
                            "backward: layer_output" + layer);
        detail::check_finite(seeds.layer_output[k], "backward: layer_output" + layer);
      }
      if (seeds.final_hidden[k].size() != 0) {
        detail::check_shape(seeds.final_hidden[k], H, batch_, "backward: final_hidden" + layer);
        detail::check_finite(seeds.final_hidden[k], "backward: final_hidden" + layer);
      }
      if (seeds.final_cell[k].size() != 0) {
        if (!has_cell_state(k)) {
          detail::throw_invalid("backward: final_cell" + layer + " is set but layer " +
                                std::to_string(k) + " has no cell state; leave it empty");
        }
        detail::check_shape(seeds.final_cell[k], H, batch_, "backward: final_cell" + layer);
        detail::check_finite(seeds.final_cell[k], "backward: final_cell" + layer);
      }
    }
  }

  // Keeps the lengths only when some sample is padded, so that unpadded batches take the
  // plain path.
  void set_lengths(std::span<const Index> lengths, Index steps) {
    lengths_.clear();
    for (const Index length : lengths) {
      if (length < steps) {
        lengths_.assign(lengths.begin(), lengths.end());
        break;
      }
    }
  }

  std::span<const Index> padded_lengths() const { return lengths_; }

  // Copies x, zeroing padded steps so that nothing downstream can read their values.
  ConstMatrixRef<Scalar> masked_input(const ConstMatrixRef<Scalar>& x, Index steps,
                                      Index batch_size) {
    input_ = x;
    for (Index t = 0; t < steps && !lengths_.empty(); ++t) {
      for (Index b = 0; b < batch_size; ++b) {
        if (t >= lengths_[b]) input_.col(t * batch_size + b).setZero();
      }
    }
    return input_;
  }

  void save_final_states() {
    carried_states_ = final_states();
    carried_batch_ = batch_;
  }

  std::tuple<Cells...> cells_;
  std::tuple<detail::Recurrence<Cells>...> recurrences_;
  std::tuple<detail::Recurrence<Cells>...> streams_;
  std::array<Matrix<Scalar>, layer_count> d_outputs_;
  Matrix<Scalar> input_;
  Matrix<Scalar> input_gradient_;
  std::vector<Index> lengths_;
  std::vector<LayerState<Scalar>> carried_states_;
  Index steps_ = 0;
  Index batch_ = 0;
  Index carried_batch_ = 0;
  Index stream_batch_ = 0;
  Index mask_batch_ = 0;  // batch size of the dropout masks, 0 when there are none
};

}  // namespace deeprnn
