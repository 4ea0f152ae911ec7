// Evaluation metrics: predicted classes, accuracy, a running mean and a confusion matrix.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace deeprnn {

// Index of the largest logit of each column (the first one on ties), as argmax over classes.
template <class Derived>
std::vector<std::int64_t> predicted_classes(const Eigen::MatrixBase<Derived>& logits) {
  if (logits.rows() < 1) {
    detail::throw_invalid("predicted_classes: logits has no rows; expected one per class");
  }
  std::vector<std::int64_t> classes(static_cast<std::size_t>(logits.cols()));
  for (Index b = 0; b < logits.cols(); ++b) {
    Index best = 0;
    logits.col(b).maxCoeff(&best);
    classes[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(best);
  }
  return classes;
}

// Fraction of samples whose largest logit is at their label:
//   accuracy = sum_b w_b [argmax_c z_cb == y_b] / sum_b w_b      (w_b = 1 without weights)
// `weights`, as in softmax_cross_entropy, is empty or one non-negative weight per sample, and
// zero-weight samples (padding) are skipped without reading their label. Throws on an empty
// batch, a label out of range or weights that count no sample.
template <class Derived>
double accuracy(const Eigen::MatrixBase<Derived>& logits, std::span<const std::int64_t> labels,
                std::span<const typename Derived::Scalar> weights = {}) {
  const Index classes = logits.rows();
  const Index batch = logits.cols();
  if (classes < 1 || batch < 1) {
    detail::throw_invalid("accuracy: logits has shape " + detail::shape_string(classes, batch) +
                          ", expected C x B with at least one class and one sample");
  }
  if (static_cast<Index>(labels.size()) != batch) {
    detail::throw_invalid("accuracy: labels has " + std::to_string(labels.size()) +
                          " entries, expected one per sample (" + std::to_string(batch) + ")");
  }
  if (!weights.empty() && static_cast<Index>(weights.size()) != batch) {
    detail::throw_invalid("accuracy: weights has " + std::to_string(weights.size()) +
                          " entries, expected one per sample (" + std::to_string(batch) +
                          ") or none");
  }

  const std::vector<std::int64_t> predicted = predicted_classes(logits);
  double correct = 0.0;
  double counted = 0.0;
  for (std::size_t b = 0; b < labels.size(); ++b) {
    const double w = weights.empty() ? 1.0 : static_cast<double>(weights[b]);
    if (!std::isfinite(w) || w < 0.0) {
      detail::throw_invalid("accuracy: weights[" + std::to_string(b) + "] is " + std::to_string(w) +
                            ", expected a finite value >= 0");
    }
    if (w == 0.0) continue;
    if (labels[b] < 0 || labels[b] >= classes) {
      detail::throw_invalid("accuracy: label " + std::to_string(labels[b]) + " of sample " +
                            std::to_string(b) + " is out of range; expected 0.." +
                            std::to_string(classes - 1));
    }
    counted += w;
    if (predicted[b] == labels[b]) correct += w;
  }
  if (!(counted > 0.0)) {
    detail::throw_invalid("accuracy: every weight is zero, so no sample is counted");
  }
  return correct / counted;
}

// Weighted running mean of values such as per-batch losses:
//   mean = sum_i w_i x_i / sum_i w_i
// Pass the batch size (or the number of counted positions) as the weight to average over
// samples rather than over batches.
class RunningMean {
 public:
  // Adds `value` with weight `weight` (> 0, finite).
  void add(double value, double weight = 1.0) {
    if (!std::isfinite(weight) || weight <= 0.0) {
      detail::throw_invalid("RunningMean::add: weight is " + std::to_string(weight) +
                            ", expected a finite value > 0");
    }
    weighted_sum_ += weight * value;
    total_weight_ += weight;
    ++count_;
  }

  // The mean so far; NaN before the first add().
  double mean() const {
    if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
    return weighted_sum_ / total_weight_;
  }

  double total_weight() const { return total_weight_; }
  std::int64_t count() const { return count_; }

  void reset() { *this = RunningMean(); }

 private:
  double weighted_sum_ = 0.0;
  double total_weight_ = 0.0;
  std::int64_t count_ = 0;
};

// Counts of (true class, predicted class) pairs: counts()(t, p) is the number of samples of
// class t predicted as p, so row t sums to the number of samples of class t.
class ConfusionMatrix {
 public:
  using Counts = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>;

  explicit ConfusionMatrix(Index class_count) {
    if (class_count < 1) {
      detail::throw_invalid("ConfusionMatrix class_count is " + std::to_string(class_count) +
                            ", expected at least 1");
    }
    counts_ = Counts::Zero(class_count, class_count);
  }

  Index class_count() const { return counts_.rows(); }
  const Counts& counts() const { return counts_; }

  // Counts one sample of class `true_class` predicted as `predicted_class`.
  void add(std::int64_t true_class, std::int64_t predicted_class) {
    check_class(true_class, "true_class");
    check_class(predicted_class, "predicted_class");
    ++counts_(static_cast<Index>(true_class), static_cast<Index>(predicted_class));
  }

  // Counts every sample of a batch: C x B logits (predicted class = argmax) against B labels.
  template <class Derived>
  void add(const Eigen::MatrixBase<Derived>& logits, std::span<const std::int64_t> labels) {
    if (logits.rows() != class_count()) {
      detail::throw_invalid("ConfusionMatrix::add: logits has " + std::to_string(logits.rows()) +
                            " rows, expected one per class (" + std::to_string(class_count()) +
                            ")");
    }
    if (static_cast<Index>(labels.size()) != logits.cols()) {
      detail::throw_invalid("ConfusionMatrix::add: labels has " + std::to_string(labels.size()) +
                            " entries, expected one per logits column (" +
                            std::to_string(logits.cols()) + ")");
    }
    for (const std::int64_t label : labels) check_class(label, "label");
    const std::vector<std::int64_t> predicted = predicted_classes(logits);
    for (std::size_t b = 0; b < labels.size(); ++b) add(labels[b], predicted[b]);
  }

  std::int64_t total() const { return counts_.sum(); }

  // Correct predictions over all samples: trace / total. NaN before any sample is counted.
  double accuracy() const {
    if (total() == 0) return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>(counts_.trace()) / static_cast<double>(total());
  }

  // Recall of each class: counts(c, c) / (samples of class c). NaN for a class without
  // samples, because its recall is undefined.
  std::vector<double> recall() const {
    std::vector<double> result(static_cast<std::size_t>(class_count()));
    for (Index c = 0; c < class_count(); ++c) {
      const std::int64_t samples = counts_.row(c).sum();
      result[static_cast<std::size_t>(c)] =
          samples == 0 ? std::numeric_limits<double>::quiet_NaN()
                       : static_cast<double>(counts_(c, c)) / static_cast<double>(samples);
    }
    return result;
  }

  void reset() { counts_.setZero(); }

 private:
  void check_class(std::int64_t value, const char* what) const {
    if (value < 0 || value >= class_count()) {
      detail::throw_invalid("ConfusionMatrix: " + std::string(what) + " " + std::to_string(value) +
                            " is out of range; expected 0.." + std::to_string(class_count() - 1));
    }
  }

  Counts counts_;
};

}  // namespace deeprnn
