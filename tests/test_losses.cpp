// Tests of softmax cross-entropy and mean squared error: values worked out by hand, gradients
// against central finite differences, and input checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/random.hpp>
#include <deeprnn/train/losses.hpp>
#include <limits>
#include <vector>

#include "support/gradient_check.hpp"

using namespace deeprnn;
using deeprnn::testing::check_gradient;

namespace {

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Random random(seed);
  Matrix<double> m(rows, cols);
  random.fill_uniform(m, -2.0, 2.0);
  return m;
}

}  // namespace

TEST_CASE("softmax cross-entropy by hand", "[losses]") {
  // Column 0: equal logits, so p = (1/3, 1/3, 1/3); label 1 gives l = ln 3.
  // Column 1: logits (0, ln 3, ln 4), so p = (1/8, 3/8, 4/8); label 2 gives l = ln 2.
  Matrix<double> logits(3, 2);
  logits << 0.0, 0.0,      //
      0.0, std::log(3.0),  //
      0.0, std::log(4.0);
  const std::vector<std::int64_t> labels{1, 2};
  Matrix<double> d_logits = Matrix<double>::Constant(3, 2, std::nan(""));
  const double loss = softmax_cross_entropy(logits, labels, &d_logits);
  CHECK(loss == Approx((std::log(3.0) + std::log(2.0)) / 2).epsilon(1e-15));

  // dL/dz = (p - onehot) / B with B = 2.
  Matrix<double> expected(3, 2);
  expected << 1.0 / 6, 1.0 / 16,      //
      (1.0 / 3 - 1.0) / 2, 3.0 / 16,  //
      1.0 / 6, (0.5 - 1.0) / 2;
  CHECK((d_logits - expected).cwiseAbs().maxCoeff() < 1e-15);

  // Without a gradient buffer the loss is the same.
  CHECK(softmax_cross_entropy(logits, labels) == loss);
}

TEST_CASE("softmax cross-entropy is stable for large logits", "[losses]") {
  // Logits (1000, 1001): exp overflows without the max shift. With label 1,
  // l = log(e^1000 + e^1001) - 1001 = log(1 + e^-1).
  Matrix<double> logits(2, 1);
  logits << 1000.0, 1001.0;
  const std::vector<std::int64_t> labels{1};
  Matrix<double> d_logits;
  const double loss = softmax_cross_entropy(logits, labels, &d_logits);
  CHECK(loss == Approx(std::log1p(std::exp(-1.0))).epsilon(1e-13));
  const double p0 = 1.0 / (1.0 + std::exp(1.0));
  CHECK(d_logits(0, 0) == Approx(p0).epsilon(1e-13));
  CHECK(d_logits(1, 0) == Approx(-p0).epsilon(1e-13));

  Matrix<float> float_logits(2, 1);
  float_logits << -500.0f, 500.0f;
  Matrix<float> float_gradient;
  const float float_loss = softmax_cross_entropy(float_logits, labels, &float_gradient);
  CHECK(std::isfinite(float_loss));
  CHECK(float_loss == 0.0f);
  CHECK(float_gradient.allFinite());
}

TEST_CASE("softmax cross-entropy gradient matches finite differences", "[losses]") {
  Matrix<double> logits = random_matrix(5, 4, 1);
  const std::vector<std::int64_t> labels{3, 0, 4, 4};
  SECTION("mean over the batch") {
    Matrix<double> d_logits;
    softmax_cross_entropy(logits, labels, &d_logits);
    check_gradient("logits", logits, d_logits,
                   [&] { return softmax_cross_entropy(logits, labels); });
  }
  SECTION("weighted mean") {
    const std::vector<double> weights{0.5, 2.0, 0.0, 1.5};
    Matrix<double> d_logits;
    softmax_cross_entropy(logits, labels, &d_logits, std::span<const double>(weights));
    check_gradient("logits", logits, d_logits, [&] {
      return softmax_cross_entropy(logits, labels, nullptr, std::span<const double>(weights));
    });
  }
}

TEST_CASE("softmax cross-entropy masks padded positions", "[losses]") {
  // Mask (1, 0, 1): the loss is the mean of samples 0 and 2, the padded sample gets a zero
  // gradient, and its label (-1) is not read.
  const Matrix<double> logits = random_matrix(4, 3, 2);
  const std::vector<std::int64_t> labels{2, -1, 0};
  const std::vector<double> mask{1.0, 0.0, 1.0};
  Matrix<double> d_logits;
  const double loss = softmax_cross_entropy(logits, labels, &d_logits, std::span(mask));

  const Matrix<double> counted_logits = logits(Eigen::all, std::vector<Index>{0, 2});
  const std::vector<std::int64_t> counted_labels{2, 0};
  Matrix<double> counted_gradient;
  const double counted_loss =
      softmax_cross_entropy(counted_logits, counted_labels, &counted_gradient);
  CHECK(loss == Approx(counted_loss).epsilon(1e-15));
  CHECK(d_logits.col(1).isZero(0.0));
  CHECK((d_logits.col(0) - counted_gradient.col(0)).cwiseAbs().maxCoeff() < 1e-16);
  CHECK((d_logits.col(2) - counted_gradient.col(1)).cwiseAbs().maxCoeff() < 1e-16);
}

