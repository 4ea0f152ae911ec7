// ParameterList: the parameter tensors of any number of components, gathered through their
// for_each_parameter(), for optimizers and gradient clipping.
#pragma once

#include <cmath>
#include <cstddef>
#include <deeprnn/core.hpp>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace deeprnn {

template <class Scalar>
class ParameterList {
 public:
  using Tensor = Eigen::Map<Matrix<Scalar>>;

  // Adds every tensor of `component`, which must provide
  //   template <class V> void for_each_parameter(V&& visit)
  // calling visit(name, value, gradient) with Matrix<Scalar> or Vector<Scalar> tensors
  // (StackedRNN, SummaryRNN, Dense, Embedding, ...). Each tensor is listed as prefix + name;
  // give components whose names would repeat different prefixes, e.g. "embedding." and
  // "dense.". The list keeps pointers to the tensor objects, so the component must not be
  // moved or destroyed while the list is in use. A tensor may be resized, because each view is
  // made from its current shape.
  // Throws on a repeated name, a tensor added twice or a gradient shaped unlike its value.
  template <class Component>
  void add(Component& component, const std::string& prefix = "") {
    component.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
      add_tensor(prefix + name, value, gradient);
    });
  }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  const std::string& name(std::size_t i) const { return entries_.at(i).name; }

  // Views of tensor i as a matrix (a bias is a one-column matrix), valid until the tensor is
  // resized.
  Tensor value(std::size_t i) const { return view(entries_.at(i).value); }
  Tensor gradient(std::size_t i) const { return view(entries_.at(i).gradient); }

  // Total number of scalar parameters.
  Index parameter_count() const {
    Index count = 0;
    for (std::size_t i = 0; i < size(); ++i) count += value(i).size();
    return count;
  }

  void zero_gradients() {
    for (std::size_t i = 0; i < size(); ++i) gradient(i).setZero();
  }

  // Global L2 norm of all gradient tensors, sqrt(sum of every squared entry), summed in
  // double.
  double gradient_norm() const {
    double sum = 0.0;
    for (std::size_t i = 0; i < size(); ++i) {
      sum += gradient(i).template cast<double>().squaredNorm();
    }
    return std::sqrt(sum);
  }

  // Rescales all gradients together when their global norm exceeds max_norm, as PyTorch's
  // clip_grad_norm_:
  //   norm = gradient_norm(),  c = max_norm / (norm + 1e-6),  g *= c if c < 1
  // Returns the norm before clipping. A non-finite norm leaves the gradients unchanged and is
  // returned, so the caller can skip the step. Throws unless max_norm is finite and > 0.
  double clip_gradient_norm(double max_norm) {
    if (!std::isfinite(max_norm) || max_norm <= 0.0) {
      detail::throw_invalid("clip_gradient_norm: max_norm is " + std::to_string(max_norm) +
                            ", expected a finite value > 0");
    }
    const double norm = gradient_norm();
    if (!std::isfinite(norm)) return norm;

    const double coefficient = max_norm / (norm + 1e-6);
    if (coefficient < 1.0) {
      for (std::size_t i = 0; i < size(); ++i) {
        gradient(i) *= static_cast<Scalar>(coefficient);
      }
    }
    return norm;
  }

 private:
  using TensorPointer = std::variant<Matrix<Scalar>*, Vector<Scalar>*>;

  struct Entry {
    std::string name;
    TensorPointer value;
    TensorPointer gradient;
  };

  template <class Value, class Gradient>
  void add_tensor(const std::string& name, Value& value, Gradient& gradient) {
    static_assert(std::is_same_v<Value, Matrix<Scalar>> || std::is_same_v<Value, Vector<Scalar>>,
                  "ParameterList accepts Matrix<Scalar> and Vector<Scalar> parameters of the "
                  "optimizer's Scalar type.");
    static_assert(std::is_same_v<Value, Gradient>,
                  "A parameter and its gradient must have the same tensor type.");
    if (value.rows() != gradient.rows() || value.cols() != gradient.cols()) {
      detail::throw_invalid(
          "parameter " + name + " has shape " + detail::shape_string(value.rows(), value.cols()) +
          " but its gradient has shape " + detail::shape_string(gradient.rows(), gradient.cols()));
    }
    for (const Entry& entry : entries_) {
      if (entry.name == name) {
        detail::throw_invalid("parameter name " + name +
                              " was added twice; add components with distinct prefixes");
      }
      if (entry.value == TensorPointer(&value)) {
        detail::throw_invalid("parameter " + name + " is the tensor already added as " +
                              entry.name + "; add each component once");
      }
    }
    entries_.push_back(Entry{name, TensorPointer(&value), TensorPointer(&gradient)});
  }

  static Tensor view(const TensorPointer& pointer) {
    return std::visit(
        [](auto* tensor) { return Tensor(tensor->data(), tensor->rows(), tensor->cols()); },
        pointer);
  }

  std::vector<Entry> entries_;
};

}  // namespace deeprnn
