// Tests of Dense, Embedding, Dropout and SpatialDropout1D: forward values worked out by hand,
// gradients against central finite differences in double, and input checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/layers/dense.hpp>
#include <deeprnn/layers/dropout.hpp>
#include <deeprnn/layers/embedding.hpp>
#include <deeprnn/random.hpp>
#include <limits>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"

using namespace deeprnn;
using deeprnn::testing::check_gradient;

namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// Fills every gradient buffer with NaN, so that an entry that zero_gradients() or backward()
// leaves unwritten shows up in the comparison.
template <class Layer>
void poison_gradients(Layer& layer) {
  layer.for_each_parameter(
      [](const std::string&, auto&, auto& gradient) { gradient.setConstant(nan_value); });
}

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Random random(seed);
  Matrix<double> m(rows, cols);
  random.fill_uniform(m, -1.0, 1.0);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Dense

TEST_CASE("Dense forward by hand", "[layers][dense]") {
  Dense<double> dense(2, 2, DenseActivation::relu);
  dense.parameters.weight << 1.0, -2.0, 0.5, 0.25;
  dense.parameters.bias << 0.5, -1.0;
  Matrix<double> x(2, 2);
  x << 1.0, 3.0,  //
      2.0, -1.0;
  // Column 0: W x + b = (1 - 4 + 0.5, 0.5 + 0.5 - 1) = (-2.5, 0); relu -> (0, 0).
  // Column 1: W x + b = (3 + 2 + 0.5, 1.5 - 0.25 - 1) = (5.5, 0.25).
  const Matrix<double>& y = dense.forward(x);
  CHECK(y(0, 0) == 0.0);
  CHECK(y(1, 0) == 0.0);
  CHECK(y(0, 1) == 5.5);
  CHECK(y(1, 1) == 0.25);
}

TEST_CASE("Dense gradients match finite differences", "[layers][dense]") {
  const Index input_size = 4;
  const Index output_size = 3;
  const Index columns = 5;
  for (DenseActivation activation : {DenseActivation::none, DenseActivation::relu,
                                     DenseActivation::tanh, DenseActivation::sigmoid}) {
    INFO("activation " << static_cast<int>(activation));
    Dense<double> dense(input_size, output_size, activation);
    dense.parameters.weight = random_matrix(output_size, input_size, 1);
    dense.parameters.bias = random_matrix(output_size, 1, 2);
    Matrix<double> x = random_matrix(input_size, columns, 3);
    const Matrix<double> loss_weights = random_matrix(output_size, columns, 4);

    // The difference quotient is only valid away from relu's kink at z = 0.
    const Matrix<double> z =
        (dense.parameters.weight * x).colwise() + Vector<double>(dense.parameters.bias);
    REQUIRE(z.cwiseAbs().minCoeff() > 1e-3);

    // L = sum(R * y), so dL/dy = R.
    auto loss = [&] { return dense.forward(x).cwiseProduct(loss_weights).sum(); };
    poison_gradients(dense);
    dense.zero_gradients();
    dense.forward(x);
    const Matrix<double> dx = dense.backward(loss_weights);
    const Matrix<double> d_weight = dense.gradients.weight;
    const Matrix<double> d_bias = dense.gradients.bias;

    check_gradient("weight", dense.parameters.weight, d_weight, loss);
    check_gradient("bias", dense.parameters.bias, d_bias, loss);
    check_gradient("x", x, dx, loss);

    // A second backward adds the same amount again.
    dense.forward(x);
    dense.backward(loss_weights);
    CHECK(dense.gradients.weight.isApprox(2 * d_weight, 1e-14));
    CHECK(dense.gradients.bias.isApprox(2 * d_bias, 1e-14));
  }
}

TEST_CASE("Dense parameter names", "[layers][dense]") {
  Dense<double> dense(2, 3);
  std::vector<std::string> names;
  dense.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
    names.push_back(name);
    CHECK(value.rows() == gradient.rows());
    CHECK(value.cols() == gradient.cols());
  });
  CHECK(names == std::vector<std::string>{"weight", "bias"});
  CHECK(dense.parameters.weight.rows() == 3);
  CHECK(dense.parameters.weight.cols() == 2);
}

