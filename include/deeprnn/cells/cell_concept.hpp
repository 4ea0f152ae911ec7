// The contract between a recurrent cell and the time loop that drives it.
#pragma once

#include <array>
#include <concepts>
#include <deeprnn/cells/recurrent_parameters.hpp>
#include <deeprnn/core.hpp>

namespace deeprnn {

// State tensors of one layer over a whole call: element s (0 = hidden state h, 1 = cell state c
// for cells that have one) is H x ((T+1)*B). Column block 0 holds the initial state and block
// t+1 the state after step t, so block t is always the state a step starts from.
template <class Scalar>
using StateSequence = std::array<Matrix<Scalar>, 2>;

// Gradient with respect to one layer's state at one step: element s is H x B.
template <class Scalar>
using StateGradient = std::array<Matrix<Scalar>, 2>;

// What a type must provide to be a layer of StackedRNN or the cell of SummaryRNN.
//
// Forward. `reserve(ws, T, B)` sizes the workspace for T steps of B samples, allocating only
// when it grows. `project_input(ws, x)` receives the whole input sequence (input_size x T*B)
// and computes every step's input projection at once. `forward_step(ws, t, states)` reads the
// state block t, writes block t+1 of each of its `state_count` state tensors, and caches in
// `ws` whatever its backward step needs.
//
// Backward. `backward_step(ws, t, states, d_next, d_prev)` receives the gradient with respect
// to the state after step t (d_next, H x B per state tensor), assigns the gradient with respect
// to the state before it (d_prev) and stores the gate gradients of step t in `ws`. Every
// column is independent: the caller zeroes d_next at padded samples and then overwrites their
// d_prev, so a zero column of d_next must give zero gate gradients. After the time loop,
// `accumulate_gradients(ws, x, states, gradients, dx)` adds the parameter gradients of the whole
// sequence to `gradients` (+=) and, when dx is not null, assigns dL/dx (input_size x T*B).
//
// Recurrent dropout. The workspace has a member `recurrent_mask`, empty or H x B; when it is
// set, the cell multiplies the hidden state by it wherever the state meets weight_hh (see
// detail::recurrent_input), and nowhere else.
namespace detail {

// Hidden state that step t feeds to the recurrent weights: h, or h * mask when the workspace
// holds a recurrent dropout mask (H x B, one per sequence as in Keras' recurrent_dropout).
// The masked copy is kept for the weight gradient.
template <class Workspace, class Scalar>
Eigen::Block<const Matrix<Scalar>, Eigen::Dynamic, Eigen::Dynamic, true> recurrent_input(
    Workspace& ws, const StateSequence<Scalar>& states, Index t) {
  const Index B = ws.batch;
  if (ws.recurrent_mask.size() == 0) return states[0].middleCols(t * B, B);
  ws.masked_hidden.resize(states[0].rows(), ws.steps * B);
  ws.masked_hidden.middleCols(t * B, B).array() =
      states[0].middleCols(t * B, B).array() * ws.recurrent_mask.array();
  const Matrix<Scalar>& masked = ws.masked_hidden;
  return masked.middleCols(t * B, B);
}

// The recurrent inputs of all steps, H x T*B, for the recurrent weight gradient.
template <class Workspace, class Scalar>
Eigen::Block<const Matrix<Scalar>, Eigen::Dynamic, Eigen::Dynamic, true> recurrent_inputs(
    const Workspace& ws, const StateSequence<Scalar>& states) {
  const Index columns = ws.steps * ws.batch;
  if (ws.recurrent_mask.size() == 0) return states[0].leftCols(columns);
  return ws.masked_hidden.leftCols(columns);
}

// Applies the recurrent dropout mask to the gradient that reached h through the recurrent
// weights.
template <class Workspace, class Dense>
void mask_recurrent_gradient(const Workspace& ws, Dense&& d_hidden) {
  if (ws.recurrent_mask.size() != 0) d_hidden.array() *= ws.recurrent_mask.array();
}

}  // namespace detail

template <class Cell>
concept RecurrentCell = std::floating_point<typename Cell::Scalar> &&
    requires(Cell& cell, const Cell& const_cell, typename Cell::Workspace& ws, Index n,
             const ConstMatrixRef<typename Cell::Scalar>& x,
             StateSequence<typename Cell::Scalar>& states,
             StateGradient<typename Cell::Scalar>& d_state, Matrix<typename Cell::Scalar>* dx) {
  { Cell::state_count } -> std::convertible_to<int>;
  requires Cell::state_count == 1 || Cell::state_count == 2;
  { const_cell.input_size() } -> std::convertible_to<Index>;
  { const_cell.hidden_size() } -> std::convertible_to<Index>;
  { cell.parameters } -> std::convertible_to<RecurrentParameters<typename Cell::Scalar>&>;
  { cell.gradients } -> std::convertible_to<RecurrentParameters<typename Cell::Scalar>&>;
  { ws.recurrent_mask } -> std::convertible_to<Matrix<typename Cell::Scalar>&>;
  const_cell.reserve(ws, n, n);
  const_cell.project_input(ws, x);
  const_cell.forward_step(ws, n, states);
  const_cell.backward_step(ws, n, states, d_state, d_state);
  const_cell.accumulate_gradients(ws, x, states, cell.gradients, dx);
};

}  // namespace deeprnn
