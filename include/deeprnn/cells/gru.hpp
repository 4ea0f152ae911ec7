// Gated recurrent unit (PyTorch nn.GRU, Keras GRU), gate order r, z, n, in both formulas.
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/activations.hpp>
#include <deeprnn/detail/packed_gemm.hpp>

namespace deeprnn {

// Where the reset gate acts on the candidate's recurrent term.
enum class ResetGate {
  // n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): PyTorch, Keras reset_after=True.
  after,
  // n = tanh(W_in x + b_in + W_hn (r * h) + b_hn): Cho et al. 2014, Keras reset_after=False.
  // Both candidate biases are plain sums here, so they act as one bias.
  before,
};

// With gi = W_ih x + b_ih and gh = W_hh h + b_hh split into blocks r, z, n:
//   r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
//   n = tanh(gi_n + r * gh_n)                      (ResetGate::after)
//   n = tanh(gi_n + W_hn (r * h) + b_hn)           (ResetGate::before)
//   h' = (1 - z) * n + z * h
//
// Backward, given dh': dn = dh' (1 - z), dz = dh' (h - n), da_n = dn (1 - n^2),
// da_z = dz z (1 - z), and
//   after:  da_r = da_n gh_n r (1 - r); the recurrent gradient of block n is da_n * r;
//           dh = dh' z + W_hh^T [da_r; da_z; da_n * r]
//   before: d(r h) = W_hn^T da_n, da_r = d(r h) h r (1 - r);
//           dh = dh' z + d(r h) r + W_h{r,z}^T [da_r; da_z]
// Under recurrent dropout h is replaced by h * mask in every product with weight_hh (and in
// r * h), and the gradient through those products is multiplied by the mask.
template <class Scalar_, ResetGate Reset = ResetGate::after>
class GRU {
 public:
  using Scalar = Scalar_;
  static constexpr int gate_count = 3;
  static constexpr int state_count = 1;
  static constexpr ResetGate reset_gate = Reset;

  struct Workspace {
    Index steps = 0;
    Index batch = 0;
    Matrix<Scalar> gates;      // 3H x T*B: input projection, then r, z, n of each step
    Matrix<Scalar> d_gates;    // 3H x T*B: dL/d(gi) of each step
    Matrix<Scalar> recurrent;  // 3H x B: W_hh h (after) or W_h{r,z} h and W_hn (r h) (before)
    // after: H x T*B, gh_n = W_hn h + b_hn.  before: H x T*B, r * h.
    Matrix<Scalar> candidate_term;
    // after: 3H x T*B, dL/d(gh).  before: H x B, d(r h) of the current step.
    Matrix<Scalar> d_recurrent;
    Matrix<Scalar> recurrent_mask;  // H x B recurrent dropout mask, or empty
    Matrix<Scalar> masked_hidden;   // H x T*B: h * recurrent_mask of each step
    // The recurrent weights of one call, packed for the forward steps and transposed for the
    // backward steps: W_hh (after), or W_h{r,z} here and W_hn in the *_n copies (before).
    detail::PackedMatrix<Scalar> packed_hh;
    detail::PackedMatrix<Scalar> packed_hh_t;
    detail::PackedMatrix<Scalar> packed_hn;
    detail::PackedMatrix<Scalar> packed_hn_t;
    detail::PackedMatrix<Scalar> packed_large;  // left operand of the current large product
  };

  RecurrentParameters<Scalar> parameters;
  RecurrentParameters<Scalar> gradients;

  GRU(Index input_size, Index hidden_size)
      : parameters(detail::checked_gate_rows(gate_count, input_size, hidden_size, "GRU"),
                   input_size, hidden_size),
        gradients(gate_count * hidden_size, input_size, hidden_size) {}

  Index input_size() const { return parameters.weight_ih.cols(); }
  Index hidden_size() const { return parameters.weight_hh.cols(); }

