// Tests of deeprnn::Random: values derived by hand from the raw std::mt19937_64 stream,
// determinism by seed, and state save and restore.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/random.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using deeprnn::Random;

TEST_CASE("Random raw bits follow std::mt19937_64", "[random]") {
  // The C++ standard requires the 10000th output of a default-seeded mt19937_64 to be
  // 9981545732273789042; Random's default seed is the same 5489.
  Random random;
  std::uint64_t bits = 0;
  for (int i = 0; i < 10000; ++i) bits = random.next_bits();
  CHECK(bits == 9981545732273789042ULL);
}

TEST_CASE("Random uniform uses the top 53 bits", "[random]") {
  Random random(42);
  std::mt19937_64 engine(42);
  for (int i = 0; i < 1000; ++i) {
    const double expected = std::ldexp(static_cast<double>(engine() >> 11), -53);
    const double value = random.uniform();
    REQUIRE(value == expected);
    REQUIRE(value >= 0.0);
    REQUIRE(value < 1.0);
  }
}

TEST_CASE("Random uniform on an interval", "[random]") {
  Random random(7);
  std::mt19937_64 engine(7);
  for (int i = 0; i < 1000; ++i) {
    const double u = std::ldexp(static_cast<double>(engine() >> 11), -53);
    const double value = random.uniform(-0.25, 0.75);
    REQUIRE(value == -0.25 + 1.0 * u);
  }
  CHECK(random.uniform(3.0, 3.0) == 3.0);
  CHECK_THROWS_AS(random.uniform(1.0, 0.0), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.uniform(0.0, INFINITY), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(random.uniform(1.0, 0.0), Catch::Contains("a <= b"));
}

TEST_CASE("Random normal follows the polar method", "[random]") {
  Random random(3);
  std::mt19937_64 engine(3);
  auto next_uniform = [&] { return std::ldexp(static_cast<double>(engine() >> 11), -53); };
  for (int pair = 0; pair < 200; ++pair) {
    double u = 0.0;
    double v = 0.0;
    double s = 0.0;
    do {
      u = 2.0 * next_uniform() - 1.0;
      v = 2.0 * next_uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    REQUIRE(random.normal() == u * factor);
    REQUIRE(random.normal(1.0, 2.0) == 1.0 + 2.0 * (v * factor));
  }
}

TEST_CASE("Random normal has unit moments", "[random]") {
  // Over n = 200000 draws the sample mean has standard error 1/sqrt(n) ~ 0.0022 and the
  // sample variance about sqrt(2/n) ~ 0.0032: the bounds are more than five of those.
  Random random(11);
  const int n = 200000;
  double sum = 0.0;
  double sum_squares = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z = random.normal();
    sum += z;
    sum_squares += z * z;
  }
  const double mean = sum / n;
  const double variance = sum_squares / n - mean * mean;
  CHECK(std::abs(mean) < 0.012);
  CHECK(std::abs(variance - 1.0) < 0.02);
}

TEST_CASE("Random normal rejects bad parameters", "[random]") {
  Random random;
  CHECK_THROWS_AS(random.normal(0.0, -1.0), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.normal(NAN, 1.0), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(random.normal(0.0, -1.0), Catch::Contains("stddev >= 0"));
}

TEST_CASE("Random bernoulli", "[random]") {
  Random random(5);
  std::mt19937_64 engine(5);
  for (int i = 0; i < 1000; ++i) {
    const double u = std::ldexp(static_cast<double>(engine() >> 11), -53);
    REQUIRE(random.bernoulli(0.3) == (u < 0.3));
  }
  for (int i = 0; i < 1000; ++i) {
    REQUIRE_FALSE(random.bernoulli(0.0));
    REQUIRE(random.bernoulli(1.0));
  }
  CHECK_THROWS_AS(random.bernoulli(1.5), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.bernoulli(-0.1), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.bernoulli(NAN), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(random.bernoulli(1.5), Catch::Contains("1.5"));
}

TEST_CASE("Random uniform_index", "[random]") {
  Random random(9);
  SECTION("matches modulo with rejection by hand") {
    // For n = 6, 2^64 mod 6 = 4, so raw values 0..3 are rejected. None of the first
    // thousand outputs is that small, so each index is the raw value mod 6.
    std::mt19937_64 engine(9);
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t raw = engine();
      REQUIRE(raw >= 4);
      REQUIRE(random.uniform_index(6) == raw % 6);
    }
  }
  SECTION("n = 1 always gives 0") {
    for (int i = 0; i < 100; ++i) REQUIRE(random.uniform_index(1) == 0);
  }
  SECTION("counts are close to uniform") {
    // 70000 draws over 7 values: each count is binomial with mean 10000 and standard
    // deviation about 92; the bound is more than six of those.
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) ++counts[random.uniform_index(7)];
    for (int count : counts) CHECK(std::abs(count - 10000) < 600);
  }
  SECTION("n = 0 throws") {
    CHECK_THROWS_AS(random.uniform_index(0), deeprnn::invalid_argument);
    CHECK_THROWS_WITH(random.uniform_index(0), Catch::Contains("at least 1"));
  }
}

TEST_CASE("Random shuffle is Fisher-Yates", "[random]") {
  Random random(21);
  std::mt19937_64 engine(21);
  std::vector<int> values{0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<int> expected = values;
  // By hand: for i = 7 down to 1, swap element i with element (raw mod (i + 1)). Rejection
  // only happens for raw values below 2^64 mod (i + 1) <= 7, which the REQUIRE rules out.
  for (int i = 7; i >= 1; --i) {
    const std::uint64_t raw = engine();
    REQUIRE(raw >= 8);
    std::swap(expected[i], expected[raw % (i + 1)]);
  }
  random.shuffle(values);
  CHECK(values == expected);

  std::vector<int> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(8);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);

  std::vector<int> empty;
  random.shuffle(empty);
  CHECK(empty.empty());
}

TEST_CASE("Random is deterministic by seed", "[random]") {
  Random first(1234);
  Random second(1234);
  Random other(1235);
  int differences = 0;
  for (int i = 0; i < 100; ++i) {
    const double a = first.normal();
    REQUIRE(a == second.normal());
    if (a != other.normal()) ++differences;
  }
  CHECK(differences == 100);

  first.seed(99);
  Random fresh(99);
  CHECK(first.uniform() == fresh.uniform());
}

TEST_CASE("Random state restores the stream exactly", "[random]") {
  Random random(77);
  for (int i = 0; i < 1000; ++i) random.uniform();
  // An odd number of normal() calls leaves a kept value, which the state must carry.
  random.normal();
  const std::string saved = random.state();

  std::vector<double> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(random.normal());
  for (int i = 0; i < 50; ++i) expected.push_back(random.uniform());

  Random restored(1);
  restored.set_state(saved);
  for (int i = 0; i < 50; ++i) REQUIRE(restored.normal() == expected[i]);
  for (int i = 50; i < 100; ++i) REQUIRE(restored.uniform() == expected[i]);

  random.set_state(saved);
  CHECK(random.normal() == expected[0]);
}

TEST_CASE("Random set_state rejects other text", "[random]") {
  Random random(5);
  const double next = Random(5).uniform();
  CHECK_THROWS_AS(random.set_state("not a state"), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.set_state(""), deeprnn::invalid_argument);
  const std::string valid = random.state();
  CHECK_THROWS_AS(random.set_state(valid + " 17"), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.set_state(valid.substr(0, valid.size() / 2)), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(random.set_state("x"), Catch::Contains("Random::state()"));
  // A failed restore leaves the stream where it was.
  CHECK(random.uniform() == next);
}

TEST_CASE("Random fills matrices column by column", "[random]") {
  Random random(8);
  Random reference(8);
  deeprnn::Matrix<float> m(2, 3);
  random.fill_uniform(m, -1.0, 1.0);
  for (deeprnn::Index j = 0; j < 3; ++j) {
    for (deeprnn::Index i = 0; i < 2; ++i) {
      REQUIRE(m(i, j) == static_cast<float>(reference.uniform(-1.0, 1.0)));
    }
  }
  deeprnn::Matrix<double> n(3, 2);
  random.fill_normal(n.block(1, 0, 2, 2), 0.0, 0.5);
  CHECK(n(1, 0) == reference.normal(0.0, 0.5));
  CHECK(n(2, 0) == reference.normal(0.0, 0.5));
  CHECK(n(1, 1) == reference.normal(0.0, 0.5));
  CHECK(n(2, 1) == reference.normal(0.0, 0.5));
  CHECK_THROWS_AS(random.fill_uniform(m, 1.0, -1.0), deeprnn::invalid_argument);
  CHECK_THROWS_AS(random.fill_normal(n, 0.0, -1.0), deeprnn::invalid_argument);
}
