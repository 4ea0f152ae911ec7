// The time loop shared by every layer of StackedRNN and by SummaryRNN: one cell run over a
// sequence, with per-sample lengths, initial states and truncated backpropagation.
#pragma once

// clang-format off: the check must come before any other include.
#include "header_check.hpp"
// clang-format on

#include <deeprnn/cells/cell_concept.hpp>
#include <span>
#include <utility>
#include <vector>

namespace deeprnn::detail {

// Drives one cell over T steps of B samples and owns everything that lives for one call:
// the cell's workspace, the states of every step and the state gradients.
//
// Padded steps (t >= lengths[b]) are computed like the others, because columns are
// independent, and then undone: the forward pass copies the state of step t into step t+1,
// and the backward pass gives the step a zero state gradient and hands the incoming gradient
// on unchanged. So a padded step leaves the state as it was and receives no gradient, and
// the final states sit in the last block for every sample.
// What a run of one layer leaves behind, independent of the cell type, so that a stack can
// reach any layer's results by a run-time index.
template <class Scalar>
class RecurrenceResult {
 public:
  // Output sequence, H x (steps * batch), exactly zero at padded steps.
  ConstMatrixRef<Scalar> output() const {
    if (!lengths_.empty()) return masked_output_;
    return hidden_sequence();
  }

  // Hidden state after every step, H x (steps * batch); at padded steps it repeats the
  // state of the sample's last valid step.
  ConstMatrixRef<Scalar> hidden_sequence() const { return states_[0].rightCols(steps_ * batch_); }

  // State s (0 = h, 1 = c) after each sample's last valid step, H x batch.
  ConstMatrixRef<Scalar> final_state(int s) const { return states_[s].rightCols(batch_); }

  // dL/d(initial state s) of the last backward pass, H x batch.
  const Matrix<Scalar>& initial_state_gradient(int s) const { return d_next_[s]; }

  Index steps() const { return steps_; }
  Index batch() const { return batch_; }

 protected:
  StateSequence<Scalar> states_;
  StateGradient<Scalar> d_next_;
  StateGradient<Scalar> d_prev_;
  Matrix<Scalar> padded_gradient_;
  Matrix<Scalar> masked_output_;
  std::vector<Index> lengths_;  // empty when no sample is padded
  Index steps_ = 0;
  Index batch_ = 0;
};

template <RecurrentCell Cell>
class Recurrence : public RecurrenceResult<typename Cell::Scalar> {
 public:
  using Scalar = typename Cell::Scalar;

  // Runs the forward pass. `x` is input_size x (steps * batch); `lengths` is empty or has
  // one entry per sample, already checked to lie in 1..steps; `initial[s]` is null for a zero
  // initial state or points to an H x batch matrix.
  void forward(const Cell& cell, const ConstMatrixRef<Scalar>& x, Index steps, Index batch,
               std::span<const Index> lengths, std::array<const Matrix<Scalar>*, 2> initial) {
    const Index H = cell.hidden_size();
    steps_ = steps;
    batch_ = batch;
    lengths_.assign(lengths.begin(), lengths.end());
    cell.reserve(workspace_, steps, batch);
    workspace_.recurrent_mask = recurrent_mask_;
    for (int s = 0; s < Cell::state_count; ++s) {
      states_[s].resize(H, (steps + 1) * batch);
      if (initial[s] != nullptr) {
        states_[s].leftCols(batch) = *initial[s];
      } else {
        states_[s].leftCols(batch).setZero();
      }
    }

    if (input_mask_.size() != 0) {
      masked_input_ = x;
      apply_input_mask(masked_input_);
      cell.project_input(workspace_, masked_input_);
    } else {
      cell.project_input(workspace_, x);
    }
    for (Index t = 0; t < steps; ++t) {
      cell.forward_step(workspace_, t, states_);
      for_each_padded(t, [&](Index b) {
        for (int s = 0; s < Cell::state_count; ++s) {
          states_[s].col((t + 1) * batch + b) = states_[s].col(t * batch + b);
        }
      });
    }

    if (!lengths_.empty()) {
      masked_output_ = states_[0].rightCols(steps * batch);
      for (Index t = 0; t < steps; ++t) {
        for_each_padded(t, [&](Index b) { masked_output_.col(t * batch + b).setZero(); });
      }
    }
  }