TEST_CASE("softmax cross-entropy float matches double", "[losses]") {
  const Matrix<double> logits = random_matrix(6, 5, 3);
  const std::vector<std::int64_t> labels{0, 5, 2, 2, 1};
  Matrix<double> d_double;
  Matrix<float> d_float;
  const double loss_double = softmax_cross_entropy(logits, labels, &d_double);
  const Matrix<float> float_logits = logits.cast<float>();
  const float loss_float = softmax_cross_entropy(float_logits, labels, &d_float);
  CHECK(std::abs(loss_float - loss_double) < 1e-6);
  CHECK((d_float.cast<double>() - d_double).cwiseAbs().maxCoeff() < 1e-6);
}

TEST_CASE("softmax cross-entropy rejects invalid input", "[losses][errors]") {
  const Matrix<double> logits = Matrix<double>::Zero(3, 2);
  const std::vector<std::int64_t> labels{0, 1};
  CHECK_THROWS_WITH(softmax_cross_entropy(Matrix<double>(3, 0), std::vector<std::int64_t>{}),
                    Catch::Contains("expected C x B with at least one class and one sample"));
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, std::vector<std::int64_t>{0}),
                    Catch::Contains("labels has 1 entries, expected one per sample (2)"));
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, std::vector<std::int64_t>{0, 3}),
                    Catch::Contains("label 3 of sample 1 is out of range; expected 0..2"));
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, std::vector<std::int64_t>{-1, 0}),
                    Catch::Contains("label -1 of sample 0"));

  const std::vector<double> short_weights{1.0};
  CHECK_THROWS_WITH(
      softmax_cross_entropy(logits, labels, nullptr, std::span<const double>(short_weights)),
      Catch::Contains("weights has 1 entries"));
  const std::vector<double> negative_weights{1.0, -1.0};
  CHECK_THROWS_WITH(
      softmax_cross_entropy(logits, labels, nullptr, std::span<const double>(negative_weights)),
      Catch::Contains("weights[1] is -1"));
  const std::vector<double> zero_weights{0.0, 0.0};
  CHECK_THROWS_WITH(
      softmax_cross_entropy(logits, labels, nullptr, std::span<const double>(zero_weights)),
      Catch::Contains("no sample is counted"));

  Matrix<double> bad_logits = logits;
  bad_logits(2, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(softmax_cross_entropy(bad_logits, labels), Catch::Contains("non-finite"));
}

TEST_CASE("mean squared error by hand", "[losses]") {
  // Differences (1, 2; 0, 3) in column-major order: squares 1 + 0 + 4 + 9 = 14 over N = 4.
  Matrix<double> prediction(2, 2);
  prediction << 1.0, 3.0,  //
      2.0, 4.0;
  Matrix<double> target(2, 2);
  target << 0.0, 1.0,  //
      2.0, 1.0;
  Matrix<double> d_prediction;
  CHECK(mean_squared_error(prediction, target, &d_prediction) == 3.5);
  // dL/dp = 2 (p - t) / 4.
  Matrix<double> expected(2, 2);
  expected << 0.5, 1.0,  //
      0.0, 1.5;
  CHECK(d_prediction == expected);
}

TEST_CASE("mean squared error gradient matches finite differences", "[losses]") {
  Matrix<double> prediction = random_matrix(3, 4, 4);
  const Matrix<double> target = random_matrix(3, 4, 5);
  Matrix<double> d_prediction;
  mean_squared_error(prediction, target, &d_prediction);
  check_gradient("prediction", prediction, d_prediction,
                 [&] { return mean_squared_error(prediction, target); });
}

TEST_CASE("mean squared error in float", "[losses]") {
  const Matrix<float> prediction = Matrix<float>::Constant(2, 3, 1.5f);
  const Matrix<float> target = Matrix<float>::Ones(2, 3);
  Matrix<float> d_prediction;
  CHECK(mean_squared_error(prediction, target, &d_prediction) == 0.25f);
  CHECK(d_prediction.isApprox(Matrix<float>::Constant(2, 3, 1.0f / 6.0f)));
}

TEST_CASE("mean squared error rejects invalid input", "[losses][errors]") {
  CHECK_THROWS_WITH(mean_squared_error(Matrix<double>(0, 2), Matrix<double>(0, 2)),
                    Catch::Contains("prediction is empty"));
  CHECK_THROWS_WITH(mean_squared_error(Matrix<double>::Zero(2, 2), Matrix<double>::Zero(2, 3)),
                    Catch::Contains("target has shape 2 x 3, expected 2 x 2"));
  Matrix<double> target = Matrix<double>::Zero(2, 2);
  target(0, 1) = std::nan("");
  CHECK_THROWS_WITH(mean_squared_error(Matrix<double>::Zero(2, 2), target),
                    Catch::Contains("non-finite"));
}

TEST_CASE("perplexity and bits per character", "[losses]") {
  CHECK(perplexity(std::log(5.0)) == Approx(5.0).epsilon(1e-15));
  CHECK(perplexity(0.0) == 1.0);
  CHECK(bits_per_character(3.0 * std::log(2.0)) == Approx(3.0).epsilon(1e-15));
  // Uniform prediction over 81 characters: ln 81 nats = log2 81 bits, perplexity 81.
  CHECK(bits_per_character(std::log(81.0)) == Approx(std::log2(81.0)).epsilon(1e-15));
  CHECK(perplexity(std::log(81.0)) == Approx(81.0).epsilon(1e-14));
}
