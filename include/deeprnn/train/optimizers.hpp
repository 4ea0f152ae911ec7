// Optimizers that update the parameters gathered in a ParameterList from their gradient
// buffers: SGD with momentum and Adam with decoupled weight decay (AdamW).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/train/parameters.hpp>
#include <string>
#include <utility>
#include <vector>

namespace deeprnn {

namespace detail {

// Throws unless `value` is finite and >= 0 (or > 0 when `positive`).
inline void check_non_negative(double value, const std::string& name, bool positive = false) {
  if (!std::isfinite(value) || value < 0.0 || (positive && value == 0.0)) {
    throw_invalid(name + " is " + std::to_string(value) + ", expected a finite value " +
                  (positive ? "> 0" : ">= 0"));
  }
}

// Throws unless 0 <= value < 1, the range of a decay rate such as Adam's betas.
inline void check_decay_rate(double value, const std::string& name) {
  if (!(value >= 0.0 && value < 1.0)) {
    throw_invalid(name + " is " + std::to_string(value) + ", expected a value in [0, 1)");
  }
}

// Calls visit("step", m) with a 1 x 1 matrix containing `count`, then reads the count back, so a
// checkpoint loader can assign it.
// NOTE: float represents integers exactly only up to 2^24, so a float optimizer's saved step count
// is exact only for the first 16,777,216 steps.
template <class Scalar, class Visitor>
void visit_step_count(std::int64_t& count, Visitor& visit) {
  Matrix<Scalar> step(1, 1);
  step(0, 0) = static_cast<Scalar>(count);
  visit(std::string("step"), step);
  if (step.rows() != 1 || step.cols() != 1) {
    throw_invalid("optimizer state \"step\" has shape " + shape_string(step.rows(), step.cols()) +
                  ", expected 1 x 1");
  }
  const double restored = static_cast<double>(step(0, 0));
  if (!std::isfinite(restored) || restored < 0.0 || std::floor(restored) != restored) {
    throw_invalid("optimizer state \"step\" is " + std::to_string(restored) +
                  ", expected a whole number >= 0");
  }
  count = static_cast<std::int64_t>(step(0, 0));
}

}  // namespace detail

// Shared by the optimizers: the parameter list and one state tensor per parameter and kind
// (momentum buffer, first moment, ...), created as zeros when a component is added.
template <class Scalar>
class OptimizerBase {
 public:
  // Adds every parameter of `component` (see ParameterList::add) and zero state for each.
  template <class Component>
  void add(Component& component, const std::string& prefix = "") {
    const std::size_t first = parameters_.size();
    parameters_.add(component, prefix);
    for (std::size_t i = first; i < parameters_.size(); ++i) {
      for (auto& kind : state_) {
        kind.tensors.push_back(
            Matrix<Scalar>::Zero(parameters_.value(i).rows(), parameters_.value(i).cols()));
      }
    }
  }

  void zero_gradients() { parameters_.zero_gradients(); }

  // See ParameterList::clip_gradient_norm: returns the global norm before clipping.
  double clip_gradient_norm(double max_norm) { return parameters_.clip_gradient_norm(max_norm); }

  // Number of step() calls so far (restored with the state).
  std::int64_t step_count() const { return step_count_; }

  // The parameters added so far, in order; add them through add() so each gets its state.
  const ParameterList<Scalar>& parameters() const { return parameters_; }

 protected:
  struct StateKind {
    std::string name;  // PyTorch's state key, e.g. "exp_avg"
    std::vector<Matrix<Scalar>> tensors;
  };

  explicit OptimizerBase(std::vector<std::string> state_names) {
    for (std::string& name : state_names) state_.push_back(StateKind{std::move(name), {}});
  }

  // Calls visit(kind + "." + parameter name, tensor) for every state tensor, then
  // visit("step", 1 x 1 step count).
  template <class Visitor>
  void visit_state(Visitor& visit) {
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      for (StateKind& kind : state_) visit(kind.name + "." + parameters_.name(i), kind.tensors[i]);
    }
    detail::visit_step_count<Scalar>(step_count_, visit);
  }

