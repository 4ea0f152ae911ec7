// Tests of the Keras and PyTorch default initialisers: limits, orthogonality, the LSTM
// forget-gate bias, and determinism by seed.
#include <catch2/catch.hpp>
#include <cmath>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/init.hpp>
#include <string>
#include <vector>

using namespace deeprnn;

namespace {

template <class Scalar>
double max_abs(const Matrix<Scalar>& m) {
  return static_cast<double>(m.cwiseAbs().maxCoeff());
}

template <class Scalar>
double max_abs(const Vector<Scalar>& v) {
  return static_cast<double>(v.cwiseAbs().maxCoeff());
}

// Distance of W^T W from the identity, for a W with orthonormal columns.
template <class Scalar>
double column_orthonormality_error(const Matrix<Scalar>& w) {
  const Matrix<double> wd = w.template cast<double>();
  const Matrix<double> gram = wd.transpose() * wd;
  return (gram - Matrix<double>::Identity(w.cols(), w.cols())).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("glorot_uniform stays within its limit", "[init]") {
  Random random(1);
  Matrix<double> w(12, 5);
  init::glorot_uniform(w, random);
  const double limit = std::sqrt(6.0 / (12 + 5));
  CHECK(max_abs(w) <= limit);
  // With 60 draws, all of them below 0.8 * limit has probability 0.8^60 ~ 2e-6.
  CHECK(max_abs(w) > 0.8 * limit);
}

TEST_CASE("orthogonal weight is Q of a QR", "[init]") {
  SECTION("tall: orthonormal columns") {
    Random random(2);
    Matrix<double> w(8, 3);
    init::orthogonal(w, random);
    CHECK(column_orthonormality_error(w) < 1e-12);

    // W must be the Q of A = Q R with A the normal matrix drawn from the same seed and R's
    // diagonal positive: then W^T A = R is upper triangular with a positive diagonal.
    Random reference(2);
    Matrix<double> a(8, 3);
    reference.fill_normal(a);
    const Matrix<double> r = w.transpose() * a;
    for (Index j = 0; j < 3; ++j) {
      CHECK(r(j, j) > 0.0);
      for (Index i = j + 1; i < 3; ++i) CHECK(std::abs(r(i, j)) < 1e-12);
    }
    // A lies in the span of W's columns.
    CHECK((w * r - a).cwiseAbs().maxCoeff() < 1e-12);
  }
  SECTION("wide: orthonormal rows") {
    Random random(3);
    Matrix<double> w(3, 7);
    init::orthogonal(w, random);
    const Matrix<double> gram = w * w.transpose();
    CHECK((gram - Matrix<double>::Identity(3, 3)).cwiseAbs().maxCoeff() < 1e-12);
  }
  SECTION("square with gain") {
    Random random(4);
    Matrix<double> w(5, 5);
    init::orthogonal(w, random, 2.0);
    const Matrix<double> gram = w.transpose() * w;
    CHECK((gram - 4.0 * Matrix<double>::Identity(5, 5)).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("keras_default LSTM", "[init]") {
  const Index input_size = 3;
  const Index H = 5;
  LSTM<double> cell(input_size, H);
  Random random(5);
  init::keras_default(cell, random);
  const RecurrentParameters<double>& p = cell.parameters;

  CHECK(max_abs(p.weight_ih) <= std::sqrt(6.0 / (input_size + 4 * H)));
  CHECK(max_abs(p.weight_ih) > 0.0);
  // The recurrent kernel over all four gate blocks is one orthogonal matrix.
  CHECK(column_orthonormality_error(p.weight_hh) < 1e-12);
  // Forget gate (rows H..2H-1) bias 1 in bias_ih; everything else zero.
  for (Index row = 0; row < 4 * H; ++row) {
    INFO("row " << row);
    CHECK(p.bias_ih(row) == (row >= H && row < 2 * H ? 1.0 : 0.0));
    CHECK(p.bias_hh(row) == 0.0);
  }

  init::keras_default(cell, random, false);
  CHECK(p.bias_ih.isZero(0.0));
  CHECK(p.bias_hh.isZero(0.0));
}

TEST_CASE("keras_default GRU and SimpleRNN", "[init]") {
  Random random(6);
  GRU<double> gru(4, 3);
  gru.parameters.bias_ih.setOnes();
  init::keras_default(gru, random);
  CHECK(max_abs(gru.parameters.weight_ih) <= std::sqrt(6.0 / (4 + 9)));
  CHECK(column_orthonormality_error(gru.parameters.weight_hh) < 1e-12);
  // No forget gate: every bias entry is zero.
  CHECK(gru.parameters.bias_ih.isZero(0.0));
  CHECK(gru.parameters.bias_hh.isZero(0.0));

  SimpleRNN<double> rnn(2, 6);
  init::keras_default(rnn, random);
  const Matrix<double>& w = rnn.parameters.weight_hh;
  CHECK(column_orthonormality_error(w) < 1e-12);
  CHECK((w * w.transpose() - Matrix<double>::Identity(6, 6)).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("pytorch_default cell limits", "[init]") {
  Random random(7);
  LSTM<double> cell(3, 4);
  init::pytorch_default(cell, random);
  const double k = 1.0 / std::sqrt(4.0);
  cell.parameters.for_each([&](const std::string& name, auto& tensor) {
    INFO(name);
    CHECK(max_abs(tensor) <= k);
    CHECK(max_abs(tensor) > 0.5 * k);
  });

  // Drawn in the order weight_ih, weight_hh, bias_ih, bias_hh.
  Random reference(7);
  Matrix<double> weight_ih(16, 3);
  reference.fill_uniform(weight_ih, -k, k);
  Matrix<double> weight_hh(16, 4);
  reference.fill_uniform(weight_hh, -k, k);
  Vector<double> bias_ih(16);
  reference.fill_uniform(bias_ih, -k, k);
  CHECK(cell.parameters.weight_ih == weight_ih);
  CHECK(cell.parameters.weight_hh == weight_hh);
  CHECK(cell.parameters.bias_ih == bias_ih);
}

TEST_CASE("Dense initialisers", "[init]") {
  Random random(8);
  Dense<double> dense(6, 4);
  dense.parameters.bias.setOnes();
  init::keras_default(dense, random);
  CHECK(max_abs(dense.parameters.weight) <= std::sqrt(6.0 / 10.0));
  CHECK(max_abs(dense.parameters.weight) > 0.0);
  CHECK(dense.parameters.bias.isZero(0.0));

  init::pytorch_default(dense, random);
  const double k = 1.0 / std::sqrt(6.0);
  CHECK(max_abs(dense.parameters.weight) <= k);
  CHECK(max_abs(dense.parameters.bias) <= k);
  CHECK(max_abs(dense.parameters.bias) > 0.0);
}

TEST_CASE("Embedding initialisers", "[init]") {
  Random random(9);
  Embedding<double> embedding(50, 8, 0);
  embedding.parameters.weight.setOnes();
  init::keras_default(embedding, random);
  CHECK(max_abs(embedding.parameters.weight) <= 0.05);
  CHECK(max_abs(embedding.parameters.weight) > 0.04);
  CHECK(embedding.parameters.weight.row(0).isZero(0.0));

  init::pytorch_default(embedding, random);
  CHECK(embedding.parameters.weight.row(0).isZero(0.0));
  // 392 standard normal draws: the sample standard deviation is within 0.2 of 1 with
  // probability far above 1 - 1e-6.
  const Matrix<double> used = embedding.parameters.weight.bottomRows(49);
  const double mean = used.mean();
  const double variance = (used.array() - mean).square().mean();
  CHECK(std::abs(std::sqrt(variance) - 1.0) < 0.2);
}

TEST_CASE("keras_default stack and summary", "[init]") {
  StackedRNN<LSTM<double>, GRU<double>> stack(3, {4, 5});
  Random random(10);
  init::keras_default(stack, random);
  CHECK(stack.layer<0>().parameters.bias_ih.segment(4, 4).isOnes(0.0));
  CHECK(column_orthonormality_error(stack.layer<0>().parameters.weight_hh) < 1e-12);
  CHECK(column_orthonormality_error(stack.layer<1>().parameters.weight_hh) < 1e-12);
  CHECK(max_abs(stack.layer<1>().parameters.weight_ih) <= std::sqrt(6.0 / (4 + 15)));

  // Layers are initialised bottom to top from the one stream.
  Random reference(10);
  LSTM<double> bottom(3, 4);
  GRU<double> top(4, 5);
  init::keras_default(bottom, reference);
  init::keras_default(top, reference);
  CHECK(stack.layer<0>().parameters.weight_hh == bottom.parameters.weight_hh);
  CHECK(stack.layer<1>().parameters.weight_ih == top.parameters.weight_ih);

  SummaryRNN<LSTM<double>> summary(stack, 6, SummaryMode::final_state);
  REQUIRE(summary.has_projection());
  init::keras_default(summary, random);
  CHECK(summary.cell.parameters.bias_ih.segment(6, 6).isOnes(0.0));
  CHECK(max_abs(summary.projection_weight[1]) <= std::sqrt(6.0 / (5 + 6)));
  CHECK(max_abs(summary.projection_weight[1]) > 0.0);
  CHECK(summary.projection_bias[0].isZero(0.0));

  init::pytorch_default(summary, random);
  CHECK(max_abs(summary.projection_bias[0]) <= 1.0 / std::sqrt(4.0));
  CHECK(max_abs(summary.projection_bias[0]) > 0.0);
}

TEST_CASE("pytorch_default stack limits", "[init]") {
  StackedRNN<SimpleRNN<double>, LSTM<double>> stack(2, {9, 4});
  Random random(11);
  init::pytorch_default(stack, random);
  CHECK(max_abs(stack.layer<0>().parameters.bias_hh) <= 1.0 / 3.0);
  CHECK(max_abs(stack.layer<1>().parameters.weight_ih) <= 0.5);
  CHECK(max_abs(stack.layer<1>().parameters.weight_ih) > 0.25);
}

TEST_CASE("initialisers are deterministic by seed", "[init]") {
  auto initialise = [](std::uint64_t seed) {
    StackedRNN<LSTM<double>, SimpleRNN<double>> stack(3, {4, 2});
    Random random(seed);
    init::keras_default(stack, random);
    std::vector<Matrix<double>> values;
    stack.for_each_parameter(
        [&](const std::string&, auto& value, auto&) { values.push_back(value); });
    return values;
  };
  const auto first = initialise(12);
  const auto second = initialise(12);
  const auto other = initialise(13);
  REQUIRE(first.size() == 8);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i] == second[i]);
  }
  CHECK(first[0] != other[0]);
  CHECK(first[1] != other[1]);
}

TEST_CASE("initialisers run in float", "[init]") {
  Random random(14);
  LSTM<float> cell(3, 4);
  init::keras_default(cell, random);
  CHECK(column_orthonormality_error(cell.parameters.weight_hh) < 1e-6);
  CHECK(cell.parameters.bias_ih.segment(4, 4).isOnes(0.0f));
  Dense<float> dense(3, 2);
  init::pytorch_default(dense, random);
  CHECK(max_abs(dense.parameters.weight) <= 1.0 / std::sqrt(3.0) + 1e-7);
  Embedding<float> embedding(4, 2);
  init::keras_default(embedding, random);
  CHECK(max_abs(embedding.parameters.weight) <= 0.05 + 1e-8);
}
