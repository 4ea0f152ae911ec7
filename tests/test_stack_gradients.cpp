// Finite-difference checks of every gradient of StackedRNN: parameters, inputs and initial
// states, for each cell type alone and for mixed stacks with lengths.
#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>

#include "support/gradient_check.hpp"
#include "support/stack_problem.hpp"

using namespace deeprnn;
using deeprnn::testing::check_gradient;
using deeprnn::testing::StackProblem;

namespace {

// Checks dL/d(every parameter), dL/dx and dL/d(initial states) against finite differences.
template <class Stack>
void check_all_gradients(StackProblem<Stack>& problem) {
  const Matrix<double> dx = problem.backward();
  std::vector<LayerState<double>> d_initial;
  for (std::size_t k = 0; k < Stack::layer_count; ++k) {
    d_initial.push_back(problem.rnn.initial_state_gradient(k));
  }
  std::vector<std::pair<std::string, Matrix<double>>> analytic;
  problem.rnn.for_each_parameter([&](const std::string& name, auto&, auto& gradient) {
    analytic.emplace_back(name, gradient);
  });

  auto loss = [&] { return problem.loss(); };
  std::size_t index = 0;
  problem.rnn.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    check_gradient(name, value, analytic[index++].second, loss);
  });
  check_gradient("x", problem.x, dx, loss);
  for (std::size_t k = 0; k < problem.initial_states.size(); ++k) {
    const std::string layer = "initial_states[" + std::to_string(k) + "]";
    check_gradient(layer + ".h", problem.initial_states[k].h, d_initial[k].h, loss);
    if (problem.rnn.has_cell_state(k)) {
      check_gradient(layer + ".c", problem.initial_states[k].c, d_initial[k].c, loss);
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("single cell gradients match finite differences", "[gradient]",
                   (SimpleRNN<double, Activation::tanh>), (SimpleRNN<double, Activation::relu>),
                   LSTM<double>, (GRU<double, ResetGate::after>),
                   (GRU<double, ResetGate::before>)) {
  StackedRNN<TestType> rnn(3, {4});
  SECTION("full length, zero initial state") {
    StackProblem problem(rnn, 5, 2, {}, false, 11);
    check_all_gradients(problem);
  }
  SECTION("lengths and initial state") {
    StackProblem problem(rnn, 6, 3, {6, 2, 4}, true, 12);
    check_all_gradients(problem);
  }
}

TEST_CASE("mixed stack gradients match finite differences", "[gradient]") {
  StackedRNN<LSTM<double>, GRU<double, ResetGate::before>, SimpleRNN<double, Activation::relu>,
             GRU<double>>
      rnn(3, {5, 4, 3, 2});
  SECTION("lengths with max below T and a sample of length 1") {
    StackProblem problem(rnn, 6, 4, {5, 1, 3, 2}, true, 21);
    check_all_gradients(problem);
  }
  SECTION("one sample, one step") {
    StackProblem problem(rnn, 1, 1, {}, true, 22);
    check_all_gradients(problem);
  }
}

TEST_CASE("padded steps receive exactly zero input gradient", "[gradient][lengths]") {
  StackedRNN<GRU<double>, LSTM<double>> rnn(2, {3, 4});
  StackProblem problem(rnn, 5, 3, {5, 2, 3}, false, 31);
  const Matrix<double> dx = problem.backward();
  for (Index t = 0; t < 5; ++t) {
    for (Index b = 0; b < 3; ++b) {
      const bool padded = t >= problem.lengths[b];
      INFO("step " << t << ", sample " << b);
      if (padded) {
        CHECK(dx.col(t * 3 + b).isZero(0.0));
      } else {
        CHECK_FALSE(dx.col(t * 3 + b).isZero(0.0));
      }
    }
  }
}
