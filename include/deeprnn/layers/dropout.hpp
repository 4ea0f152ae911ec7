// Dropout and SpatialDropout1D: inverted dropout, as PyTorch nn.Dropout and Keras Dropout /
// SpatialDropout1D.
#pragma once

#include <cmath>
#include <deeprnn/core.hpp>
#include <deeprnn/random.hpp>
#include <string>

namespace deeprnn {

namespace detail {

// Throws unless 0 <= rate < 1; a rate of 1 would drop everything and divide by zero.
inline void check_dropout_rate(double rate, const char* layer) {
  if (!(rate >= 0.0 && rate < 1.0)) {
    throw_invalid(std::string(layer) + " rate is " + std::to_string(rate) +
                  ", expected a probability in [0, 1)");
  }
}

// Fills `mask` with 0 (dropped, probability `rate`) or 1 / (1 - rate) (kept), column by
// column, one Random::uniform() per entry: an entry is dropped when the draw is below rate.
template <class Scalar>
void draw_dropout_mask(Matrix<Scalar>& mask, Index rows, Index cols, double rate, Random& random) {
  const auto kept = static_cast<Scalar>(1.0 / (1.0 - rate));
  mask.resize(rows, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) mask(i, j) = random.uniform() < rate ? Scalar(0) : kept;
  }
}

}  // namespace detail

// Training: y = x * m element-wise, with m = 0 (probability rate) or 1 / (1 - rate), so that
// E[y] = x. Not training, or rate 0: y = x, and no random value is drawn.
// Backward: dx = dy * m (dx = dy when the forward pass was the identity).
template <class Scalar_>
class Dropout {
 public:
  using Scalar = Scalar_;

  // Whether forward() drops entries; evaluation code sets it to false.
  bool training = true;

  explicit Dropout(double rate) : rate_(rate) { detail::check_dropout_rate(rate, "Dropout"); }

  double rate() const { return rate_; }

  // Returns the masked copy of x (any shape) and keeps the mask for backward(). The mask
  // entries come from `random` in column-major order.
  const Matrix<Scalar>& forward(const ConstMatrixRef<Scalar>& x, Random& random) {
    if (x.size() == 0) {
      detail::throw_invalid("Dropout::forward: x is empty (" +
                            detail::shape_string(x.rows(), x.cols()) +
                            "); expected at least one entry");
    }
    output_ = x;
    masked_ = training && rate_ > 0.0;
    if (masked_) {
      detail::draw_dropout_mask(mask_, x.rows(), x.cols(), rate_, random);
      output_.array() *= mask_.array();
    } else {
      mask_.resize(0, 0);
    }
    return output_;
  }

  // Returns dx = dy * m for the mask of the last forward().
  const Matrix<Scalar>& backward(const ConstMatrixRef<Scalar>& d_output) {
    if (output_.size() == 0) {
      detail::throw_invalid("Dropout::backward was called before forward()");
    }
    detail::check_shape(d_output, output_.rows(), output_.cols(), "Dropout::backward: d_output");
    input_gradient_ = d_output;
    if (masked_) input_gradient_.array() *= mask_.array();
    return input_gradient_;
  }

  // Mask of the last forward(), entries 0 or 1 / (1 - rate); empty when it was the identity.
  const Matrix<Scalar>& mask() const { return mask_; }

  // Dropout has no parameters; these keep the interface of the other layers.
  void zero_gradients() {}
  template <class Visitor>
  void for_each_parameter(Visitor&&) {}

 private:
  double rate_;
  bool masked_ = false;
  Matrix<Scalar> mask_;
  Matrix<Scalar> output_;
  Matrix<Scalar> input_gradient_;
};

// Dropout of whole feature channels of a sequence, as Keras SpatialDropout1D: for x of
// F x (T*B), one mask entry m(f, b) per feature and sample, reused at every step:
//   y(f, t*B + b) = x(f, t*B + b) * m(f, b),  m = 0 (probability rate) or 1 / (1 - rate).
// Not training, or rate 0: y = x. Backward: dx(f, t*B + b) = dy(f, t*B + b) * m(f, b).
template <class Scalar_>
class SpatialDropout1D {
 public:
  using Scalar = Scalar_;

  // Whether forward() drops channels; evaluation code sets it to false.
  bool training = true;

  explicit SpatialDropout1D(double rate) : rate_(rate) {
    detail::check_dropout_rate(rate, "SpatialDropout1D");
  }

  double rate() const { return rate_; }

  // Returns the masked copy of the sequence x (F x T*B) and keeps the mask for backward().
  // The F x B mask entries come from `random` in column-major order: sample by sample,
  // features first.
  const Matrix<Scalar>& forward(const ConstMatrixRef<Scalar>& x, Index batch_size, Random& random) {
    check_sequence(x, batch_size);
    output_ = x;
    batch_ = batch_size;
    masked_ = training && rate_ > 0.0;
    if (masked_) {
      detail::draw_dropout_mask(mask_, x.rows(), batch_size, rate_, random);
      apply_mask(output_);
    } else {
      mask_.resize(0, 0);
    }
    return output_;
  }

  // Returns dx = dy * m, with the mask of the last forward() repeated at every step.
  const Matrix<Scalar>& backward(const ConstMatrixRef<Scalar>& d_output) {
    if (output_.size() == 0) {
      detail::throw_invalid("SpatialDropout1D::backward was called before forward()");
    }
    detail::check_shape(d_output, output_.rows(), output_.cols(),
                        "SpatialDropout1D::backward: d_output");
    input_gradient_ = d_output;
    if (masked_) apply_mask(input_gradient_);
    return input_gradient_;
  }

  // Mask of the last forward(), F x B with entries 0 or 1 / (1 - rate); empty when it was
  // the identity.
  const Matrix<Scalar>& mask() const { return mask_; }

  // SpatialDropout1D has no parameters; these keep the interface of the other layers.
  void zero_gradients() {}
  template <class Visitor>
  void for_each_parameter(Visitor&&) {}

 private:
  static void check_sequence(const ConstMatrixRef<Scalar>& x, Index batch_size) {
    if (batch_size < 1) {
      detail::throw_invalid("SpatialDropout1D::forward: batch_size is " +
                            std::to_string(batch_size) + ", expected at least 1");
    }
    if (x.rows() == 0 || x.cols() == 0) {
      detail::throw_invalid("SpatialDropout1D::forward: x is empty (" +
                            detail::shape_string(x.rows(), x.cols()) +
                            "); expected F x T*batch_size with F, T >= 1");
    }
    if (x.cols() % batch_size != 0) {
      detail::throw_invalid("SpatialDropout1D::forward: x has " + std::to_string(x.cols()) +
                            " columns, which is not a multiple of batch_size = " +
                            std::to_string(batch_size) + "; expected T * batch_size columns");
    }
  }

  // Multiplies each block of B columns (one time step) by the F x B mask.
  void apply_mask(Matrix<Scalar>& m) const {
    const Index steps = m.cols() / batch_;
    for (Index t = 0; t < steps; ++t) m.middleCols(t * batch_, batch_).array() *= mask_.array();
  }

  double rate_;
  bool masked_ = false;
  Index batch_ = 0;
  Matrix<Scalar> mask_;
  Matrix<Scalar> output_;
  Matrix<Scalar> input_gradient_;
};

}  // namespace deeprnn
