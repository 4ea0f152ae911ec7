// Element-wise activations as Eigen array expressions, and applied in place to matrices or blocks.
#pragma once

// clang-format off: the check must come before any other include.
#include "header_check.hpp"
// clang-format on

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

namespace deeprnn::detail {

// tanh for double through Eigen's packet math, because Eigen 3.4 vectorises tanh only for float
// and sends double to libm one element at a time. With a = |x| and u = a^2:
//   a < 0.625:  tanh(a) = a + a u R(u),  R(u) = (tanh(sqrt u) - sqrt u) / u^(3/2) as a polynomial
//   a >= 0.625: tanh(a) = 1 - 2 / (exp(2 min(a, 19.1)) + 1)
// and tanh(x) = sign(x) tanh(a), NaN in gives NaN out. The polynomial branch avoids the
// cancellation of 1 - 2 / (exp(2a) + 1) near 0. Above 19.1, 1 - tanh(a) < 2^-54 and tanh rounds
// to 1, so the clamp changes no result and keeps exp finite.
struct TanhDouble {
  static constexpr double polynomial_limit = 0.625;
  static constexpr double saturation_limit = 19.1;

  // R on [0, 0.625^2]: the degree-11 polynomial through R at the 12 Chebyshev nodes, computed in
  // 80-digit arithmetic (mpmath). With its coefficients rounded to double, it changes tanh by
  // less than 1e-17 relative (checked at 2000 points of the interval).
  static constexpr std::array<double, 12> coefficients = {
      -0.3333333333333333,    0.13333333333333042,   -0.05396825396789699,   0.021869488519008305,
      -0.008863235103240878,  0.0035921217511549622, -0.0014557754120478055, 0.0005896606577757043,
      -0.0002375906496055562, 9.257116129556769e-05, -3.12011014257974e-05,  6.485163482793113e-06};

  // Elements left out of packets go through the same steps, with Eigen's scalar versions of the
  // packet functions (std::exp in place of the vectorised exp, so results can differ by an ulp).
  double operator()(double x) const { return packetOp(x); }

  template <class Packet>
  Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(1.0);
    const Packet a = pabs(x);

    const Packet u = pmul(a, a);
    Packet r = pset1<Packet>(coefficients.back());
    for (int k = int(coefficients.size()) - 2; k >= 0; --k) {
      r = pmadd(r, u, pset1<Packet>(coefficients[k]));
    }
    const Packet tanh_small = pmadd(a, pmul(u, r), a);

    const Packet e = pexp(pmul(pset1<Packet>(2.0), pmin(a, pset1<Packet>(saturation_limit))));
    const Packet tanh_large = psub(one, pdiv(pset1<Packet>(2.0), padd(e, one)));

    // tanh(a) >= +0, so or-ing in the sign bit of x gives sign(x) tanh(a), also for x = -0.
    const Packet tanh_a =
        pselect(pcmp_lt(a, pset1<Packet>(polynomial_limit)), tanh_small, tanh_large);
    const Packet tanh_x = por(tanh_a, pand(x, pset1<Packet>(-0.0)));

    // Eigen does not promise that pmin and pexp propagate NaN, so NaN inputs are returned here.
    return pselect(pcmp_eq(x, x), tanh_x, x);
  }
};

// sigmoid(x) = 1 / (1 + exp(-x)), computed from e = exp(-|x|) in (0, 1] so that exp never
// overflows:
//   x >= 0: 1 / (1 + e)      x < 0: e / (1 + e)
// Results below the smallest normal number (x below log(min) = -708.4 for double, -87.3 for
// float) are flushed to 0. Eigen 3.4's vectorised exp clamps its argument at -709.78 (double)
// and -88.72 (float), so it cannot give those results anyway. NaN in gives NaN out.
template <class Scalar>
struct Sigmoid {
  // Natural logarithm of the smallest normal number, below which results are flushed to 0.
  static inline const Scalar log_min = std::log(std::numeric_limits<Scalar>::min());

  Scalar operator()(Scalar x) const { return packetOp(x); }

  template <class Packet>
  Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    const Packet one = pset1<Packet>(Scalar(1));
    const Packet e = pexp(pnegate(pabs(x)));
    const Packet numerator = pselect(pcmp_lt(x, pzero(x)), e, one);
    const Packet sigmoid = pdiv(numerator, padd(one, e));
    const Packet flushed = pselect(pcmp_lt(x, pset1<Packet>(log_min)), pzero(x), sigmoid);
    return pselect(pcmp_eq(x, x), flushed, x);
  }
};

}  // namespace deeprnn::detail

namespace Eigen::internal {

template <>
struct functor_traits<deeprnn::detail::TanhDouble> {
  enum {
    Cost = functor_traits<scalar_exp_op<double>>::Cost + 16 * NumTraits<double>::MulCost +
           scalar_div_cost<double, true>::value,
    PacketAccess = packet_traits<double>::HasExp && packet_traits<double>::HasDiv,
  };
};

template <class Scalar>
struct functor_traits<deeprnn::detail::Sigmoid<Scalar>> {
  enum {
    Cost = functor_traits<scalar_exp_op<Scalar>>::Cost + 4 * NumTraits<Scalar>::AddCost +
           scalar_div_cost<Scalar, true>::value,
    PacketAccess = packet_traits<Scalar>::HasExp && packet_traits<Scalar>::HasDiv,
  };
};

}  // namespace Eigen::internal

namespace deeprnn::detail {

// The expression tanh(x): vectorised through TanhDouble for double, Eigen's tanh otherwise
// (vectorised for float).
template <class Derived>
auto tanh(const Eigen::ArrayBase<Derived>& x) {
  if constexpr (std::is_same_v<typename Derived::Scalar, double>) {
    return x.unaryExpr(TanhDouble{});
  } else {
    return x.tanh();
  }
}

// The expression sigmoid(x), vectorised where Eigen has a vectorised exp.
template <class Derived>
auto sigmoid(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(Sigmoid<typename Derived::Scalar>{});
}

// The calls below are qualified because argument-dependent lookup also finds Eigen::tanh.
template <class Dense>
void sigmoid_in_place(Dense&& x) {
  x.array() = detail::sigmoid(x.array());
}

template <class Dense>
void tanh_in_place(Dense&& x) {
  x.array() = detail::tanh(x.array());
}

template <class Dense>
void relu_in_place(Dense&& x) {
  using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
  x.array() = x.array().max(Scalar(0));
}

}  // namespace deeprnn::detail
