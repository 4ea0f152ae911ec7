// The four parameter tensors every built-in cell has, in PyTorch's layout.
#pragma once

#include <deeprnn/core.hpp>
#include <string>

namespace deeprnn {

// Weights and biases of a cell with G gate blocks of H rows each, stacked in the cell's gate
// order: weight_ih is (G*H) x input_size, weight_hh is (G*H) x H, both biases have G*H entries.
// Cells hold one instance for the values and one, shaped alike, for the gradients.
template <class Scalar>
struct RecurrentParameters {
  Matrix<Scalar> weight_ih;
  Matrix<Scalar> weight_hh;
  Vector<Scalar> bias_ih;
  Vector<Scalar> bias_hh;

  RecurrentParameters() = default;

  RecurrentParameters(Index gate_rows, Index input_size, Index hidden_size)
      : weight_ih(Matrix<Scalar>::Zero(gate_rows, input_size)),
        weight_hh(Matrix<Scalar>::Zero(gate_rows, hidden_size)),
        bias_ih(Vector<Scalar>::Zero(gate_rows)),
        bias_hh(Vector<Scalar>::Zero(gate_rows)) {}

  void set_zero() {
    weight_ih.setZero();
    weight_hh.setZero();
    bias_ih.setZero();
    bias_hh.setZero();
  }

  // Calls visit(name, tensor) for each tensor, with PyTorch's names.
  template <class Visitor>
  void for_each(Visitor&& visit) {
    visit(std::string("weight_ih"), weight_ih);
    visit(std::string("weight_hh"), weight_hh);
    visit(std::string("bias_ih"), bias_ih);
    visit(std::string("bias_hh"), bias_hh);
  }
};

namespace detail {

// Returns gate_count * hidden_size after checking both widths, for a cell's constructor.
inline Index checked_gate_rows(int gate_count, Index input_size, Index hidden_size,
                               const char* cell_name) {
  if (input_size < 1) {
    throw_invalid(std::string(cell_name) + " input_size is " + std::to_string(input_size) +
                  ", expected at least 1");
  }
  if (hidden_size < 1) {
    throw_invalid(std::string(cell_name) + " hidden_size is " + std::to_string(hidden_size) +
                  ", expected at least 1");
  }
  return gate_count * hidden_size;
}

}  // namespace detail
}  // namespace deeprnn
