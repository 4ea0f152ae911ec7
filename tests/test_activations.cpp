// Tests of the element-wise activations in detail/activations.hpp. Errors are measured in ulp
// against tanh and 1 / (1 + exp(-x)) evaluated in long double, on a dense grid, random points,
// tiny and subnormal values, signed zeros, infinities and NaN. The vectorised path, the scalar
// path and the in-place helpers on strided blocks are all checked.
#include <catch2/catch.hpp>
#include <cmath>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/activations.hpp>
#include <limits>
#include <random>
#include <vector>

using namespace deeprnn;

namespace {

template <class T>
using Column = Eigen::Array<T, Eigen::Dynamic, 1>;

// The reference values are only better than the code under test if long double is wider than
// double (x86 80-bit extended, or IEEE quad).
bool long_double_is_wider() { return std::numeric_limits<long double>::digits >= 64; }

long double reference_tanh(long double x) { return std::tanh(x); }

long double reference_sigmoid(long double x) { return 1.0L / (1.0L + std::exp(-x)); }

// |computed - expected| in units in the last place of T at expected. For subnormal expected
// values the unit is T's smallest subnormal.
template <class T>
long double ulp_error(T computed, long double expected) {
  int exponent = 0;
  std::frexp(std::fabs(expected), &exponent);
  const long double ulp = std::max(std::ldexp(1.0L, exponent - std::numeric_limits<T>::digits),
                                   static_cast<long double>(std::numeric_limits<T>::denorm_min()));
  return std::fabs(static_cast<long double>(computed) - expected) / ulp;
}

// A dense grid with step 2^-12 over [-40, 40], uniform random points over [-40, 40] and
// [-1, 1], and magnitudes spread log-uniformly over [1e-300, 40] with both signs.
template <class T>
Column<T> sample_points() {
  std::vector<double> points;
  for (int k = -40 * 4096; k <= 40 * 4096; ++k) points.push_back(std::ldexp(double(k), -12));

  std::mt19937_64 generator(20240611);
  std::uniform_real_distribution<double> wide(-40.0, 40.0);
  std::uniform_real_distribution<double> narrow(-1.0, 1.0);
  std::uniform_real_distribution<double> decimal_exponent(-300.0, std::log10(40.0));
  for (int k = 0; k < 100000; ++k) {
    points.push_back(wide(generator));
    points.push_back(narrow(generator));
    const double magnitude = std::pow(10.0, decimal_exponent(generator));
    points.push_back(k % 2 == 0 ? magnitude : -magnitude);
  }

  Column<T> column(Index(points.size()));
  for (std::size_t k = 0; k < points.size(); ++k) column[Index(k)] = T(points[k]);
  return column;
}

template <class T, class Reference>
long double max_ulp_error(const Column<T>& x, const Column<T>& y, Reference reference) {
  long double worst = 0;
  for (Index k = 0; k < x.size(); ++k) {
    worst = std::max(worst, ulp_error(y[k], reference(static_cast<long double>(x[k]))));
  }
  return worst;
}

}  // namespace

TEST_CASE("tanh double within 2 ulp", "[activations]") {
  if (!long_double_is_wider()) return;
  const Column<double> x = sample_points<double>();

  // Measured maximum: 1.44 ulp, just above |x| = 0.625 where the exp branch starts.
  const Column<double> vectorised = detail::tanh(x);
  CHECK(max_ulp_error(x, vectorised, reference_tanh) <= 2.0L);

  const Column<double> scalar = x.unaryExpr([](double v) { return detail::TanhDouble{}(v); });
  CHECK(max_ulp_error(x, scalar, reference_tanh) <= 2.0L);
}

TEST_CASE("tanh double around the branch limits", "[activations]") {
  if (!long_double_is_wider()) return;
  std::vector<double> points;
  for (double limit :
       {detail::TanhDouble::polynomial_limit, detail::TanhDouble::saturation_limit}) {
    double below = limit;
    double above = limit;
    for (int k = 0; k < 64; ++k) {
      below = std::nextafter(below, 0.0);
      above = std::nextafter(above, 100.0);
      points.insert(points.end(), {below, above, -below, -above});
    }
  }
  const Column<double> x = Eigen::Map<const Column<double>>(points.data(), Index(points.size()));

  const Column<double> y = detail::tanh(x);
  CHECK(max_ulp_error(x, y, reference_tanh) <= 2.0L);
}

TEST_CASE("tanh double special values", "[activations]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double denorm_min = std::numeric_limits<double>::denorm_min();
  Column<double> x(12);
  x << 0.0, -0.0, denorm_min, -denorm_min, 1e-310, 1e-300, inf, -inf,
      std::numeric_limits<double>::quiet_NaN(), 19.1, -1e300, 1e-8;

  // The same values through the vectorised and the scalar path.
  const Column<double> vectorised = detail::tanh(x);
  const Column<double> scalar = x.unaryExpr([](double v) { return detail::TanhDouble{}(v); });
  for (const Column<double>& y : {vectorised, scalar}) {
    CHECK(y[0] == 0.0);
    CHECK_FALSE(std::signbit(y[0]));
    CHECK(y[1] == 0.0);
    CHECK(std::signbit(y[1]));
    // For |x| < 1.2e-8, x^3/3 is below half an ulp of x, so tanh(x) rounds to x.
    CHECK(y[2] == denorm_min);
    CHECK(y[3] == -denorm_min);
    CHECK(y[4] == 1e-310);
    CHECK(y[5] == 1e-300);
    CHECK(y[6] == 1.0);
    CHECK(y[7] == -1.0);
    CHECK(std::isnan(y[8]));
    CHECK(y[9] == 1.0);
    CHECK(y[10] == -1.0);
    CHECK(y[11] == 1e-8);
  }
}