TEST_CASE("Dense rejects invalid input", "[layers][dense][errors]") {
  CHECK_THROWS_WITH(Dense<double>(0, 3), Catch::Contains("input_size is 0"));
  CHECK_THROWS_WITH(Dense<double>(2, -1), Catch::Contains("output_size is -1"));

  Dense<double> dense(2, 3);
  CHECK_THROWS_WITH(dense.backward(Matrix<double>::Zero(3, 1)),
                    Catch::Contains("before forward()"));
  CHECK_THROWS_WITH(dense.forward(Matrix<double>::Zero(4, 1)),
                    Catch::Contains("x has 4 rows, expected input_size = 2"));
  CHECK_THROWS_WITH(dense.forward(Matrix<double>::Zero(2, 0)), Catch::Contains("no columns"));
  Matrix<double> x = Matrix<double>::Zero(2, 2);
  x(1, 1) = nan_value;
  CHECK_THROWS_WITH(dense.forward(x), Catch::Contains("non-finite"));
  dense.forward(Matrix<double>::Zero(2, 2));
  CHECK_THROWS_WITH(dense.backward(Matrix<double>::Zero(3, 1)),
                    Catch::Contains("d_output has shape 3 x 1, expected 3 x 2"));
  CHECK_THROWS_AS(dense.backward(Matrix<double>::Zero(2, 2)), deeprnn::invalid_argument);
}

TEMPLATE_TEST_CASE("Dense runs in float and double", "[layers][dense]", float, double) {
  Dense<TestType> dense(3, 2, DenseActivation::sigmoid);
  dense.parameters.weight = random_matrix(2, 3, 5).cast<TestType>();
  dense.parameters.bias = random_matrix(2, 1, 6).cast<TestType>();
  const Matrix<TestType> x = random_matrix(3, 4, 7).cast<TestType>();
  const Matrix<TestType> y = dense.forward(x);

  Dense<double> reference(3, 2, DenseActivation::sigmoid);
  reference.parameters.weight = dense.parameters.weight.template cast<double>();
  reference.parameters.bias = dense.parameters.bias.template cast<double>();
  const Matrix<double> y_reference = reference.forward(x.template cast<double>());
  CHECK((y.template cast<double>() - y_reference).cwiseAbs().maxCoeff() < 1e-6);

  dense.zero_gradients();
  const Matrix<TestType> dx = dense.backward(Matrix<TestType>::Ones(2, 4));
  CHECK(dx.rows() == 3);
  CHECK(dx.cols() == 4);
  CHECK(dense.gradients.weight.allFinite());
}

// ---------------------------------------------------------------------------------------
// Embedding

TEST_CASE("Embedding forward looks up rows", "[layers][embedding]") {
  Embedding<double> embedding(4, 3);
  embedding.parameters.weight = random_matrix(4, 3, 10);
  const std::vector<std::int64_t> ids{2, 0, 2, 3};
  const Matrix<double>& y = embedding.forward(ids);
  REQUIRE(y.rows() == 3);
  REQUIRE(y.cols() == 4);
  for (Index n = 0; n < 4; ++n) {
    const Index id = ids[static_cast<std::size_t>(n)];
    CHECK(y.col(n) == embedding.parameters.weight.row(id).transpose());
  }
}

TEST_CASE("Embedding takes Eigen integer ids", "[layers][embedding]") {
  Embedding<double> embedding(5, 2);
  embedding.parameters.weight = random_matrix(5, 2, 11);
  const std::vector<std::int64_t> ids{4, 1, 3, 0};
  const Matrix<double> expected = embedding.forward(ids);

  Eigen::VectorXi column_ids(4);
  column_ids << 4, 1, 3, 0;
  CHECK(embedding.forward(column_ids) == expected);
  Eigen::Matrix<std::int64_t, 1, Eigen::Dynamic> row_ids(4);
  row_ids << 4, 1, 3, 0;
  CHECK(embedding.forward(row_ids) == expected);

  // A B x T matrix, B = 2 samples and T = 2 steps: column t is step t, so position t*B + b
  // is entry (b, t), in either storage order.
  Eigen::MatrixXi batch_by_steps(2, 2);
  batch_by_steps << 4, 3,  //
      1, 0;
  CHECK(embedding.forward(batch_by_steps) == expected);
  Eigen::Matrix<short, 2, 2, Eigen::RowMajor> row_major;
  row_major << 4, 3,  //
      1, 0;
  CHECK(embedding.forward(row_major) == expected);

  Eigen::VectorXi out_of_range(2);
  out_of_range << 0, 5;
  CHECK_THROWS_WITH(embedding.forward(out_of_range), Catch::Contains("id 5 at position 1"));
}

