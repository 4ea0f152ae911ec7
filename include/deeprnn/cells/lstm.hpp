// Long short-term memory cell (PyTorch nn.LSTM, Keras LSTM), gate order i, f, g, o.
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/activations.hpp>
#include <deeprnn/detail/packed_gemm.hpp>

namespace deeprnn {

// With a_X = W_iX x + b_iX + W_hX h + b_hX for the gate blocks X = i, f, g, o:
//   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
//   c' = f * c + i * g
//   h' = o * tanh(c')
//
// Backward, given dh' and dc' (the gradient reaching c' from later steps):
//   dc~ = dc' + dh' * o * (1 - tanh(c')^2)
//   da_i = dc~ * g * i (1 - i)        da_f = dc~ * c * f (1 - f)
//   da_g = dc~ * i * (1 - g^2)        da_o = dh' * tanh(c') * o (1 - o)
//   dc = dc~ * f,  dh = W_hh^T da
template <class Scalar_>
class LSTM {
 public:
  using Scalar = Scalar_;
  static constexpr int gate_count = 4;
  static constexpr int state_count = 2;

  struct Workspace {
    Index steps = 0;
    Index batch = 0;
    Matrix<Scalar> gates;           // 4H x T*B: input projection, then i, f, g, o of each step
    Matrix<Scalar> tanh_cell;       // H x T*B: tanh(c') of each step
    Matrix<Scalar> d_gates;         // 4H x T*B: dL/da
    Matrix<Scalar> d_cell_total;    // H x B: dc~ of the current step
    Matrix<Scalar> recurrent_mask;  // H x B recurrent dropout mask, or empty
    Matrix<Scalar> masked_hidden;   // H x T*B: h * recurrent_mask of each step
    detail::PackedMatrix<Scalar> packed_hh;     // W_hh for the steps of a forward call
    detail::PackedMatrix<Scalar> packed_hh_t;   // W_hh^T for the steps of a backward call
    detail::PackedMatrix<Scalar> packed_large;  // left operand of the current large product
  };

  RecurrentParameters<Scalar> parameters;
  RecurrentParameters<Scalar> gradients;

  LSTM(Index input_size, Index hidden_size)
      : parameters(detail::checked_gate_rows(gate_count, input_size, hidden_size, "LSTM"),
                   input_size, hidden_size),
        gradients(gate_count * hidden_size, input_size, hidden_size) {}

  Index input_size() const { return parameters.weight_ih.cols(); }
  Index hidden_size() const { return parameters.weight_hh.cols(); }

  void reserve(Workspace& ws, Index steps, Index batch) const {
    const Index H = hidden_size();
    ws.steps = steps;
    ws.batch = batch;
    ws.gates.resize(4 * H, steps * batch);
    ws.tanh_cell.resize(H, steps * batch);
    ws.d_gates.resize(4 * H, steps * batch);
    ws.d_cell_total.resize(H, batch);
    detail::pack_for_steps(ws.packed_hh, parameters.weight_hh, steps);
  }

  void project_input(Workspace& ws, const ConstMatrixRef<Scalar>& x) const {
    detail::multiply_packing(ws.packed_large, parameters.weight_ih, x, ws.gates, false);
    ws.gates.colwise() += parameters.bias_ih + parameters.bias_hh;
  }

  void forward_step(Workspace& ws, Index t, StateSequence<Scalar>& states) const {
    const Index H = hidden_size();
    const Index B = ws.batch;
    auto a = ws.gates.middleCols(t * B, B);
    detail::multiply_weight(ws.packed_hh, parameters.weight_hh,
                            detail::recurrent_input(ws, states, t), a, true);

    detail::sigmoid_in_place(a.topRows(2 * H));
    detail::tanh_in_place(a.middleRows(2 * H, H));
    detail::sigmoid_in_place(a.bottomRows(H));

    const auto i = a.topRows(H).array();
    const auto f = a.middleRows(H, H).array();
    const auto g = a.middleRows(2 * H, H).array();
    const auto o = a.bottomRows(H).array();
    auto c_next = states[1].middleCols((t + 1) * B, B);
    auto tanh_c = ws.tanh_cell.middleCols(t * B, B);
    c_next.array() = f * states[1].middleCols(t * B, B).array() + i * g;
    tanh_c.array() = detail::tanh(c_next.array());
    states[0].middleCols((t + 1) * B, B).array() = o * tanh_c.array();
  }

  void backward_step(Workspace& ws, Index t, const StateSequence<Scalar>& states,
                     const StateGradient<Scalar>& d_next, StateGradient<Scalar>& d_prev) const {
    const Index H = hidden_size();
    const Index B = ws.batch;
    if (t == ws.steps - 1) {
      detail::pack_for_steps(ws.packed_hh_t, parameters.weight_hh.transpose(), ws.steps);
    }
    const auto a = ws.gates.middleCols(t * B, B);
    const auto i = a.topRows(H).array();
    const auto f = a.middleRows(H, H).array();
    const auto g = a.middleRows(2 * H, H).array();
    const auto o = a.bottomRows(H).array();
    const auto tanh_c = ws.tanh_cell.middleCols(t * B, B).array();
    const auto c_prev = states[1].middleCols(t * B, B).array();
    const auto dh = d_next[0].array();
    auto dc = ws.d_cell_total.array();
    auto da = ws.d_gates.middleCols(t * B, B);

    dc = d_next[1].array() + dh * o * (Scalar(1) - tanh_c.square());
    da.topRows(H).array() = dc * g * i * (Scalar(1) - i);
    da.middleRows(H, H).array() = dc * c_prev * f * (Scalar(1) - f);
    da.middleRows(2 * H, H).array() = dc * i * (Scalar(1) - g.square());
    da.bottomRows(H).array() = dh * tanh_c * o * (Scalar(1) - o);

    d_prev[1].array() = dc * f;
    detail::multiply_weight(ws.packed_hh_t, parameters.weight_hh.transpose(), da, d_prev[0], false);
    detail::mask_recurrent_gradient(ws, d_prev[0]);
  }

  void accumulate_gradients(Workspace& ws, const ConstMatrixRef<Scalar>& x,
                            const StateSequence<Scalar>& states, RecurrentParameters<Scalar>& grads,
                            Matrix<Scalar>* dx) const {
    const Vector<Scalar> d_bias = ws.d_gates.rowwise().sum();
    // Both weight gradients share their left operand, packed once.
    ws.packed_large.pack(ws.d_gates);
    ws.packed_large.multiply(x.transpose(), grads.weight_ih, true);
    ws.packed_large.multiply(detail::recurrent_inputs(ws, states).transpose(), grads.weight_hh,
                             true);
    grads.bias_ih += d_bias;
    grads.bias_hh += d_bias;
    if (dx != nullptr) {
      dx->resize(input_size(), ws.d_gates.cols());
      detail::multiply_packing(ws.packed_large, parameters.weight_ih.transpose(), ws.d_gates, *dx,
                               false);
    }
  }
};

}  // namespace deeprnn