  // Throws if a parameter or a restored state tensor no longer has the parameter's shape.
  void check_state_shapes(const char* optimizer) const {
    if (parameters_.empty()) {
      detail::throw_invalid(std::string(optimizer) +
                            "::step: no parameters were added; call add(component) first");
    }
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      const auto value = parameters_.value(i);
      const auto gradient = parameters_.gradient(i);
      const std::string& name = parameters_.name(i);
      detail::check_shape(gradient, value.rows(), value.cols(), "gradient of " + name);
      for (const StateKind& kind : state_) {
        detail::check_shape(kind.tensors[i], value.rows(), value.cols(),
                            std::string(optimizer) + " state " + kind.name + "." + name);
      }
    }
  }

  Matrix<Scalar>& state(std::size_t kind, std::size_t i) { return state_[kind].tensors[i]; }

  ParameterList<Scalar> parameters_;
  std::int64_t step_count_ = 0;

 private:
  std::vector<StateKind> state_;
};

struct SGDOptions {
  // Keras' default; PyTorch's SGD has none.
  double learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  // L2 penalty added to the gradient (PyTorch's SGD weight_decay), not decoupled.
  double weight_decay = 0.0;
};

// Stochastic gradient descent in PyTorch's convention (torch.optim.SGD, 1.13, dampening 0):
//   g = grad + weight_decay * p
//   momentum > 0:  b = momentum * b + g   (b starts at zero, so the first b is g)
//                  g = g + momentum * b   (nesterov)   or   g = b   (otherwise)
//   p = p - learning_rate * g
// Keras' SGD writes momentum as v = momentum * v - learning_rate * g, p = p + v, which takes
// the same steps while the learning rate is constant.
// State: "momentum_buffer.<parameter>" when momentum > 0, and "step".
template <class Scalar>
class SGD : public OptimizerBase<Scalar> {
 public:
  SGDOptions options;

  explicit SGD(double learning_rate) : SGD(SGDOptions{.learning_rate = learning_rate}) {}

  explicit SGD(const SGDOptions& sgd_options)
      : OptimizerBase<Scalar>({"momentum_buffer"}), options(sgd_options) {
    check_options();
  }

  // Updates every parameter from its gradient buffer; gradients are left as they are.
  void step() {
    check_options();
    this->check_state_shapes("SGD");
    const auto learning_rate = static_cast<Scalar>(options.learning_rate);
    const auto momentum = static_cast<Scalar>(options.momentum);
    const auto weight_decay = static_cast<Scalar>(options.weight_decay);

    for (std::size_t i = 0; i < this->parameters_.size(); ++i) {
      auto p = this->parameters_.value(i);
      Matrix<Scalar> g = this->parameters_.gradient(i);
      if (options.weight_decay != 0.0) g += weight_decay * p;

      if (options.momentum != 0.0) {
        Matrix<Scalar>& buffer = this->state(0, i);
        buffer = momentum * buffer + g;
        if (options.nesterov) {
          g += momentum * buffer;
        } else {
          g = buffer;
        }
      }
      p -= learning_rate * g;
    }
    ++this->step_count_;
  }

  // Calls visit(name, Matrix<Scalar>&) for each state tensor ("momentum_buffer.<parameter>"
  // when momentum > 0) and for "step"; assigning to them restores a saved state.
  template <class Visitor>
  void for_each_state(Visitor&& visit) {
    if (options.momentum != 0.0) {
      this->visit_state(visit);
    } else {
      detail::visit_step_count<Scalar>(this->step_count_, visit);
    }
  }

 private:
  void check_options() const {
    detail::check_non_negative(options.learning_rate, "SGD learning_rate");
    detail::check_non_negative(options.momentum, "SGD momentum");
    detail::check_non_negative(options.weight_decay, "SGD weight_decay");
    if (options.nesterov && options.momentum == 0.0) {
      detail::throw_invalid("SGD nesterov is set but momentum is 0; set a momentum > 0");
    }
  }
};

// Placement of Adam's epsilon in the denominator of the update.
enum class AdamEpsilon {
  // p -= lr * m_hat / (sqrt(v_hat) + epsilon): PyTorch, and Algorithm 1 of Kingma and Ba.
  pytorch,
  // p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon): Keras and
  // TensorFlow, whose epsilon is added before the bias correction of v ("epsilon hat").
  keras,
};

