// Finite-difference checks of SummaryRNN trained end to end with the stack below it.
#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>

#include "support/gradient_check.hpp"
#include "support/stack_problem.hpp"

using namespace deeprnn;
using deeprnn::testing::check_gradient;
using deeprnn::testing::random_matrix;
using deeprnn::testing::StackProblem;

namespace {

// L = stack loss + <R_s, encoding> (+ <R_c, encoding cell state> for an LSTM summary).
template <class Stack, class SummaryCell>
void check_summary_gradients(Stack& rnn, SummaryMode mode, Index summary_size,
                             std::vector<Index> lengths, std::uint64_t seed) {
  const Index steps = 4;
  const Index batch = 3;
  StackProblem problem(rnn, steps, batch, std::move(lengths), false, seed);
  SummaryRNN<SummaryCell> summary(rnn, summary_size, mode);
  std::mt19937_64 engine(seed + 1);
  summary.for_each_parameter([&](const std::string&, auto& value, auto&) {
    value = random_matrix<double>(value.rows(), value.cols(), engine, 0.6);
  });
  const Index columns = mode == SummaryMode::final_state ? batch : steps * batch;
  const Matrix<double> weights = random_matrix<double>(summary_size, columns, engine);
  const bool has_cell = SummaryCell::state_count == 2;
  const Matrix<double> cell_weights =
      has_cell ? random_matrix<double>(summary_size, columns, engine) : Matrix<double>();

  auto loss = [&] {
    double total = problem.loss();
    total += summary.forward(rnn).cwiseProduct(weights).sum();
    if (has_cell) total += summary.encoding_cell().cwiseProduct(cell_weights).sum();
    return total;
  };

  loss();
  rnn.zero_gradients();
  summary.for_each_parameter([](const std::string&, auto&, auto& gradient) {
    gradient.setConstant(std::numeric_limits<double>::quiet_NaN());
  });
  summary.zero_gradients();
  OutputGradients<double> seeds = problem.seeds;
  summary.backward(weights, seeds, cell_weights);
  const Matrix<double> dx = rnn.backward(seeds);

  std::vector<Matrix<double>> analytic;
  auto collect = [&](const std::string&, auto&, auto& gradient) { analytic.push_back(gradient); };
  rnn.for_each_parameter(collect);
  summary.for_each_parameter(collect);
  std::size_t index = 0;
  auto compare = [&](const std::string& name, auto& value, auto&) {
    check_gradient(name, value, analytic[index++], loss);
  };
  rnn.for_each_parameter(compare);
  summary.for_each_parameter(compare);
  check_gradient("x", problem.x, dx, loss);
}

}  // namespace

TEST_CASE("summary over final states with projections", "[summary][gradient]") {
  StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>> rnn(3, {4, 5, 2});
  check_summary_gradients<decltype(rnn), GRU<double>>(rnn, SummaryMode::final_state, 3, {4, 2, 3},
                                                      101);
  check_summary_gradients<decltype(rnn), LSTM<double>>(rnn, SummaryMode::final_state, 3, {}, 102);
}

TEST_CASE("summary over final states without projection", "[summary][gradient]") {
  StackedRNN<GRU<double>, GRU<double>, GRU<double>> rnn(2, {4, 4, 4});
  check_summary_gradients<decltype(rnn), LSTM<double>>(rnn, SummaryMode::final_state, 4, {1, 4, 3},
                                                       103);
}

TEST_CASE("summary at every step", "[summary][gradient]") {
  StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>> rnn(2, {3, 4, 5});
  check_summary_gradients<decltype(rnn), GRU<double>>(rnn, SummaryMode::per_step, 3, {}, 104);
  check_summary_gradients<decltype(rnn), SimpleRNN<double>>(rnn, SummaryMode::per_step, 3,
                                                            {4, 1, 2}, 105);
}

TEST_CASE("per-step encoding is zero at padded steps", "[summary][lengths]") {
  StackedRNN<GRU<double>, LSTM<double>> rnn(2, {3, 4});
  StackProblem problem(rnn, 4, 2, {4, 2}, false, 106);
  problem.loss();
  SummaryRNN<GRU<double>> summary(rnn, 3, SummaryMode::per_step);
  summary.for_each_parameter(
      [](const std::string&, auto& value, auto&) { value.setConstant(0.3); });
  const Matrix<double> encoding = summary.forward(rnn);
  for (Index t = 0; t < 4; ++t) {
    INFO("step " << t);
    CHECK(encoding.col(t * 2).isZero(0.0) == false);
    CHECK(encoding.col(t * 2 + 1).isZero(0.0) == (t >= 2));
  }
}
