// Central finite differences for checking hand-written gradients in double precision.
#pragma once

#include <Eigen/Core>
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>

namespace deeprnn::testing {

// Perturbation of the central difference (f(p + h) - f(p - h)) / 2h. Its truncation error is
// O(h^2) ~ 1e-12 and its rounding error about 1e-16 |f| / h ~ 1e-10 |f| for the losses here.
inline constexpr double finite_difference_step = 1e-6;

// Bound on |analytic - numeric| / max(1, |numeric|): far above the error of the difference
// quotient, far below the size of any real gradient mistake.
inline constexpr double finite_difference_tolerance = 1e-6;

// Compares `analytic` with the central difference of `loss()` with respect to every entry of
// `value`, which the caller's loss reads. Reports the first mismatches by name and index and
// fails the test if there is any.
template <class Value, class Analytic, class Loss>
void check_gradient(const std::string& name, Value& value, const Analytic& analytic, Loss&& loss) {
  REQUIRE(analytic.rows() == value.rows());
  REQUIRE(analytic.cols() == value.cols());
  int mismatches = 0;
  std::ostringstream report;
  for (Eigen::Index j = 0; j < value.cols(); ++j) {
    for (Eigen::Index i = 0; i < value.rows(); ++i) {
      const double saved = value(i, j);
      value(i, j) = saved + finite_difference_step;
      const double plus = loss();
      value(i, j) = saved - finite_difference_step;
      const double minus = loss();
      value(i, j) = saved;
      const double numeric = (plus - minus) / (2 * finite_difference_step);
      const double error = std::abs(analytic(i, j) - numeric);
      if (!(error <= finite_difference_tolerance * std::max(1.0, std::abs(numeric)))) {
        if (++mismatches <= 5) {
          report << name << "(" << i << ", " << j << "): analytic " << analytic(i, j)
                 << ", finite difference " << numeric << "\n";
        }
      }
    }
  }
  INFO(report.str());
  CHECK(mismatches == 0);
}

}  // namespace deeprnn::testing
