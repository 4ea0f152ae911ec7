// deeprnn::Random: a seeded random stream whose values depend only on the seed, with a state
// that a checkpoint can save and restore.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <iterator>
#include <random>
#include <ranges>
#include <sstream>
#include <string>
#include <type_traits>

namespace deeprnn {

// The C++ standard fixes every output of std::mt19937_64 for a given seed, but not the results
// of std::uniform_real_distribution, std::normal_distribution or std::shuffle, which differ
// between standard libraries. Random therefore derives every value from the raw 64-bit outputs
// with its own arithmetic, so a seed gives the same initial weights, dropout masks and batch
// orders with any standard library.
//
// Values are drawn in a fixed order: a function that fills a matrix draws its entries in
// column-major order, one uniform() or normal() per entry.
class Random {
 public:
  static constexpr std::uint64_t default_seed = 5489;

  explicit Random(std::uint64_t seed = default_seed) : engine_(seed) {}

  // Restarts the stream as if newly constructed with `seed`.
  void seed(std::uint64_t seed) {
    engine_.seed(seed);
    has_spare_normal_ = false;
    spare_normal_ = 0.0;
  }

  // Next raw output of the engine, uniform over all 64-bit values.
  std::uint64_t next_bits() { return engine_(); }

  // Uniform on [0, 1): the top 53 bits of one engine output, times 2^-53, so every value is a
  // multiple of 2^-53 and the result is exact in double.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform on [a, b), computed as a + (b - a) * uniform(), so rounding can return b itself.
  // Throws unless a <= b and both are finite.
  double uniform(double a, double b) {
    check_bounds(a, b, "Random::uniform");
    return a + (b - a) * uniform();
  }

  // Normal with the given mean and standard deviation, by the Marsaglia polar method: draw
  // (u, v) uniform on the square [-1, 1)^2 until 0 < s = u^2 + v^2 < 1, then
  //   z1 = u * sqrt(-2 ln(s) / s),   z2 = v * sqrt(-2 ln(s) / s)
  // are independent standard normals. z1 is returned and z2 is kept for the next call.
  // NOTE: std::log is not required to be correctly rounded, so a different math library
  // may change the last bit of a normal value (uniform values are exact everywhere).
  double normal(double mean = 0.0, double stddev = 1.0) {
    check_normal_parameters(mean, stddev, "Random::normal");
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return mean + stddev * spare_normal_;
    }

    double u = 0.0;
    double v = 0.0;
    double s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);

    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_normal_ = v * factor;
    has_spare_normal_ = true;
    return mean + stddev * (u * factor);
  }

  // True with probability p: uniform() < p. Throws unless 0 <= p <= 1.
  bool bernoulli(double p) {
    if (!(p >= 0.0 && p <= 1.0)) {
      detail::throw_invalid("Random::bernoulli: p is " + std::to_string(p) +
                            ", expected a probability in [0, 1]");
    }
    return uniform() < p;
  }

  // Uniform integer in [0, n). Draws r until r >= 2^64 mod n, so that the accepted range is a
  // whole number of copies of [0, n), and returns r mod n without bias. Throws if n is 0.
  std::uint64_t uniform_index(std::uint64_t n) {
    if (n == 0) {
      detail::throw_invalid("Random::uniform_index: n is 0, expected at least 1");
    }
    const std::uint64_t rejected_below = (0 - n) % n;  // 2^64 mod n
    std::uint64_t r = engine_();
    while (r < rejected_below) r = engine_();
    return r % n;
  }

  // Shuffles a random-access range in place (Fisher-Yates): for i = n-1 down to 1, swap
  // element i with element uniform_index(i + 1).
  template <std::ranges::random_access_range Range>
  void shuffle(Range&& range) {
    auto first = std::ranges::begin(range);
    const auto size = static_cast<std::uint64_t>(std::ranges::distance(range));
    for (std::uint64_t i = size; i > 1; --i) {
      const std::uint64_t j = uniform_index(i);
      std::ranges::iter_swap(first + static_cast<std::ptrdiff_t>(i - 1),
                             first + static_cast<std::ptrdiff_t>(j));
    }
  }

  // Fills an Eigen matrix or block with uniform(a, b) values, column by column.
  template <class Dense>
  void fill_uniform(Dense&& m, double a, double b) {
    using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
    check_bounds(a, b, "Random::fill_uniform");
    for (Index j = 0; j < m.cols(); ++j) {
      for (Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<Scalar>(a + (b - a) * uniform());
    }
  }

  // Fills an Eigen matrix or block with normal(mean, stddev) values, column by column.
  template <class Dense>
  void fill_normal(Dense&& m, double mean = 0.0, double stddev = 1.0) {
    using Scalar = typename std::remove_cvref_t<Dense>::Scalar;
    check_normal_parameters(mean, stddev, "Random::fill_normal");
    for (Index j = 0; j < m.cols(); ++j) {
      for (Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<Scalar>(normal(mean, stddev));
    }
  }

  // The whole state as text: a format tag, the normal value kept for the next normal() call
  // (as the bits of the double, so it is restored exactly), then the engine's state in the
  // text form of the standard library's operator<<.
  // NOTE: libstdc++ writes its position in the state array after the 312 state words, a
  // detail other standard libraries need not share, so a state may not restore across them.
  std::string state() const {
    std::ostringstream out;
    out << state_format << ' ' << (has_spare_normal_ ? 1 : 0) << ' '
        << std::bit_cast<std::uint64_t>(spare_normal_) << ' ' << engine_;
    return out.str();
  }

  // Restores a state returned by state(); the stream then continues exactly where it was.
  // Throws if the text is not such a state, and leaves the stream unchanged then.
  void set_state(const std::string& text) {
    std::istringstream in(text);
    std::string format;
    int has_spare = -1;
    std::uint64_t spare_bits = 0;
    std::mt19937_64 engine;
    in >> format >> has_spare >> spare_bits >> engine;
    if (in.fail() || format != state_format || (has_spare != 0 && has_spare != 1) ||
        !(in >> std::ws).eof()) {
      detail::throw_invalid(
          "Random::set_state: the text is not a state written by "
          "Random::state() (expected it to start with \"" +
          std::string(state_format) + "\" followed by the engine state)");
    }
    engine_ = engine;
    has_spare_normal_ = has_spare == 1;
    spare_normal_ = std::bit_cast<double>(spare_bits);
  }

 private:
  static constexpr const char* state_format = "deeprnn.Random.v1";

  static void check_bounds(double a, double b, const char* function) {
    if (!std::isfinite(a) || !std::isfinite(b) || !(a <= b)) {
      detail::throw_invalid(std::string(function) + ": the bounds are [" + std::to_string(a) +
                            ", " + std::to_string(b) + "), expected finite bounds with a <= b");
    }
  }

  static void check_normal_parameters(double mean, double stddev, const char* function) {
    if (!std::isfinite(mean) || !std::isfinite(stddev) || stddev < 0.0) {
      detail::throw_invalid(std::string(function) + ": mean is " + std::to_string(mean) +
                            " and stddev is " + std::to_string(stddev) +
                            ", expected a finite mean and a finite stddev >= 0");
    }
  }

  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace deeprnn
