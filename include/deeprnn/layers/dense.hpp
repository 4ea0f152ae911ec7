// Dense: a fully connected layer applied to every column (PyTorch nn.Linear plus an
// activation, Keras Dense).
#pragma once

#include <deeprnn/core.hpp>
#include <deeprnn/detail/activations.hpp>
#include <string>

namespace deeprnn {

enum class DenseActivation { none, relu, tanh, sigmoid };

// Weight and bias of a Dense layer in PyTorch's layout: weight is output_size x input_size.
template <class Scalar>
struct DenseParameters {
  Matrix<Scalar> weight;
  Vector<Scalar> bias;

  DenseParameters(Index input_size, Index output_size)
      : weight(Matrix<Scalar>::Zero(output_size, input_size)),
        bias(Vector<Scalar>::Zero(output_size)) {}

  void set_zero() {
    weight.setZero();
    bias.setZero();
  }
};

// y = act(W x + b) for every column x of the input, so it maps a per-sample batch
// (input_size x B) or a whole sequence (input_size x T*B) alike.
template <class Scalar_>
class Dense {
 public:
  using Scalar = Scalar_;

  DenseParameters<Scalar> parameters;
  DenseParameters<Scalar> gradients;

  // Builds a layer with zero parameters (see init.hpp to initialise them).
  Dense(Index input_size, Index output_size, DenseActivation activation = DenseActivation::none)
      : parameters(checked_size(input_size, "input_size"),
                   checked_size(output_size, "output_size")),
        gradients(input_size, output_size),
        activation_(activation) {}

  Index input_size() const { return parameters.weight.cols(); }
  Index output_size() const { return parameters.weight.rows(); }
  DenseActivation activation() const { return activation_; }

  // Returns y = act(W x + b), output_size x N for x of input_size x N, and keeps x and y for
  // backward().
  const Matrix<Scalar>& forward(const ConstMatrixRef<Scalar>& x) {
    if (x.rows() != input_size()) {
      detail::throw_invalid("Dense::forward: x has " + std::to_string(x.rows()) +
                            " rows, expected input_size = " + std::to_string(input_size()));
    }
    if (x.cols() == 0) {
      detail::throw_invalid("Dense::forward: x has no columns; expected at least one sample");
    }
    detail::check_finite(x, "Dense::forward: x");

    input_ = x;
    output_.noalias() = parameters.weight * input_;
    output_.colwise() += parameters.bias;
    apply_activation(output_);
    return output_;
  }

  // Adds dW = dz x^T and db = (sum over columns of dz) to the gradients and returns
  // dx = W^T dz, for dy = d_output (output_size x N) and dz = dy * act'(z). The derivative
  // act' is computed from y: 1 (none), [y > 0] (relu), 1 - y^2 (tanh), y (1 - y) (sigmoid).
  const Matrix<Scalar>& backward(const ConstMatrixRef<Scalar>& d_output) {
    if (input_.size() == 0) {
      detail::throw_invalid("Dense::backward was called before forward()");
    }
    detail::check_shape(d_output, output_size(), output_.cols(), "Dense::backward: d_output");

    d_preactivation_ = d_output;
    multiply_by_activation_derivative(d_preactivation_);
    gradients.weight.noalias() += d_preactivation_ * input_.transpose();
    gradients.bias += d_preactivation_.rowwise().sum();
    input_gradient_.noalias() = parameters.weight.transpose() * d_preactivation_;
    return input_gradient_;
  }

  void zero_gradients() { gradients.set_zero(); }

  // Calls visit(name, value, gradient) for "weight" and "bias", PyTorch's names.
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    visit(std::string("weight"), parameters.weight, gradients.weight);
    visit(std::string("bias"), parameters.bias, gradients.bias);
  }

 private:
  static Index checked_size(Index size, const char* name) {
    if (size < 1) {
      detail::throw_invalid(std::string("Dense ") + name + " is " + std::to_string(size) +
                            ", expected at least 1");
    }
    return size;
  }

  void apply_activation(Matrix<Scalar>& z) const {
    switch (activation_) {
      case DenseActivation::none:
        break;
      case DenseActivation::relu:
        detail::relu_in_place(z);
        break;
      case DenseActivation::tanh:
        detail::tanh_in_place(z);
        break;
      case DenseActivation::sigmoid:
        detail::sigmoid_in_place(z);
        break;
    }
  }

  void multiply_by_activation_derivative(Matrix<Scalar>& d) const {
    const auto y = output_.array();
    switch (activation_) {
      case DenseActivation::none:
        break;
      case DenseActivation::relu:
        d.array() *= (y > Scalar(0)).template cast<Scalar>();
        break;
      case DenseActivation::tanh:
        d.array() *= Scalar(1) - y.square();
        break;
      case DenseActivation::sigmoid:
        d.array() *= y * (Scalar(1) - y);
        break;
    }
  }

  DenseActivation activation_;
  Matrix<Scalar> input_;
  Matrix<Scalar> output_;
  Matrix<Scalar> d_preactivation_;
  Matrix<Scalar> input_gradient_;
};

}  // namespace deeprnn
