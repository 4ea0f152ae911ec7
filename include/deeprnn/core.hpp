// Basic types and the exception every deeprnn function throws on invalid input.
#ifndef DEEPRNN_CORE_HPP
#define DEEPRNN_CORE_HPP

#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <string>

namespace deeprnn {

using Index = Eigen::Index;

// Column-major dynamic matrix. A sequence of T steps over a batch of B samples with F features
// is an F x (T*B) matrix whose column t*B + b is sample b at step t: the same bytes as
// PyTorch's time-major [T, B, F] tensor in row-major order.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

template <class Scalar>
using ConstMatrixRef = Eigen::Ref<const Matrix<Scalar>>;

// Thrown for arguments that do not fit: wrong widths, empty batches, lengths out of range,
// non-finite values. The message names the value found and the value expected.
class invalid_argument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

[[noreturn]] inline void throw_invalid(const std::string& message) {
  throw invalid_argument("deeprnn: " + message);
}

inline std::string shape_string(Index rows, Index cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

// Throws unless `m` is rows x cols; `what` names the argument in the message.
template <class Derived>
void check_shape(const Eigen::EigenBase<Derived>& m, Index rows, Index cols,
                 const std::string& what) {
  if (m.rows() != rows || m.cols() != cols) {
    throw_invalid(what + " has shape " + shape_string(m.rows(), m.cols()) + ", expected " +
                  shape_string(rows, cols));
  }
}

// Throws on the first NaN or infinity in `m`, naming its row and column.
template <class Derived>
void check_finite(const Eigen::DenseBase<Derived>& m, const std::string& what) {
  if (m.allFinite()) return;
  for (Index j = 0; j < m.cols(); ++j) {
    for (Index i = 0; i < m.rows(); ++i) {
      if (!std::isfinite(static_cast<double>(m(i, j)))) {
        throw_invalid(what + " contains the non-finite value " + std::to_string(m(i, j)) +
                      " at row " + std::to_string(i) + ", column " + std::to_string(j) +
                      "; clean or mask the data before the forward pass");
      }
    }
  }
}

}  // namespace detail
}  // namespace deeprnn

#endif  // DEEPRNN_CORE_HPP