  void reserve(Workspace& ws, Index steps, Index batch) const {
    const Index H = hidden_size();
    ws.steps = steps;
    ws.batch = batch;
    ws.gates.resize(3 * H, steps * batch);
    ws.d_gates.resize(3 * H, steps * batch);
    ws.recurrent.resize(3 * H, batch);
    ws.candidate_term.resize(H, steps * batch);
    if constexpr (Reset == ResetGate::after) {
      ws.d_recurrent.resize(3 * H, steps * batch);
      detail::pack_for_steps(ws.packed_hh, parameters.weight_hh, steps);
    } else {
      ws.d_recurrent.resize(H, batch);
      detail::pack_for_steps(ws.packed_hh, parameters.weight_hh.topRows(2 * H), steps);
      detail::pack_for_steps(ws.packed_hn, parameters.weight_hh.bottomRows(H), steps);
    }
  }

  // Folds every bias that enters additively into the input projection: all of them for
  // ResetGate::before, all but b_hn (which the reset gate scales) for ResetGate::after.
  void project_input(Workspace& ws, const ConstMatrixRef<Scalar>& x) const {
    const Index H = hidden_size();
    detail::multiply_packing(ws.packed_large, parameters.weight_ih, x, ws.gates, false);
    if constexpr (Reset == ResetGate::after) {
      Vector<Scalar> bias = parameters.bias_ih;
      bias.head(2 * H) += parameters.bias_hh.head(2 * H);
      ws.gates.colwise() += bias;
    } else {
      ws.gates.colwise() += parameters.bias_ih + parameters.bias_hh;
    }
  }

  void forward_step(Workspace& ws, Index t, StateSequence<Scalar>& states) const {
    const Index H = hidden_size();
    const Index B = ws.batch;
    auto a = ws.gates.middleCols(t * B, B);
    const auto h_prev = states[0].middleCols(t * B, B);
    const auto h_recurrent = detail::recurrent_input(ws, states, t);
    auto candidate_term = ws.candidate_term.middleCols(t * B, B);

    if constexpr (Reset == ResetGate::after) {
      detail::multiply_weight(ws.packed_hh, parameters.weight_hh, h_recurrent, ws.recurrent, false);
      a.topRows(2 * H) += ws.recurrent.topRows(2 * H);
      detail::sigmoid_in_place(a.topRows(2 * H));
      candidate_term = ws.recurrent.bottomRows(H);
      candidate_term.colwise() += parameters.bias_hh.tail(H);
      a.bottomRows(H).array() += a.topRows(H).array() * candidate_term.array();
    } else {
      auto recurrent_rz = ws.recurrent.topRows(2 * H);
      auto recurrent_n = ws.recurrent.bottomRows(H);
      detail::multiply_weight(ws.packed_hh, parameters.weight_hh.topRows(2 * H), h_recurrent,
                              recurrent_rz, false);
      a.topRows(2 * H) += recurrent_rz;
      detail::sigmoid_in_place(a.topRows(2 * H));
      candidate_term.array() = a.topRows(H).array() * h_recurrent.array();
      detail::multiply_weight(ws.packed_hn, parameters.weight_hh.bottomRows(H), candidate_term,
                              recurrent_n, false);
      a.bottomRows(H) += recurrent_n;
    }
    detail::tanh_in_place(a.bottomRows(H));

    const auto z = a.middleRows(H, H).array();
    const auto n = a.bottomRows(H).array();
    states[0].middleCols((t + 1) * B, B).array() = n + z * (h_prev.array() - n);
  }