// The defaults are PyTorch 1.13's torch.optim.Adam (lr 1e-3, betas 0.9 and 0.999, eps 1e-8,
// weight_decay 0); torch.optim.AdamW differs only in weight_decay 1e-2. Keras' Adam uses
// epsilon 1e-7 with AdamEpsilon::keras: AdamOptions::keras() sets both.
struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  // Decoupled weight decay (AdamW): p *= 1 - learning_rate * weight_decay before each step.
  double weight_decay = 0.0;
  AdamEpsilon epsilon_placement = AdamEpsilon::pytorch;

  static AdamOptions keras(double learning_rate = 1e-3) {
    return AdamOptions{
        .learning_rate = learning_rate, .epsilon = 1e-7, .epsilon_placement = AdamEpsilon::keras};
  }
};

// Adam with decoupled weight decay (torch.optim.AdamW 1.13, which is torch.optim.Adam when
// weight_decay is 0). At step t = 1, 2, ... with gradient g:
//   p = p * (1 - learning_rate * weight_decay)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   p = p - learning_rate * m_hat / (sqrt(v_hat) + epsilon),
//       m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
// (see AdamEpsilon for Keras' placement of epsilon).
// State: "exp_avg.<parameter>" (m), "exp_avg_sq.<parameter>" (v) and "step" (t).
template <class Scalar>
class Adam : public OptimizerBase<Scalar> {
 public:
  AdamOptions options;

  explicit Adam(double learning_rate = 1e-3) : Adam(AdamOptions{.learning_rate = learning_rate}) {}

  explicit Adam(const AdamOptions& adam_options)
      : OptimizerBase<Scalar>({"exp_avg", "exp_avg_sq"}), options(adam_options) {
    check_options();
  }

  // Updates every parameter from its gradient buffer; gradients are left as they are.
  void step() {
    check_options();
    this->check_state_shapes("Adam");
    const std::int64_t t = this->step_count_ + 1;
    const double bias_correction1 = 1.0 - std::pow(options.beta1, static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(options.beta2, static_cast<double>(t));
    const auto beta1 = static_cast<Scalar>(options.beta1);
    const auto beta2 = static_cast<Scalar>(options.beta2);
    const auto decay = static_cast<Scalar>(1.0 - options.learning_rate * options.weight_decay);

    // Both placements as p -= step_size * m / (sqrt(v) * v_scale + epsilon).
    double step_size = options.learning_rate / bias_correction1;
    double v_scale = 1.0 / std::sqrt(bias_correction2);
    if (options.epsilon_placement == AdamEpsilon::keras) {
      step_size = options.learning_rate * std::sqrt(bias_correction2) / bias_correction1;
      v_scale = 1.0;
    }
    const auto step_size_scalar = static_cast<Scalar>(step_size);
    const auto v_scale_scalar = static_cast<Scalar>(v_scale);
    const auto epsilon = static_cast<Scalar>(options.epsilon);

    for (std::size_t i = 0; i < this->parameters_.size(); ++i) {
      auto p = this->parameters_.value(i);
      const auto g = this->parameters_.gradient(i);
      Matrix<Scalar>& m = this->state(0, i);
      Matrix<Scalar>& v = this->state(1, i);

      if (options.weight_decay != 0.0) p *= decay;
      m = beta1 * m + (Scalar(1) - beta1) * g;
      v.array() = beta2 * v.array() + (Scalar(1) - beta2) * g.array().square();
      p.array() -= step_size_scalar * m.array() / (v.array().sqrt() * v_scale_scalar + epsilon);
    }
    this->step_count_ = t;
  }

  // Calls visit(name, Matrix<Scalar>&) for "exp_avg.<parameter>", "exp_avg_sq.<parameter>"
  // and "step"; assigning to them restores a saved state.
  template <class Visitor>
  void for_each_state(Visitor&& visit) {
    this->visit_state(visit);
  }

 private:
  void check_options() const {
    detail::check_non_negative(options.learning_rate, "Adam learning_rate");
    detail::check_decay_rate(options.beta1, "Adam beta1");
    detail::check_decay_rate(options.beta2, "Adam beta2");
    detail::check_non_negative(options.epsilon, "Adam epsilon", true);
    detail::check_non_negative(options.weight_decay, "Adam weight_decay");
  }
};

}  // namespace deeprnn