TEST_CASE("sigmoid double within 3 ulp", "[activations]") {
  if (!long_double_is_wider()) return;
  const Column<double> x = sample_points<double>();

  // Measured maximum: 2.5 ulp.
  const Column<double> vectorised = detail::sigmoid(x);
  CHECK(max_ulp_error(x, vectorised, reference_sigmoid) <= 3.0L);

  const Column<double> scalar = x.unaryExpr([](double v) { return detail::Sigmoid<double>{}(v); });
  CHECK(max_ulp_error(x, scalar, reference_sigmoid) <= 3.0L);
}

TEST_CASE("sigmoid double far left within 3 ulp", "[activations]") {
  if (!long_double_is_wider()) return;
  // Down to x = -708, where sigmoid(x) = 3.3e-308 is still a normal number.
  Column<double> x = Column<double>::LinSpaced(100001, -708.0, -40.0);

  const Column<double> y = detail::sigmoid(x);
  CHECK(max_ulp_error(x, y, reference_sigmoid) <= 3.0L);
}

TEST_CASE("sigmoid double special values", "[activations]") {
  const double inf = std::numeric_limits<double>::infinity();
  Column<double> x(9);
  x << 0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(), 1000.0, -709.0, -1000.0,
      std::numeric_limits<double>::denorm_min();

  const Column<double> vectorised = detail::sigmoid(x);
  const Column<double> scalar = x.unaryExpr([](double v) { return detail::Sigmoid<double>{}(v); });
  for (const Column<double>& y : {vectorised, scalar}) {
    CHECK(y[0] == 0.5);
    CHECK(y[1] == 0.5);
    CHECK(y[2] == 1.0);
    CHECK(y[3] == 0.0);
    CHECK(std::isnan(y[4]));
    CHECK(y[5] == 1.0);
    // Below log(DBL_MIN) = -708.4 the result, smaller than DBL_MIN, is flushed to 0.
    CHECK(y[6] == 0.0);
    CHECK(y[7] == 0.0);
    CHECK(y[8] == 0.5);
  }
}

TEST_CASE("tanh float within 7 ulp", "[activations]") {
  if (!long_double_is_wider()) return;
  const Column<float> x = sample_points<float>();

  // Eigen's rational tanh for float, unchanged by this header. Measured maximum: 6.6 ulp with
  // SSE2 only, 4.6 ulp with FMA.
  const Column<float> y = detail::tanh(x);
  CHECK(max_ulp_error(x, y, reference_tanh) <= 7.0L);
}

TEST_CASE("sigmoid float within 3 ulp", "[activations]") {
  if (!long_double_is_wider()) return;
  const Column<float> x = sample_points<float>();

  // Measured maximum: 2.5 ulp. The former 0.5 + 0.5 tanh(x / 2) lost all relative accuracy
  // below x = -17, where 0.5 cancels against 0.5 tanh(x / 2).
  const Column<float> vectorised = detail::sigmoid(x);
  CHECK(max_ulp_error(x, vectorised, reference_sigmoid) <= 3.0L);

  const Column<float> scalar = x.unaryExpr([](float v) { return detail::Sigmoid<float>{}(v); });
  CHECK(max_ulp_error(x, scalar, reference_sigmoid) <= 3.0L);
}

TEST_CASE("sigmoid float special values", "[activations]") {
  const float inf = std::numeric_limits<float>::infinity();
  Column<float> x(6);
  x << 0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), -88.0f, 100.0f;

  const Column<float> y = detail::sigmoid(x);
  CHECK(y[0] == 0.5f);
  CHECK(y[1] == 1.0f);
  CHECK(y[2] == 0.0f);
  CHECK(std::isnan(y[3]));
  // Below log(FLT_MIN) = -87.3 the result, smaller than FLT_MIN, is flushed to 0.
  CHECK(y[4] == 0.0f);
  CHECK(y[5] == 1.0f);
}

TEST_CASE("in-place activations on a block", "[activations]") {
  if (!long_double_is_wider()) return;
  // A 7 x 5 block inside a 10 x 6 matrix: columns that are not a multiple of the packet size
  // and an outer stride, so both the packet loop and the scalar tail run.
  Matrix<double> values(10, 6);
  for (Index c = 0; c < values.cols(); ++c) {
    for (Index r = 0; r < values.rows(); ++r)
      values(r, c) = 0.37 * double(r - 5) + 1.9 * double(c - 3);
  }

  for (const bool use_tanh : {true, false}) {
    Matrix<double> m = values;
    if (use_tanh) {
      detail::tanh_in_place(m.block(2, 1, 7, 5));
    } else {
      detail::sigmoid_in_place(m.block(2, 1, 7, 5));
    }

    for (Index c = 0; c < m.cols(); ++c) {
      for (Index r = 0; r < m.rows(); ++r) {
        const bool inside = r >= 2 && r < 9 && c >= 1 && c < 6;
        const long double x = values(r, c);
        if (!inside) {
          CHECK(m(r, c) == values(r, c));
        } else if (use_tanh) {
          CHECK(ulp_error(m(r, c), reference_tanh(x)) <= 2.0L);
        } else {
          CHECK(ulp_error(m(r, c), reference_sigmoid(x)) <= 3.0L);
        }
      }
    }
  }
}