TEST_CASE("Embedding gradient is a scatter-add", "[layers][embedding]") {
  // Ids repeat, so rows 1 and 3 collect two columns each. Row 2 is never used and row 0 is
  // the padding id, so both keep a zero gradient.
  Embedding<double> embedding(5, 3, 0);
  embedding.parameters.weight = random_matrix(5, 3, 12);
  const std::vector<std::int64_t> ids{1, 3, 0, 1, 4, 3};
  const Matrix<double> loss_weights = random_matrix(3, 6, 13);
  auto loss = [&] { return embedding.forward(ids).cwiseProduct(loss_weights).sum(); };

  poison_gradients(embedding);
  embedding.zero_gradients();
  embedding.forward(ids);
  embedding.backward(loss_weights);
  const Matrix<double> d_weight = embedding.gradients.weight;
  check_gradient("weight", embedding.parameters.weight, d_weight, loss);

  CHECK(d_weight.row(1).transpose() == loss_weights.col(0) + loss_weights.col(3));
  CHECK(d_weight.row(2).isZero(0.0));
  CHECK(d_weight.row(0).isZero(0.0));
}

TEST_CASE("Embedding padding id gives zero columns", "[layers][embedding]") {
  Embedding<double> embedding(3, 2, 2);
  CHECK(embedding.padding_id() == 2);
  // Even a nonzero padding row is not read.
  embedding.parameters.weight.setOnes();
  const std::vector<std::int64_t> ids{2, 1, 2};
  const Matrix<double>& y = embedding.forward(ids);
  CHECK(y.col(0).isZero(0.0));
  CHECK(y.col(1) == Vector<double>::Ones(2));
  CHECK(y.col(2).isZero(0.0));
}

TEST_CASE("Embedding parameter names", "[layers][embedding]") {
  Embedding<float> embedding(7, 2);
  std::vector<std::string> names;
  embedding.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
    names.push_back(name);
    CHECK(value.rows() == 7);
    CHECK(gradient.cols() == 2);
  });
  CHECK(names == std::vector<std::string>{"weight"});
}

TEMPLATE_TEST_CASE("Embedding runs in float and double", "[layers][embedding]", float, double) {
  Embedding<TestType> embedding(4, 3, 1);
  embedding.parameters.weight = random_matrix(4, 3, 14).cast<TestType>();
  const std::vector<std::int64_t> ids{3, 1, 3};
  const Matrix<TestType> y = embedding.forward(ids);
  CHECK(y.col(0) == embedding.parameters.weight.row(3).transpose());
  CHECK(y.col(1).isZero(0));

  embedding.zero_gradients();
  embedding.backward(Matrix<TestType>::Ones(3, 3));
  CHECK(embedding.gradients.weight.row(3) == Matrix<TestType>::Constant(1, 3, TestType(2)));
  CHECK(embedding.gradients.weight.row(1).isZero(0));
}

TEST_CASE("Embedding rejects invalid input", "[layers][embedding][errors]") {
  CHECK_THROWS_WITH(Embedding<double>(0, 2), Catch::Contains("vocabulary_size is 0"));
  CHECK_THROWS_WITH(Embedding<double>(3, 0), Catch::Contains("embedding_size is 0"));
  CHECK_THROWS_WITH(Embedding<double>(3, 2, 3), Catch::Contains("padding_id is 3"));
  CHECK_THROWS_WITH(Embedding<double>(3, 2, -1), Catch::Contains("padding_id is -1"));

  Embedding<double> embedding(3, 2);
  CHECK_THROWS_WITH(embedding.backward(Matrix<double>::Zero(2, 1)),
                    Catch::Contains("before forward()"));
  const std::vector<std::int64_t> too_large{0, 1, 3};
  CHECK_THROWS_WITH(embedding.forward(too_large),
                    Catch::Contains("id 3 at position 2 is out of range; expected 0..2"));
  const std::vector<std::int64_t> negative{-4};
  CHECK_THROWS_WITH(embedding.forward(negative),
                    Catch::Contains("id -4 at position 0 is out of range"));
  CHECK_THROWS_WITH(embedding.forward(std::span<const std::int64_t>()), Catch::Contains("no ids"));
  const std::vector<std::int64_t> ids{0, 1};
  embedding.forward(ids);
  CHECK_THROWS_WITH(embedding.backward(Matrix<double>::Zero(2, 3)),
                    Catch::Contains("d_output has shape 2 x 3, expected 2 x 2"));
}

