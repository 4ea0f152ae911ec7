// Variational input and recurrent dropout inside the stack: gradients with fixed masks, and
// the masks' shape, values and reuse across steps.
#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>

#include "support/gradient_check.hpp"
#include "support/stack_problem.hpp"

using namespace deeprnn;
using deeprnn::testing::check_gradient;
using deeprnn::testing::StackProblem;

namespace {

// A 0 / 1.25 mask (rate 0.2) with a fixed pattern.
Matrix<double> fixed_mask(Index rows, Index cols, int offset) {
  Matrix<double> mask(rows, cols);
  for (Index j = 0; j < cols; ++j) {
    for (Index i = 0; i < rows; ++i) mask(i, j) = (i + 2 * j + offset) % 3 == 0 ? 0.0 : 1.25;
  }
  return mask;
}

template <class Stack>
void check_gradients_with_masks(Stack& rnn, std::vector<Index> lengths, std::uint64_t seed) {
  const Index batch = 3;
  StackProblem problem(rnn, 5, batch, std::move(lengths), true, seed);
  std::vector<Matrix<double>> input_masks;
  std::vector<Matrix<double>> recurrent_masks;
  for (std::size_t k = 0; k < Stack::layer_count; ++k) {
    const Index width = k == 0 ? rnn.input_size() : rnn.hidden_size(k - 1);
    input_masks.push_back(fixed_mask(width, batch, static_cast<int>(k)));
    recurrent_masks.push_back(fixed_mask(rnn.hidden_size(k), batch, static_cast<int>(k) + 1));
  }
  rnn.set_dropout_masks(input_masks, recurrent_masks);

  const Matrix<double> dx = problem.backward();
  std::vector<Matrix<double>> analytic;
  rnn.for_each_parameter(
      [&](const std::string&, auto&, auto& gradient) { analytic.push_back(gradient); });
  const LayerState<double> d_initial = rnn.initial_state_gradient(0);
  auto loss = [&] { return problem.loss(); };
  std::size_t index = 0;
  rnn.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    check_gradient(name, value, analytic[index++], loss);
  });
  check_gradient("x", problem.x, dx, loss);
  check_gradient("initial_states[0].h", problem.initial_states[0].h, d_initial.h, loss);
}

}  // namespace

TEST_CASE("dropout masks: gradients match finite differences", "[dropout][gradient]") {
  SECTION("LSTM and GRU reset-after") {
    StackedRNN<LSTM<double>, GRU<double>> rnn(4, {3, 4});
    check_gradients_with_masks(rnn, {5, 2, 4}, 201);
  }
  SECTION("GRU reset-before and SimpleRNN") {
    StackedRNN<GRU<double, ResetGate::before>, SimpleRNN<double>> rnn(4, {4, 3});
    check_gradients_with_masks(rnn, {}, 202);
  }
}

TEST_CASE("drawn dropout masks are reused at every step", "[dropout]") {
  StackedRNN<LSTM<double>, GRU<double>> rnn(6, {5, 4},
                                            StackOptions{.dropout = 0.5, .recurrent_dropout = 0.3});
  StackProblem problem(rnn, 4, 3, {}, false, 203);
  Random random(7);
  rnn.draw_dropout_masks(random, 3);
  const Matrix<double> dx = problem.backward();
  // Layer 0's input mask zeroes a feature of a sample at every step, so its gradient is zero
  // at every step; features kept have non-zero gradient at every step.
  int dropped = 0;
  for (Index b = 0; b < 3; ++b) {
    for (Index i = 0; i < 6; ++i) {
      const bool zero_at_first_step = dx(i, b) == 0.0;
      dropped += zero_at_first_step;
      for (Index t = 1; t < 4; ++t) CHECK((dx(i, t * 3 + b) == 0.0) == zero_at_first_step);
    }
  }
  CHECK(dropped > 0);
  CHECK(dropped < 18);

  const double with_masks = problem.loss();
  rnn.clear_dropout_masks();
  CHECK(problem.loss() != with_masks);
  rnn.draw_dropout_masks(random, 3);
  CHECK_THROWS_WITH(rnn.forward(problem.x.leftCols(8), 2),
                    Catch::Matchers::Contains("dropout masks were drawn for batch_size 3"));
}

TEST_CASE("dropout rates are checked", "[dropout][errors]") {
  StackedRNN<LSTM<double>> rnn(2, {3}, StackOptions{.dropout = 1.0});
  Random random(1);
  CHECK_THROWS_WITH(rnn.draw_dropout_masks(random, 2),
                    Catch::Matchers::Contains("StackOptions::dropout is 1.0"));
  CHECK_THROWS_WITH(
      rnn.set_dropout_masks({Matrix<double>::Ones(3, 2)}, {}),
      Catch::Matchers::Contains("input dropout mask of layer 0 has shape 3 x 2, expected 2 x 2"));
}
