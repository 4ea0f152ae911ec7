// Element-wise activations applied in place to Eigen matrices or blocks.
#pragma once

// clang-format off: the check must come before any other include.
#include "header_check.hpp"
// clang-format on

#include <Eigen/Core>
#include <type_traits>

namespace deeprnn::detail {

// sigmoid(x) = 1 / (1 + exp(-x)), written as 0.5 + 0.5 * tanh(x / 2) so that it reuses the
// vectorised tanh and never overflows.
template <class Dense>
void sigmoid_in_place(Dense&& x) {
  using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
  x.array() = (x.array() * Scalar(0.5)).tanh() * Scalar(0.5) + Scalar(0.5);
}

template <class Dense>
void tanh_in_place(Dense&& x) {
  x.array() = x.array().tanh();
}

template <class Dense>
void relu_in_place(Dense&& x) {
  using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
  x.array() = x.array().max(Scalar(0));
}

}  // namespace deeprnn::detail