// ---------------------------------------------------------------------------------------
// Dropout

TEST_CASE("Dropout mask by hand", "[layers][dropout]") {
  Dropout<double> dropout(0.25);
  const Matrix<double> x = random_matrix(3, 4, 20);
  Random random(21);
  Random reference(21);
  const Matrix<double>& y = dropout.forward(x, random);
  int dropped = 0;
  for (Index j = 0; j < 4; ++j) {
    for (Index i = 0; i < 3; ++i) {
      const bool drop = reference.uniform() < 0.25;
      const double expected_mask = drop ? 0.0 : 1.0 / 0.75;
      CHECK(dropout.mask()(i, j) == expected_mask);
      CHECK(y(i, j) == x(i, j) * expected_mask);
      dropped += drop ? 1 : 0;
    }
  }
  // Both cases occur with this seed, so the checks above cover each.
  CHECK(dropped > 0);
  CHECK(dropped < 12);
}

TEST_CASE("Dropout drops at the rate", "[layers][dropout]") {
  // 100000 entries at rate 0.3: the dropped count has standard deviation about 145, the bound
  // is more than six of those. Kept entries are scaled so the mean is kept.
  Dropout<double> dropout(0.3);
  Random random(22);
  const Matrix<double>& y = dropout.forward(Matrix<double>::Ones(100, 1000), random);
  const auto dropped = (y.array() == 0.0).count();
  CHECK(std::abs(static_cast<double>(dropped) - 30000.0) < 900.0);
  CHECK(((y.array() == 0.0) || (y.array() == 1.0 / 0.7)).all());
}

TEST_CASE("Dropout gradient with a fixed mask", "[layers][dropout]") {
  Dropout<double> dropout(0.4);
  Matrix<double> x = random_matrix(3, 5, 23);
  const Matrix<double> loss_weights = random_matrix(3, 5, 24);
  // Reseeding before each forward pass draws the same mask every time.
  auto loss = [&] {
    Random random(25);
    return dropout.forward(x, random).cwiseProduct(loss_weights).sum();
  };
  loss();
  const Matrix<double> dx = dropout.backward(loss_weights);
  CHECK(dx == loss_weights.cwiseProduct(dropout.mask()));
  check_gradient("x", x, dx, loss);
}

TEST_CASE("Dropout is the identity when not training", "[layers][dropout]") {
  const Matrix<double> x = random_matrix(2, 3, 26);
  Random random(27);
  const std::string state = random.state();

  Dropout<double> evaluation(0.5);
  evaluation.training = false;
  CHECK(evaluation.forward(x, random) == x);
  CHECK(evaluation.mask().size() == 0);
  CHECK(evaluation.backward(x) == x);

  Dropout<double> rate_zero(0.0);
  CHECK(rate_zero.forward(x, random) == x);
  CHECK(rate_zero.backward(x) == x);
  // Neither drew a random value.
  CHECK(random.state() == state);
}

TEST_CASE("Dropout rejects invalid input", "[layers][dropout][errors]") {
  CHECK_THROWS_WITH(Dropout<double>(1.0), Catch::Contains("rate is 1.0"));
  CHECK_THROWS_WITH(Dropout<double>(-0.1), Catch::Contains("expected a probability in [0, 1)"));
  CHECK_THROWS_AS(Dropout<double>(nan_value), deeprnn::invalid_argument);

  Dropout<double> dropout(0.5);
  Random random;
  CHECK_THROWS_WITH(dropout.backward(Matrix<double>::Zero(2, 2)),
                    Catch::Contains("before forward()"));
  CHECK_THROWS_WITH(dropout.forward(Matrix<double>::Zero(0, 3), random),
                    Catch::Contains("x is empty"));
  dropout.forward(Matrix<double>::Ones(2, 2), random);
  CHECK_THROWS_WITH(dropout.backward(Matrix<double>::Zero(2, 3)),
                    Catch::Contains("d_output has shape 2 x 3, expected 2 x 2"));
}

