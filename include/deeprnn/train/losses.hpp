// Loss functions that return the loss and its gradient with respect to the network's output:
// softmax cross-entropy from logits and mean squared error. Also the conversions of a mean
// cross-entropy into perplexity and bits per character.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <numbers>
#include <span>
#include <string>
#include <type_traits>

namespace deeprnn {

namespace detail {

// Throws unless `weights` is empty or has one finite, non-negative entry per sample with a
// positive sum; returns the sum (the batch size when empty).
template <class Scalar>
double checked_weight_sum(std::span<const Scalar> weights, Index batch, const char* function) {
  if (weights.empty()) return static_cast<double>(batch);
  if (static_cast<Index>(weights.size()) != batch) {
    throw_invalid(std::string(function) + ": weights has " + std::to_string(weights.size()) +
                  " entries, expected one per sample (" + std::to_string(batch) + ") or none");
  }
  double sum = 0.0;
  for (std::size_t b = 0; b < weights.size(); ++b) {
    const double w = static_cast<double>(weights[b]);
    if (!std::isfinite(w) || w < 0.0) {
      throw_invalid(std::string(function) + ": weights[" + std::to_string(b) + "] is " +
                    std::to_string(w) + ", expected a finite value >= 0");
    }
    sum += w;
  }
  if (!(sum > 0.0)) {
    throw_invalid(std::string(function) +
                  ": every weight is zero, so no sample is counted; skip batches that contain "
                  "only padding");
  }
  return sum;
}

}  // namespace detail

// Softmax cross-entropy of C x B logits against B integer labels in 0..C-1, the weighted mean
// over samples (PyTorch's cross_entropy with reduction 'mean', Keras'
// SparseCategoricalCrossentropy(from_logits=True)):
//   l_b = log(sum_c exp(z_cb)) - z_{y_b, b}        computed with z - max_c z_cb for stability
//   L   = sum_b w_b l_b / sum_b w_b                (w_b = 1 without weights)
//   dL/dz_b = w_b (softmax(z_b) - onehot(y_b)) / sum_b w_b
// `weights`, when given, has one entry per sample: a 0/1 mask averages over the counted
// positions only (padded steps of a language model), and the label of a zero-weight sample is
// not read, so padding may carry any label. When `d_logits` is not null it is assigned dL/dz
// (C x B). The loss sum is accumulated in double. Throws on an empty batch, a label out of
// range, a non-finite logit or weights that count no sample.
template <class Derived>
typename Derived::Scalar softmax_cross_entropy(
    const Eigen::MatrixBase<Derived>& logits, std::span<const std::int64_t> labels,
    Matrix<typename Derived::Scalar>* d_logits = nullptr,
    std::span<const typename Derived::Scalar> weights = {}) {
  using Scalar = typename Derived::Scalar;
  const Index classes = logits.rows();
  const Index batch = logits.cols();
  if (classes < 1 || batch < 1) {
    detail::throw_invalid("softmax_cross_entropy: logits has shape " +
                          detail::shape_string(classes, batch) +
                          ", expected C x B with at least one class and one sample");
  }
  if (static_cast<Index>(labels.size()) != batch) {
    detail::throw_invalid("softmax_cross_entropy: labels has " + std::to_string(labels.size()) +
                          " entries, expected one per sample (" + std::to_string(batch) + ")");
  }
  const double weight_sum = detail::checked_weight_sum(weights, batch, "softmax_cross_entropy");
  auto weight_of = [&](Index b) {
    return weights.empty() ? 1.0 : static_cast<double>(weights[static_cast<std::size_t>(b)]);
  };
  for (Index b = 0; b < batch; ++b) {
    const std::int64_t label = labels[static_cast<std::size_t>(b)];
    if (weight_of(b) != 0.0 && (label < 0 || label >= classes)) {
      detail::throw_invalid("softmax_cross_entropy: label " + std::to_string(label) +
                            " of sample " + std::to_string(b) + " is out of range; expected 0.." +
                            std::to_string(classes - 1) + " (" + std::to_string(classes) +
                            " classes)");
    }
  }
  detail::check_finite(logits, "softmax_cross_entropy: logits");

  if (d_logits != nullptr) d_logits->resize(classes, batch);
  Vector<Scalar> exponentials(classes);
  double loss_sum = 0.0;
  for (Index b = 0; b < batch; ++b) {
    const double w = weight_of(b);
    if (w == 0.0) {
      if (d_logits != nullptr) d_logits->col(b).setZero();
      continue;
    }
    const auto z = logits.col(b);
    const Scalar max_logit = z.maxCoeff();
    exponentials = (z.array() - max_logit).exp();
    const Scalar exponential_sum = exponentials.sum();
    const Index label = static_cast<Index>(labels[static_cast<std::size_t>(b)]);
    const double log_sum_exp =
        static_cast<double>(max_logit) + std::log(static_cast<double>(exponential_sum));
    loss_sum += w * (log_sum_exp - static_cast<double>(z(label)));

    if (d_logits != nullptr) {
      const auto scale = static_cast<Scalar>(w / weight_sum);
      d_logits->col(b) = exponentials * (scale / exponential_sum);
      (*d_logits)(label, b) -= scale;
    }
  }
  return static_cast<Scalar>(loss_sum / weight_sum);
}

// Mean squared error over all N entries (PyTorch's mse_loss with reduction 'mean', Keras'
// MeanSquaredError for one output per column):
//   L = sum (p - t)^2 / N,   dL/dp = 2 (p - t) / N
// When `d_prediction` is not null it is assigned dL/dp. Throws unless both have the same,
// non-empty shape.
template <class Derived, class TargetDerived>
typename Derived::Scalar mean_squared_error(
    const Eigen::MatrixBase<Derived>& prediction, const Eigen::MatrixBase<TargetDerived>& target,
    Matrix<typename Derived::Scalar>* d_prediction = nullptr) {
  using Scalar = typename Derived::Scalar;
  static_assert(std::is_same_v<Scalar, typename TargetDerived::Scalar>,
                "mean_squared_error: prediction and target must have the same scalar type.");
  if (prediction.size() == 0) {
    detail::throw_invalid("mean_squared_error: prediction is empty (" +
                          detail::shape_string(prediction.rows(), prediction.cols()) +
                          "); expected at least one entry");
  }
  detail::check_shape(target, prediction.rows(), prediction.cols(), "mean_squared_error: target");
  detail::check_finite(prediction, "mean_squared_error: prediction");
  detail::check_finite(target, "mean_squared_error: target");

  const Matrix<Scalar> difference = prediction - target;
  const double count = static_cast<double>(difference.size());
  const double loss = difference.template cast<double>().squaredNorm() / count;
  if (d_prediction != nullptr) *d_prediction = difference * static_cast<Scalar>(2.0 / count);
  return static_cast<Scalar>(loss);
}

// exp(mean cross-entropy in nats): the perplexity of a language model.
inline double perplexity(double mean_cross_entropy_nats) {
  return std::exp(mean_cross_entropy_nats);
}

// Mean cross-entropy in bits, mean_nats / ln 2: bits per character for a character-level
// model.
inline double bits_per_character(double mean_cross_entropy_nats) {
  return mean_cross_entropy_nats / std::numbers::ln2;
}

}  // namespace deeprnn
