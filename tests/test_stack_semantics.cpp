// Behaviour of StackedRNN beyond gradients: closed-form values, streaming, padding,
// truncation, stateful use, float, and the errors it raises.
#include <catch2/catch.hpp>
#include <cmath>
#include <deeprnn/deeprnn.hpp>

#include "support/stack_problem.hpp"

using namespace deeprnn;
using deeprnn::testing::random_matrix;
using deeprnn::testing::StackProblem;

TEST_CASE("GRU one-unit closed form", "[closed_form]") {
  // Only the recurrent candidate bias b_hn = 1 is non-zero; x = 0, h0 = 0. Then r = z = 1/2.
  // Reset after: n = tanh(r * b_hn) = tanh(1/2); reset before: n = tanh(b_hn) = tanh(1).
  // h1 = (1 - z) n.
  const Matrix<double> x = Matrix<double>::Zero(1, 1);
  SECTION("reset after") {
    StackedRNN<GRU<double, ResetGate::after>> rnn(1, {1});
    rnn.layer<0>().parameters.bias_hh(2) = 1.0;
    CHECK(rnn.forward(x, 1)(0, 0) == Approx(0.5 * std::tanh(0.5)).epsilon(1e-15));
    CHECK(rnn.forward(x, 1)(0, 0) == Approx(0.2310586).epsilon(1e-7));
  }
  SECTION("reset before") {
    StackedRNN<GRU<double, ResetGate::before>> rnn(1, {1});
    rnn.layer<0>().parameters.bias_hh(2) = 1.0;
    CHECK(rnn.forward(x, 1)(0, 0) == Approx(0.5 * std::tanh(1.0)).epsilon(1e-15));
  }
}

TEST_CASE("LSTM and SimpleRNN closed forms", "[closed_form]") {
  const Matrix<double> x = Matrix<double>::Constant(1, 2, 0.5);  // two steps, one sample
  SECTION("LSTM with weight_ih = 1 on every gate, no recurrence") {
    StackedRNN<LSTM<double>> rnn(1, {1});
    rnn.layer<0>().parameters.weight_ih.setOnes();
    rnn.forward(x, 1);
    // Each step: i = f = o = sigmoid(0.5), g = tanh(0.5); c1 = i g, c2 = f c1 + i g.
    const double s = 1 / (1 + std::exp(-0.5));
    const double g = std::tanh(0.5);
    const double c1 = s * g;
    const double c2 = s * c1 + s * g;
    CHECK(rnn.layer_output(0)(0, 0) == Approx(s * std::tanh(c1)).epsilon(1e-15));
    CHECK(rnn.final_cell(0)(0, 0) == Approx(c2).epsilon(1e-15));
    CHECK(rnn.final_hidden(0)(0, 0) == Approx(s * std::tanh(c2)).epsilon(1e-15));
  }
  SECTION("SimpleRNN relu accumulates") {
    StackedRNN<SimpleRNN<double, Activation::relu>> rnn(1, {1});
    rnn.layer<0>().parameters.weight_ih.setConstant(2.0);
    rnn.layer<0>().parameters.weight_hh.setConstant(3.0);
    rnn.forward(x, 1);
    // h1 = relu(2 * 0.5) = 1, h2 = relu(2 * 0.5 + 3 * 1) = 4.
    CHECK(rnn.layer_output(0)(0, 0) == 1.0);
    CHECK(rnn.layer_output(0)(0, 1) == 4.0);
  }
}

TEST_CASE("step matches the whole-sequence forward", "[step]") {
  StackedRNN<LSTM<double>, GRU<double, ResetGate::before>, SimpleRNN<double>> rnn(3, {5, 4, 3});
  StackProblem problem(rnn, 6, 2, {}, true, 41);
  rnn.forward(problem.x, 2, {}, problem.initial_states);
  const Matrix<double> whole = rnn.layer_output(2);
  for (Index t = 0; t < 6; ++t) {
    const Matrix<double> x_t = problem.x.middleCols(t * 2, 2);
    const Matrix<double> h = t == 0 ? Matrix<double>(rnn.step(x_t, problem.initial_states))
                                    : Matrix<double>(rnn.step(x_t));
    // A step multiplies by W_hh through Eigen, a whole sequence through the packed product,
    // which sums in another order: equal up to rounding.
    INFO("step " << t);
    CHECK((h - whole.middleCols(t * 2, 2)).cwiseAbs().maxCoeff() <= 1e-14);
  }
  rnn.reset_state();
  const Matrix<double> restarted = rnn.step(problem.x.leftCols(2));
  rnn.forward(problem.x.leftCols(2), 2);
  CHECK(restarted == Matrix<double>(rnn.layer_output(2)));
}

TEST_CASE("values at padded steps change nothing", "[lengths]") {
  StackedRNN<GRU<double>, LSTM<double>> rnn(2, {3, 4});
  StackProblem problem(rnn, 5, 3, {5, 2, 3}, true, 51);
  const double loss = problem.loss();
  const Matrix<double> dx = problem.backward();
  std::vector<std::pair<std::string, Matrix<double>>> gradients;
  rnn.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    gradients.emplace_back(name, gradient);
  });

  for (Index t = 0; t < 5; ++t) {
    for (Index b = 0; b < 3; ++b) {
      if (t >= problem.lengths[b]) problem.x.col(t * 3 + b).setConstant(1e30);
    }
  }
  CHECK(problem.loss() == loss);
  CHECK(problem.backward() == dx);
  std::size_t index = 0;
  rnn.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    INFO(name);
    CHECK(Matrix<double>(gradient) == gradients[index++].second);
  });
  for (Index t = 2; t < 5; ++t) CHECK(rnn.layer_output(1).col(t * 3 + 1).isZero(0.0));
}

