// Tests of ParameterList, SGD, Adam, gradient clipping and learning-rate schedules, with the
// expected values written out as arithmetic in each test.
#include <catch2/catch.hpp>
#include <cmath>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/layers/dense.hpp>
#include <deeprnn/layers/embedding.hpp>
#include <deeprnn/train/optimizers.hpp>
#include <deeprnn/train/schedules.hpp>
#include <map>
#include <numbers>
#include <string>
#include <vector>

using namespace deeprnn;

namespace {

// A Dense(2, 1) layer with weight (1, -2), bias 0.5, and gradients (0.5, 1) and -0.25.
template <class Scalar>
Dense<Scalar> small_dense() {
  Dense<Scalar> dense(2, 1);
  dense.parameters.weight << Scalar(1), Scalar(-2);
  dense.parameters.bias << Scalar(0.5);
  dense.gradients.weight << Scalar(0.5), Scalar(1);
  dense.gradients.bias << Scalar(-0.25);
  return dense;
}

void set_gradients(Dense<double>& dense, double w0, double w1, double b) {
  dense.gradients.weight << w0, w1;
  dense.gradients.bias << b;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ParameterList

TEST_CASE("ParameterList gathers named tensors", "[optimizers]") {
  StackedRNN<LSTM<double>> rnn(3, {2});
  Dense<double> dense(2, 4);
  ParameterList<double> list;
  list.add(rnn, "rnn.");
  list.add(dense, "dense.");
  REQUIRE(list.size() == 6);
  CHECK(list.name(0) == "rnn.weight_ih_l0");
  CHECK(list.name(3) == "rnn.bias_hh_l0");
  CHECK(list.name(4) == "dense.weight");
  CHECK(list.name(5) == "dense.bias");
  // LSTM: 8 x 3 + 8 x 2 + 8 + 8 = 56; Dense: 4 x 2 + 4 = 12.
  CHECK(list.parameter_count() == 68);

  // Views alias the components' tensors.
  list.value(4)(1, 0) = 7.0;
  CHECK(dense.parameters.weight(1, 0) == 7.0);
  list.gradient(5).setOnes();
  CHECK(dense.gradients.bias == Vector<double>::Ones(4));
  list.zero_gradients();
  CHECK(dense.gradients.bias.isZero(0.0));
}

TEST_CASE("ParameterList rejects repeated tensors", "[optimizers][errors]") {
  Dense<double> dense(2, 3);
  Embedding<double> embedding(5, 2);
  ParameterList<double> list;
  list.add(dense);
  CHECK_THROWS_WITH(list.add(embedding), Catch::Contains("parameter name weight was added twice"));
  CHECK_THROWS_WITH(list.add(dense, "again."),
                    Catch::Contains("is the tensor already added as weight"));

  Dense<double> broken(2, 3);
  broken.gradients.weight.resize(1, 1);
  ParameterList<double> other;
  CHECK_THROWS_WITH(other.add(broken),
                    Catch::Contains("parameter weight has shape 3 x 2 but its gradient has "
                                    "shape 1 x 1"));
}

// ---------------------------------------------------------------------------------------
// Gradient clipping

TEST_CASE("clip_gradient_norm by hand", "[optimizers]") {
  // Gradients (3, 4) and 12: norm sqrt(9 + 16 + 144) = 13.
  Dense<double> dense(2, 1);
  ParameterList<double> list;
  list.add(dense);
  auto set = [&] {
    dense.gradients.weight << 3.0, 4.0;
    dense.gradients.bias << 12.0;
  };

  set();
  CHECK(list.gradient_norm() == 13.0);
  CHECK(list.clip_gradient_norm(6.5) == 13.0);
  const double c = 6.5 / (13.0 + 1e-6);
  CHECK(dense.gradients.weight(0, 0) == Approx(3.0 * c).epsilon(1e-15));
  CHECK(dense.gradients.weight(0, 1) == Approx(4.0 * c).epsilon(1e-15));
  CHECK(dense.gradients.bias(0) == Approx(12.0 * c).epsilon(1e-15));

  // Below the limit nothing changes.
  set();
  CHECK(list.clip_gradient_norm(20.0) == 13.0);
  CHECK(dense.gradients.weight(0, 1) == 4.0);

  // A non-finite norm is returned and the gradients are left alone.
  set();
  dense.gradients.weight(0, 0) = std::nan("");
  CHECK(std::isnan(list.clip_gradient_norm(1.0)));
  CHECK(dense.gradients.bias(0) == 12.0);

  CHECK_THROWS_WITH(list.clip_gradient_norm(0.0), Catch::Contains("max_norm is 0"));
  CHECK_THROWS_WITH(list.clip_gradient_norm(-1.0), Catch::Contains("expected a finite value > 0"));
}

// ---------------------------------------------------------------------------------------
// SGD

TEST_CASE("SGD plain step by hand", "[optimizers]") {
  Dense<double> dense = small_dense<double>();
  SGD<double> sgd(0.1);
  sgd.add(dense);
  sgd.step();
  // p - 0.1 g: 1 - 0.05, -2 - 0.1, 0.5 + 0.025.
  CHECK(dense.parameters.weight(0, 0) == Approx(0.95).epsilon(1e-15));
  CHECK(dense.parameters.weight(0, 1) == Approx(-2.1).epsilon(1e-15));
  CHECK(dense.parameters.bias(0) == Approx(0.525).epsilon(1e-15));
  // step() leaves the gradients as they are.
  CHECK(dense.gradients.weight(0, 0) == 0.5);
  CHECK(sgd.step_count() == 1);
}

TEST_CASE("SGD momentum two steps by hand", "[optimizers]") {
  Dense<double> dense = small_dense<double>();
  SGD<double> sgd(SGDOptions{.learning_rate = 0.1, .momentum = 0.9});
  sgd.add(dense);
  // Step 1: b = g = (0.5, 1 | -0.25), p = p - 0.1 b = (0.95, -2.1 | 0.525).
  sgd.step();
  CHECK(dense.parameters.weight(0, 0) == Approx(0.95).epsilon(1e-15));
  // Step 2 with g = (1, -1 | 0.5): b = 0.9 b + g = (1.45, -0.1 | 0.275),
  // p = (0.95 - 0.145, -2.1 + 0.01 | 0.525 - 0.0275).
  set_gradients(dense, 1.0, -1.0, 0.5);
  sgd.step();
  CHECK(dense.parameters.weight(0, 0) == Approx(0.805).epsilon(1e-15));
  CHECK(dense.parameters.weight(0, 1) == Approx(-2.09).epsilon(1e-15));
  CHECK(dense.parameters.bias(0) == Approx(0.4975).epsilon(1e-15));
}

TEST_CASE("SGD Nesterov step by hand", "[optimizers]") {
  Dense<double> dense = small_dense<double>();
  SGD<double> sgd(SGDOptions{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  sgd.add(dense);
  // b = g = (0.5, 1 | -0.25); g + 0.9 b = (0.95, 1.9 | -0.475); p - 0.1 (g + 0.9 b).
  sgd.step();
  CHECK(dense.parameters.weight(0, 0) == Approx(0.905).epsilon(1e-15));
  CHECK(dense.parameters.weight(0, 1) == Approx(-2.19).epsilon(1e-15));
  CHECK(dense.parameters.bias(0) == Approx(0.5475).epsilon(1e-15));
  // Step 2 with g = (1, -1 | 0.5): b = (1.45, -0.1 | 0.275), g + 0.9 b = (2.305, -1.09 | 0.7475).
  set_gradients(dense, 1.0, -1.0, 0.5);
  sgd.step();
  CHECK(dense.parameters.weight(0, 0) == Approx(0.905 - 0.2305).epsilon(1e-15));
  CHECK(dense.parameters.weight(0, 1) == Approx(-2.19 + 0.109).epsilon(1e-15));
  CHECK(dense.parameters.bias(0) == Approx(0.5475 - 0.07475).epsilon(1e-15));
}

TEST_CASE("SGD weight decay by hand", "[optimizers]") {
  Dense<double> dense = small_dense<double>();
  SGD<double> sgd(SGDOptions{.learning_rate = 0.1, .weight_decay = 0.01});
  sgd.add(dense);
  // g + 0.01 p = (0.5 + 0.01, 1 - 0.02 | -0.25 + 0.005) = (0.51, 0.98 | -0.245).
  sgd.step();
  CHECK(dense.parameters.weight(0, 0) == Approx(1.0 - 0.051).epsilon(1e-15));
  CHECK(dense.parameters.weight(0, 1) == Approx(-2.0 - 0.098).epsilon(1e-15));
  CHECK(dense.parameters.bias(0) == Approx(0.5 + 0.0245).epsilon(1e-15));
}

TEST_CASE("SGD rejects invalid options", "[optimizers][errors]") {
  CHECK_THROWS_WITH(SGD<double>(-0.1), Catch::Contains("SGD learning_rate is -0.1"));
  CHECK_THROWS_WITH(SGD<double>(SGDOptions{.learning_rate = 0.1, .momentum = -1.0}),
                    Catch::Contains("SGD momentum is -1"));
  CHECK_THROWS_WITH(SGD<double>(SGDOptions{.learning_rate = 0.1, .nesterov = true}),
                    Catch::Contains("nesterov is set but momentum is 0"));
  CHECK_THROWS_WITH(SGD<double>(SGDOptions{.learning_rate = 0.1, .weight_decay = NAN}),
                    Catch::Contains("SGD weight_decay"));
  SGD<double> sgd(0.1);
  CHECK_THROWS_WITH(sgd.step(), Catch::Contains("no parameters were added"));
  Dense<double> dense(2, 1);
  sgd.add(dense);
  sgd.options.learning_rate = INFINITY;
  CHECK_THROWS_WITH(sgd.step(), Catch::Contains("SGD learning_rate is inf"));
}

// ---------------------------------------------------------------------------------------
// Adam

TEST_CASE("Adam two steps by hand", "[optimizers]") {
  // One weight p = 1 with lr 0.1, betas 0.9 and 0.999, eps 1e-8.
  Dense<double> dense(1, 1);
  dense.parameters.weight << 1.0;
  Adam<double> adam(0.1);
  adam.add(dense);

  // Step 1, g = 0.5: m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025,
  // m_hat = 0.05 / 0.1 = 0.5, v_hat = 0.00025 / 0.001 = 0.25, sqrt(v_hat) = 0.5.
  dense.gradients.weight << 0.5;
  adam.step();
  const double p1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8);
  CHECK(dense.parameters.weight(0, 0) == Approx(p1).epsilon(1e-15));

  // Step 2, g = -1: m = 0.9 * 0.05 - 0.1 = -0.055,
  // v = 0.999 * 0.00025 + 0.001 * 1 = 0.00124975,
  // m_hat = -0.055 / (1 - 0.81), v_hat = 0.00124975 / (1 - 0.998001).
  dense.gradients.weight << -1.0;
  adam.step();
  const double m_hat = -0.055 / 0.19;
  const double v_hat = 0.00124975 / 0.001999;
  const double p2 = p1 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8);
  CHECK(dense.parameters.weight(0, 0) == Approx(p2).epsilon(1e-14));
  CHECK(adam.step_count() == 2);

  // The bias, with zero gradient throughout, does not move.
  CHECK(dense.parameters.bias(0) == 0.0);
}

TEST_CASE("Adam decoupled weight decay by hand", "[optimizers]") {
  Dense<double> dense(1, 1);
  dense.parameters.weight << 1.0;
  dense.parameters.bias << -2.0;
  Adam<double> adam(AdamOptions{.learning_rate = 0.1, .weight_decay = 0.1});
  adam.add(dense);
  dense.gradients.weight << 0.5;
  adam.step();
  // p = 1 * (1 - 0.1 * 0.1) = 0.99, then the Adam step of 0.1 * 0.5 / (0.5 + 1e-8).
  CHECK(dense.parameters.weight(0, 0) == Approx(0.99 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
  // Zero gradient: only the decay acts, -2 * 0.99.
  CHECK(dense.parameters.bias(0) == Approx(-1.98).epsilon(1e-15));
}

TEST_CASE("Adam with Keras epsilon by hand", "[optimizers]") {
  const AdamOptions options = AdamOptions::keras(0.1);
  CHECK(options.epsilon == 1e-7);
  Dense<double> dense(1, 1);
  dense.parameters.weight << 1.0;
  Adam<double> adam(options);
  adam.add(dense);
  dense.gradients.weight << 0.5;
  adam.step();
  // m = 0.05, v = 0.00025: p -= 0.1 * sqrt(1 - 0.999) / (1 - 0.9) * m / (sqrt(v) + 1e-7).
  const double step = 0.1 * std::sqrt(0.001) / 0.1 * 0.05 / (std::sqrt(0.00025) + 1e-7);
  CHECK(dense.parameters.weight(0, 0) == Approx(1.0 - step).epsilon(1e-15));
  // The two placements differ: PyTorch's would be 1 - 0.1 * 0.5 / (0.5 + 1e-7).
  CHECK(dense.parameters.weight(0, 0) != Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-7)).epsilon(1e-12));
}

TEST_CASE("Adam state restores exactly", "[optimizers]") {
  Dense<double> dense = small_dense<double>();
  Adam<double> adam(0.05);
  adam.add(dense, "dense.");
  for (int i = 0; i < 3; ++i) {
    set_gradients(dense, 0.1 * i, -0.2, 0.3 + i);
    adam.step();
  }

  std::map<std::string, Matrix<double>> saved;
  adam.for_each_state(
      [&](const std::string& name, Matrix<double>& tensor) { saved[name] = tensor; });
  std::vector<std::string> names;
  for (const auto& [name, tensor] : saved) names.push_back(name);
  CHECK(names == std::vector<std::string>{"exp_avg.dense.bias", "exp_avg.dense.weight",
                                          "exp_avg_sq.dense.bias", "exp_avg_sq.dense.weight",
                                          "step"});
  CHECK(saved.at("step")(0, 0) == 3.0);

  // A new optimizer over a copy of the layer, given the saved state, continues identically.
  Dense<double> copy = dense;
  Adam<double> resumed(0.05);
  resumed.add(copy, "dense.");
  resumed.for_each_state(
      [&](const std::string& name, Matrix<double>& tensor) { tensor = saved.at(name); });
  CHECK(resumed.step_count() == 3);
  REQUIRE(resumed.parameters().size() == 2);
  CHECK(resumed.parameters().name(0) == "dense.weight");

  set_gradients(dense, 0.7, 0.1, -0.4);
  set_gradients(copy, 0.7, 0.1, -0.4);
  adam.step();
  resumed.step();
  CHECK(copy.parameters.weight == dense.parameters.weight);
  CHECK(copy.parameters.bias == dense.parameters.bias);
}

TEST_CASE("optimizer state restore rejects bad tensors", "[optimizers][errors]") {
  Dense<double> dense(2, 1);
  Adam<double> adam;
  adam.add(dense);
  adam.for_each_state([](const std::string& name, Matrix<double>& tensor) {
    if (name == "exp_avg.weight") tensor.resize(2, 2);
  });
  CHECK_THROWS_WITH(adam.step(),
                    Catch::Contains("Adam state exp_avg.weight has shape 2 x 2, expected 1 x 2"));

  SGD<double> sgd(0.1);
  sgd.add(dense);
  CHECK_THROWS_WITH(
      sgd.for_each_state([](const std::string&, Matrix<double>& tensor) { tensor(0, 0) = 2.5; }),
      Catch::Contains("\"step\" is 2.5"));
}

TEST_CASE("SGD state names", "[optimizers]") {
  Dense<double> dense(2, 1);
  std::vector<std::string> plain_names;
  SGD<double> plain(0.1);
  plain.add(dense);
  plain.for_each_state(
      [&](const std::string& name, Matrix<double>&) { plain_names.push_back(name); });
  CHECK(plain_names == std::vector<std::string>{"step"});

  std::vector<std::string> momentum_names;
  SGD<double> momentum(SGDOptions{.learning_rate = 0.1, .momentum = 0.5});
  momentum.add(dense);
  momentum.for_each_state(
      [&](const std::string& name, Matrix<double>&) { momentum_names.push_back(name); });
  CHECK(momentum_names ==
        std::vector<std::string>{"momentum_buffer.weight", "momentum_buffer.bias", "step"});
}

TEST_CASE("Adam rejects invalid options", "[optimizers][errors]") {
  CHECK_THROWS_WITH(Adam<double>(-1.0), Catch::Contains("Adam learning_rate is -1"));
  CHECK_THROWS_WITH(Adam<double>(AdamOptions{.beta1 = 1.0}), Catch::Contains("Adam beta1 is 1.0"));
  CHECK_THROWS_WITH(Adam<double>(AdamOptions{.beta2 = -0.5}), Catch::Contains("Adam beta2"));
  CHECK_THROWS_WITH(Adam<double>(AdamOptions{.epsilon = 0.0}),
                    Catch::Contains("Adam epsilon is 0.0"));
  CHECK_THROWS_WITH(Adam<double>(AdamOptions{.weight_decay = -0.1}),
                    Catch::Contains("Adam weight_decay"));
  Adam<double> adam;
  CHECK_THROWS_WITH(adam.step(), Catch::Contains("no parameters were added"));
}

TEST_CASE("optimizers run in float", "[optimizers]") {
  Dense<float> dense_float = small_dense<float>();
  Dense<double> dense_double = small_dense<double>();
  Adam<float> adam_float(0.01f);
  Adam<double> adam_double(0.01);
  adam_float.add(dense_float);
  adam_double.add(dense_double);
  SGD<float> sgd_float(SGDOptions{.learning_rate = 0.01, .momentum = 0.9, .nesterov = true});
  SGD<double> sgd_double(SGDOptions{.learning_rate = 0.01, .momentum = 0.9, .nesterov = true});
  sgd_float.add(dense_float);
  sgd_double.add(dense_double);
  for (int i = 0; i < 5; ++i) {
    adam_float.step();
    adam_double.step();
    sgd_float.step();
    sgd_double.step();
    CHECK(adam_float.clip_gradient_norm(1.0) == Approx(adam_double.clip_gradient_norm(1.0)));
  }
  const Matrix<double> difference =
      dense_float.parameters.weight.cast<double>() - dense_double.parameters.weight;
  CHECK(difference.cwiseAbs().maxCoeff() < 1e-6);
}

// ---------------------------------------------------------------------------------------
// Learning-rate schedules

TEST_CASE("step_decay by hand", "[optimizers][schedules]") {
  // Halved every 3 epochs.
  const std::vector<double> expected{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (int epoch = 0; epoch < 7; ++epoch) {
    INFO("epoch " << epoch);
    CHECK(step_decay(0.1, epoch, 3, 0.5) == Approx(expected[epoch]).epsilon(1e-15));
  }
  CHECK(step_decay(1.0, 25, 10) == Approx(0.01).epsilon(1e-15));
  CHECK_THROWS_WITH(step_decay(0.1, -1, 3), Catch::Contains("epoch is -1"));
  CHECK_THROWS_WITH(step_decay(0.1, 0, 0), Catch::Contains("step_size is 0"));
  CHECK_THROWS_WITH(step_decay(0.1, 0, 1, -0.5), Catch::Contains("gamma is -0.5"));
  CHECK_THROWS_WITH(step_decay(-0.1, 0, 1), Catch::Contains("base_learning_rate is -0.1"));
}

TEST_CASE("cosine_decay by hand", "[optimizers][schedules]") {
  SECTION("without warm-up") {
    // (1 + cos(pi * s / 10)) / 2 between 0.1 and 0.01.
    CHECK(cosine_decay(0.1, 0, 10, 0, 0.01) == Approx(0.1).epsilon(1e-15));
    CHECK(cosine_decay(0.1, 5, 10, 0, 0.01) == Approx(0.055).epsilon(1e-15));
    CHECK(cosine_decay(0.1, 10, 10, 0, 0.01) == Approx(0.01).epsilon(1e-15));
    CHECK(cosine_decay(0.1, 25, 10, 0, 0.01) == Approx(0.01).epsilon(1e-15));
    const double quarter = 0.01 + 0.09 * (1.0 + std::cos(std::numbers::pi / 4.0)) / 2.0;
    CHECK(cosine_decay(0.1, 25, 100, 0, 0.01) == Approx(quarter).epsilon(1e-15));
  }
  SECTION("with warm-up") {
    // Steps 0..3 rise linearly to the base rate, then cosine over the 10 remaining steps.
    CHECK(cosine_decay(1.0, 0, 14, 4) == Approx(0.25).epsilon(1e-15));
    CHECK(cosine_decay(1.0, 2, 14, 4) == Approx(0.75).epsilon(1e-15));
    CHECK(cosine_decay(1.0, 3, 14, 4) == Approx(1.0).epsilon(1e-15));
    CHECK(cosine_decay(1.0, 4, 14, 4) == Approx(1.0).epsilon(1e-15));
    CHECK(cosine_decay(1.0, 9, 14, 4) == Approx(0.5).epsilon(1e-15));
    CHECK(cosine_decay(1.0, 14, 14, 4) == Approx(0.0).margin(1e-15));
  }
  SECTION("errors") {
    CHECK_THROWS_WITH(cosine_decay(0.1, -1, 10), Catch::Contains("step is -1"));
    CHECK_THROWS_WITH(cosine_decay(0.1, 0, 4, 4),
                      Catch::Contains("total_steps is 4, expected more than warmup_steps (4)"));
    CHECK_THROWS_WITH(cosine_decay(0.1, 0, 10, -2), Catch::Contains("warmup_steps is -2"));
    CHECK_THROWS_WITH(cosine_decay(0.1, 0, 10, 0, -1.0),
                      Catch::Contains("minimum_learning_rate is -1"));
    CHECK_THROWS_WITH(cosine_decay(NAN, 0, 10), Catch::Contains("base_learning_rate is nan"));
  }
}