  void backward_step(Workspace& ws, Index t, const StateSequence<Scalar>& states,
                     const StateGradient<Scalar>& d_next, StateGradient<Scalar>& d_prev) const {
    const Index H = hidden_size();
    const Index B = ws.batch;
    if (t == ws.steps - 1) pack_transposed_weights(ws);
    const auto a = ws.gates.middleCols(t * B, B);
    const auto r = a.topRows(H).array();
    const auto z = a.middleRows(H, H).array();
    const auto n = a.bottomRows(H).array();
    const auto h_prev = states[0].middleCols(t * B, B).array();
    const auto candidate_term = ws.candidate_term.middleCols(t * B, B).array();
    const auto dh = d_next[0].array();
    auto da = ws.d_gates.middleCols(t * B, B);

    da.bottomRows(H).array() = dh * (Scalar(1) - z) * (Scalar(1) - n.square());
    da.middleRows(H, H).array() = dh * (h_prev - n) * z * (Scalar(1) - z);
    const auto da_n = da.bottomRows(H).array();

    if constexpr (Reset == ResetGate::after) {
      da.topRows(H).array() = da_n * candidate_term * r * (Scalar(1) - r);
      auto d_recurrent = ws.d_recurrent.middleCols(t * B, B);
      d_recurrent.topRows(2 * H) = da.topRows(2 * H);
      d_recurrent.bottomRows(H).array() = da_n * r;
      detail::multiply_weight(ws.packed_hh_t, parameters.weight_hh.transpose(), d_recurrent,
                              d_prev[0], false);
      detail::mask_recurrent_gradient(ws, d_prev[0]);
      d_prev[0].array() += dh * z;
    } else {
      auto& d_reset_hidden = ws.d_recurrent;  // H x B: d(r * h)
      const auto h_recurrent = detail::recurrent_inputs(ws, states).middleCols(t * B, B).array();
      detail::multiply_weight(ws.packed_hn_t, parameters.weight_hh.bottomRows(H).transpose(),
                              da.bottomRows(H), d_reset_hidden, false);
      da.topRows(H).array() = d_reset_hidden.array() * h_recurrent * r * (Scalar(1) - r);
      detail::multiply_weight(ws.packed_hh_t, parameters.weight_hh.topRows(2 * H).transpose(),
                              da.topRows(2 * H), d_prev[0], false);
      d_prev[0].array() += d_reset_hidden.array() * r;
      detail::mask_recurrent_gradient(ws, d_prev[0]);
      d_prev[0].array() += dh * z;
    }
  }

  void accumulate_gradients(Workspace& ws, const ConstMatrixRef<Scalar>& x,
                            const StateSequence<Scalar>& states, RecurrentParameters<Scalar>& grads,
                            Matrix<Scalar>* dx) const {
    const Index H = hidden_size();
    const auto h_prev = detail::recurrent_inputs(ws, states);
    detail::multiply_packing(ws.packed_large, ws.d_gates, x.transpose(), grads.weight_ih, true);
    grads.bias_ih += ws.d_gates.rowwise().sum();
    if constexpr (Reset == ResetGate::after) {
      detail::multiply_packing(ws.packed_large, ws.d_recurrent, h_prev.transpose(), grads.weight_hh,
                               true);
      grads.bias_hh += ws.d_recurrent.rowwise().sum();
    } else {
      auto d_weight_rz = grads.weight_hh.topRows(2 * H);
      auto d_weight_n = grads.weight_hh.bottomRows(H);
      detail::multiply_packing(ws.packed_large, ws.d_gates.topRows(2 * H), h_prev.transpose(),
                               d_weight_rz, true);
      detail::multiply_packing(ws.packed_large, ws.d_gates.bottomRows(H),
                               ws.candidate_term.transpose(), d_weight_n, true);
      grads.bias_hh += ws.d_gates.rowwise().sum();
    }
    if (dx != nullptr) {
      dx->resize(input_size(), ws.d_gates.cols());
      detail::multiply_packing(ws.packed_large, parameters.weight_ih.transpose(), ws.d_gates, *dx,
                               false);
    }
  }

 private:
  void pack_transposed_weights(Workspace& ws) const {
    const Index H = hidden_size();
    if constexpr (Reset == ResetGate::after) {
      detail::pack_for_steps(ws.packed_hh_t, parameters.weight_hh.transpose(), ws.steps);
    } else {
      detail::pack_for_steps(ws.packed_hh_t, parameters.weight_hh.topRows(2 * H).transpose(),
                             ws.steps);
      detail::pack_for_steps(ws.packed_hn_t, parameters.weight_hh.bottomRows(H).transpose(),
                             ws.steps);
    }
  }
};

}  // namespace deeprnn