  // Runs the backward pass of the last forward call and adds the parameter gradients to
  // `gradients`. `d_output` (H x steps*batch) and `d_final[s]` (H x batch) are null when the
  // loss does not depend on them. Gradient flows back through at most `truncation` steps
  // when it is positive: the state carried into steps truncation, 2*truncation, ... is
  // treated as a constant. Assigns dL/dx to *dx when dx is not null.
  void backward(const Cell& cell, RecurrentParameters<Scalar>& gradients,
                const ConstMatrixRef<Scalar>& x, const Matrix<Scalar>* d_output,
                std::array<const Matrix<Scalar>*, 2> d_final, Index truncation,
                Matrix<Scalar>* dx) {
    const Index H = cell.hidden_size();
    const Index B = batch_;
    for (int s = 0; s < Cell::state_count; ++s) {
      d_next_[s].resize(H, B);
      d_prev_[s].resize(H, B);
      if (d_final[s] != nullptr) {
        d_next_[s] = *d_final[s];
      } else {
        d_next_[s].setZero();
      }
    }
    padded_gradient_.resize(Cell::state_count * H, B);

    for (Index t = steps_ - 1; t >= 0; --t) {
      for_each_padded(t, [&](Index b) {
        for (int s = 0; s < Cell::state_count; ++s) {
          padded_gradient_.col(b).segment(s * H, H) = d_next_[s].col(b);
          d_next_[s].col(b).setZero();
        }
      });
      if (d_output != nullptr) {
        add_valid_columns(d_output->middleCols(t * B, B), t, d_next_[0]);
      }

      cell.backward_step(workspace_, t, states_, d_next_, d_prev_);

      for_each_padded(t, [&](Index b) {
        for (int s = 0; s < Cell::state_count; ++s) {
          d_prev_[s].col(b) = padded_gradient_.col(b).segment(s * H, H);
        }
      });
      if (truncation > 0 && t > 0 && t % truncation == 0) {
        for (int s = 0; s < Cell::state_count; ++s) d_prev_[s].setZero();
      }
      std::swap(d_next_, d_prev_);
    }

    if (input_mask_.size() != 0) {
      cell.accumulate_gradients(workspace_, masked_input_, states_, gradients, dx);
      if (dx != nullptr) apply_input_mask(*dx);
    } else {
      cell.accumulate_gradients(workspace_, x, states_, gradients, dx);
    }
  }

  // Sets the variational dropout masks of later forward calls: `input` (input_size x B)
  // multiplies the input at every step, `recurrent` (H x B) the hidden state where it meets
  // the recurrent weights. An empty matrix means no dropout there.
  void set_dropout_masks(const Matrix<Scalar>& input, const Matrix<Scalar>& recurrent) {
    input_mask_ = input;
    recurrent_mask_ = recurrent;
  }

  // Runs one step on a batch with the state carried from the previous call, for streaming.
  void step(const Cell& cell, const ConstMatrixRef<Scalar>& x) {
    cell.reserve(workspace_, 1, batch_);
    workspace_.recurrent_mask.resize(0, 0);
    cell.project_input(workspace_, x);
    cell.forward_step(workspace_, 0, states_);
    for (int s = 0; s < Cell::state_count; ++s) {
      states_[s].leftCols(batch_) = states_[s].rightCols(batch_);
    }
  }

  // Sets the state a streaming step starts from: zero, or `initial[s]` where not null.
  void start_stream(const Cell& cell, Index batch, std::array<const Matrix<Scalar>*, 2> initial) {
    steps_ = 1;
    batch_ = batch;
    lengths_.clear();
    for (int s = 0; s < Cell::state_count; ++s) {
      states_[s].resize(cell.hidden_size(), 2 * batch);
      if (initial[s] != nullptr) {
        states_[s].leftCols(batch) = *initial[s];
      } else {
        states_[s].leftCols(batch).setZero();
      }
    }
  }

 private:
  using Base = RecurrenceResult<Scalar>;
  using Base::batch_;
  using Base::d_next_;
  using Base::d_prev_;
  using Base::lengths_;
  using Base::masked_output_;
  using Base::padded_gradient_;
  using Base::states_;
  using Base::steps_;

  template <class Function>
  void for_each_padded(Index t, Function&& function) const {
    if (lengths_.empty()) return;
    for (Index b = 0; b < batch_; ++b) {
      if (t >= lengths_[b]) function(b);
    }
  }

  // Multiplies every step's columns by the input mask.
  void apply_input_mask(Matrix<Scalar>& sequence) const {
    for (Index t = 0; t < steps_; ++t) {
      sequence.middleCols(t * batch_, batch_).array() *= input_mask_.array();
    }
  }

  template <class Block>
  void add_valid_columns(const Block& source, Index t, Matrix<Scalar>& target) const {
    if (lengths_.empty()) {
      target += source;
      return;
    }
    for (Index b = 0; b < batch_; ++b) {
      if (t < lengths_[b]) target.col(b) += source.col(b);
    }
  }

  typename Cell::Workspace workspace_;
  Matrix<Scalar> input_mask_;
  Matrix<Scalar> recurrent_mask_;
  Matrix<Scalar> masked_input_;
};

}  // namespace deeprnn::detail