TEST_CASE("final states sit at each sample's last valid step", "[lengths]") {
  StackedRNN<LSTM<double>> rnn(2, {3});
  StackProblem problem(rnn, 4, 2, {}, false, 61);
  const Matrix<double> x = problem.x;
  rnn.forward(x, 2);
  const Matrix<double> outputs = rnn.layer_output(0);
  const std::vector<Index> lengths{4, 2};
  rnn.forward(x, 2, lengths);
  CHECK(Matrix<double>(rnn.final_hidden(0).col(0)) == outputs.col(3 * 2 + 0));
  CHECK(Matrix<double>(rnn.final_hidden(0).col(1)) == outputs.col(1 * 2 + 1));
  // Without return_sequences, forward returns the last valid output of each sample.
  CHECK(Matrix<double>(rnn.forward(x, 2, lengths)) == Matrix<double>(rnn.final_hidden(0)));
}

TEST_CASE("truncated backpropagation equals windows with constant boundary states",
          "[truncation]") {
  // With truncation k, the gradient is that of the loss in which the states entering steps
  // k, 2k, ... are constants: the sum of the full gradients of each window run separately
  // from the states the previous window ended in.
  using Stack = StackedRNN<LSTM<double>, GRU<double>>;
  const Index steps = 7;
  const Index batch = 2;
  const Index window = 3;
  Stack truncated(2, {3, 4}, StackOptions{.truncation = window});
  StackProblem problem(truncated, steps, batch, {}, true, 71);

  Stack windowed(2, {3, 4});
  std::size_t index = 0;
  std::vector<Matrix<double>> values;
  truncated.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { values.push_back(value); });
  windowed.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { value = values[index++]; });
  windowed.zero_gradients();
  std::vector<LayerState<double>> states = problem.initial_states;
  Matrix<double> dx_windowed(2, steps * batch);
  for (Index start = 0; start < steps; start += window) {
    const Index length = std::min(window, steps - start);
    const Matrix<double> x = problem.x.middleCols(start * batch, length * batch);
    windowed.forward(x, batch, {}, states);
    OutputGradients<double> seeds(2);
    for (std::size_t k = 0; k < 2; ++k) {
      seeds.layer_output[k] =
          problem.seeds.layer_output[k].middleCols(start * batch, length * batch);
      if (start + length == steps) {
        seeds.final_hidden[k] = problem.seeds.final_hidden[k];
        seeds.final_cell[k] = problem.seeds.final_cell[k];
      }
    }
    dx_windowed.middleCols(start * batch, length * batch) = windowed.backward(seeds);
    states = windowed.final_states();
  }

  const Matrix<double> dx_truncated = problem.backward();
  CHECK(dx_truncated.isApprox(dx_windowed, 1e-12));
  std::vector<Matrix<double>> truncated_gradients;
  truncated.for_each_parameter(
      [&](const std::string&, auto&, auto& gradient) { truncated_gradients.push_back(gradient); });
  index = 0;
  windowed.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    INFO(name);
    CHECK(truncated_gradients[index++].isApprox(Matrix<double>(gradient), 1e-12));
  });
}

TEST_CASE("stateful forward continues from the previous batch", "[stateful]") {
  StackedRNN<LSTM<double>, SimpleRNN<double>> whole(2, {3, 2});
  StackProblem problem(whole, 6, 2, {}, false, 81);
  whole.forward(problem.x, 2);
  const Matrix<double> expected = whole.layer_output(1);

  StackedRNN<LSTM<double>, SimpleRNN<double>> stateful = whole;
  stateful.options.stateful = true;
  stateful.options.return_sequences = true;
  stateful.reset_state();
  const Matrix<double> first = stateful.forward(problem.x.leftCols(6), 2);
  const Matrix<double> second = stateful.forward(problem.x.rightCols(6), 2);
  CHECK(first == expected.leftCols(6));
  CHECK(second == expected.rightCols(6));
  stateful.reset_state();
  CHECK(Matrix<double>(stateful.forward(problem.x.rightCols(6), 2)) != expected.rightCols(6));
}

TEST_CASE("float stack agrees with double", "[float]") {
  StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>> rnn64(3, {4, 5, 3});
  StackProblem problem(rnn64, 5, 2, {5, 3}, true, 91);
  const Matrix<double> dx64 = problem.backward();

  StackedRNN<LSTM<float>, GRU<float>, SimpleRNN<float>> rnn32(3, {4, 5, 3});
  std::vector<Matrix<double>> values;
  rnn64.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { values.push_back(value); });
  std::size_t index = 0;
  rnn32.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { value = values[index++].cast<float>(); });
  std::vector<LayerState<float>> initial;
  OutputGradients<float> seeds(3);
  for (std::size_t k = 0; k < 3; ++k) {
    initial.push_back(
        {problem.initial_states[k].h.cast<float>(), problem.initial_states[k].c.cast<float>()});
    seeds.layer_output[k] = problem.seeds.layer_output[k].cast<float>();
    seeds.final_hidden[k] = problem.seeds.final_hidden[k].cast<float>();
    if (k == 0) seeds.final_cell[k] = problem.seeds.final_cell[k].cast<float>();
  }
  const Matrix<float> x = problem.x.cast<float>();
  rnn32.forward(x, 2, problem.lengths, initial);
  const Matrix<float> dx32 = rnn32.backward(seeds);
  CHECK((dx32.cast<double>() - dx64).cwiseAbs().maxCoeff() < 1e-4);
  CHECK((rnn32.layer_output(2).cast<double>() - rnn64.layer_output(2)).cwiseAbs().maxCoeff() <
        1e-5);
}
