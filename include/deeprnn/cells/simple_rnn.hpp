// Elman recurrent cell (PyTorch nn.RNN, Keras SimpleRNN).
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/activations.hpp>
#include <deeprnn/detail/packed_gemm.hpp>

namespace deeprnn {

enum class Activation { tanh, relu };

// h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
//
// Backward: da = dh' * act'(a), with act' = 1 - h'^2 for tanh and [h' > 0] for relu;
// dh = W_hh^T da, dW_ih = da x^T, dW_hh = da h^T, db_ih = db_hh = da.
template <class Scalar_, Activation Act = Activation::tanh>
class SimpleRNN {
 public:
  using Scalar = Scalar_;
  static constexpr int gate_count = 1;
  static constexpr int state_count = 1;
  static constexpr Activation activation = Act;

  struct Workspace {
    Index steps = 0;
    Index batch = 0;
    Matrix<Scalar> gates;           // H x T*B: the input projection, then each step's output
    Matrix<Scalar> d_gates;         // H x T*B: dL/da
    Matrix<Scalar> recurrent_mask;  // H x B recurrent dropout mask, or empty
    Matrix<Scalar> masked_hidden;   // H x T*B: h * recurrent_mask of each step
    detail::PackedMatrix<Scalar> packed_hh;     // W_hh for the steps of a forward call
    detail::PackedMatrix<Scalar> packed_hh_t;   // W_hh^T for the steps of a backward call
    detail::PackedMatrix<Scalar> packed_large;  // left operand of the current large product
  };

  RecurrentParameters<Scalar> parameters;
  RecurrentParameters<Scalar> gradients;

  SimpleRNN(Index input_size, Index hidden_size)
      : parameters(detail::checked_gate_rows(gate_count, input_size, hidden_size, "SimpleRNN"),
                   input_size, hidden_size),
        gradients(hidden_size, input_size, hidden_size) {}

  Index input_size() const { return parameters.weight_ih.cols(); }
  Index hidden_size() const { return parameters.weight_hh.cols(); }

  void reserve(Workspace& ws, Index steps, Index batch) const {
    ws.steps = steps;
    ws.batch = batch;
    ws.gates.resize(hidden_size(), steps * batch);
    ws.d_gates.resize(hidden_size(), steps * batch);
    detail::pack_for_steps(ws.packed_hh, parameters.weight_hh, steps);
  }

  void project_input(Workspace& ws, const ConstMatrixRef<Scalar>& x) const {
    detail::multiply_packing(ws.packed_large, parameters.weight_ih, x, ws.gates, false);
    ws.gates.colwise() += parameters.bias_ih + parameters.bias_hh;
  }

  void forward_step(Workspace& ws, Index t, StateSequence<Scalar>& states) const {
    const Index B = ws.batch;
    auto a = ws.gates.middleCols(t * B, B);
    detail::multiply_weight(ws.packed_hh, parameters.weight_hh,
                            detail::recurrent_input(ws, states, t), a, true);
    if constexpr (Act == Activation::tanh) {
      detail::tanh_in_place(a);
    } else {
      detail::relu_in_place(a);
    }
    states[0].middleCols((t + 1) * B, B) = a;
  }

  void backward_step(Workspace& ws, Index t, const StateSequence<Scalar>& states,
                     const StateGradient<Scalar>& d_next, StateGradient<Scalar>& d_prev) const {
    const Index B = ws.batch;
    if (t == ws.steps - 1) {
      detail::pack_for_steps(ws.packed_hh_t, parameters.weight_hh.transpose(), ws.steps);
    }
    const auto h = states[0].middleCols((t + 1) * B, B).array();
    auto da = ws.d_gates.middleCols(t * B, B);
    if constexpr (Act == Activation::tanh) {
      da.array() = d_next[0].array() * (Scalar(1) - h.square());
    } else {
      da.array() = (h > Scalar(0)).select(d_next[0].array(), Scalar(0));
    }
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