// ---------------------------------------------------------------------------------------
// SpatialDropout1D

TEST_CASE("SpatialDropout1D drops whole channels", "[layers][dropout]") {
  const Index features = 6;
  const Index steps = 5;
  const Index batch = 4;
  const double rate = 0.5;
  SpatialDropout1D<double> dropout(rate);
  const Matrix<double> x = Matrix<double>::Constant(features, steps * batch, 2.0);
  Random random(30);
  Random reference(30);
  const Matrix<double>& y = dropout.forward(x, batch, random);
  REQUIRE(dropout.mask().rows() == features);
  REQUIRE(dropout.mask().cols() == batch);

  int dropped = 0;
  for (Index b = 0; b < batch; ++b) {
    for (Index f = 0; f < features; ++f) {
      // The mask is drawn sample by sample, features first.
      const bool drop = reference.uniform() < rate;
      const double expected = drop ? 0.0 : 2.0 / (1.0 - rate);
      for (Index t = 0; t < steps; ++t) {
        INFO("feature " << f << ", step " << t << ", sample " << b);
        CHECK(y(f, t * batch + b) == expected);
      }
      dropped += drop ? 1 : 0;
    }
  }
  CHECK(dropped > 0);
  CHECK(dropped < features * batch);
}

TEST_CASE("SpatialDropout1D gradient with a fixed mask", "[layers][dropout]") {
  SpatialDropout1D<double> dropout(0.3);
  const Index batch = 2;
  Matrix<double> x = random_matrix(3, 4 * batch, 31);
  const Matrix<double> loss_weights = random_matrix(3, 4 * batch, 32);
  auto loss = [&] {
    Random random(33);
    return dropout.forward(x, batch, random).cwiseProduct(loss_weights).sum();
  };
  loss();
  const Matrix<double> dx = dropout.backward(loss_weights);
  check_gradient("x", x, dx, loss);
}

TEST_CASE("SpatialDropout1D identity cases", "[layers][dropout]") {
  const Matrix<double> x = random_matrix(3, 6, 34);
  Random random(35);
  const std::string state = random.state();

  SpatialDropout1D<double> rate_zero(0.0);
  CHECK(rate_zero.forward(x, 2, random) == x);
  CHECK(rate_zero.backward(x) == x);

  SpatialDropout1D<double> evaluation(0.9);
  evaluation.training = false;
  CHECK(evaluation.forward(x, 3, random) == x);
  CHECK(evaluation.mask().size() == 0);
  CHECK(random.state() == state);
}

TEST_CASE("SpatialDropout1D rejects invalid input", "[layers][dropout][errors]") {
  CHECK_THROWS_WITH(SpatialDropout1D<double>(1.5), Catch::Contains("rate is 1.5"));
  SpatialDropout1D<double> dropout(0.5);
  Random random;
  const Matrix<double> x = Matrix<double>::Ones(2, 6);
  CHECK_THROWS_WITH(dropout.forward(x, 0, random), Catch::Contains("batch_size is 0"));
  CHECK_THROWS_WITH(dropout.forward(x, 4, random),
                    Catch::Contains("6 columns, which is not a multiple of batch_size = 4"));
  CHECK_THROWS_WITH(dropout.forward(Matrix<double>::Ones(2, 0), 1, random),
                    Catch::Contains("x is empty"));
  CHECK_THROWS_WITH(dropout.backward(x), Catch::Contains("before forward()"));
  dropout.forward(x, 3, random);
  CHECK_THROWS_WITH(dropout.backward(Matrix<double>::Ones(3, 6)),
                    Catch::Contains("d_output has shape 3 x 6, expected 2 x 6"));
}

TEMPLATE_TEST_CASE("dropout layers run in float", "[layers][dropout]", float, double) {
  Random random(40);
  const Matrix<TestType> x = Matrix<TestType>::Ones(4, 6);
  Dropout<TestType> dropout(0.5);
  const Matrix<TestType> y = dropout.forward(x, random);
  CHECK(((y.array() == TestType(0)) || (y.array() == TestType(2))).all());
  SpatialDropout1D<TestType> spatial(0.5);
  const Matrix<TestType> z = spatial.forward(x, 2, random);
  CHECK(((z.array() == TestType(0)) || (z.array() == TestType(2))).all());
  CHECK(spatial.backward(x) == z);
}
