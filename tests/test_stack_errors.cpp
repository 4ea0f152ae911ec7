// Invalid arguments to StackedRNN and SummaryRNN raise deeprnn::invalid_argument with a
// message naming the value found and the value expected.
#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>
#include <limits>

using namespace deeprnn;
using Catch::Matchers::Contains;

namespace {
using Stack = StackedRNN<LSTM<double>, GRU<double>>;
}

TEST_CASE("cell sizes must be positive", "[errors]") {
  CHECK_THROWS_WITH(LSTM<double>(0, 4), Contains("LSTM input_size is 0, expected at least 1"));
  CHECK_THROWS_WITH(GRU<float>(3, -2), Contains("GRU hidden_size is -2, expected at least 1"));
}

TEST_CASE("layer widths must chain", "[errors]") {
  CHECK_THROWS_WITH(Stack(LSTM<double>(3, 4), GRU<double>(5, 2)),
                    Contains("layer 1 has input_size 5 but layer 0 has hidden_size 4"));
  CHECK_NOTHROW(Stack(LSTM<double>(3, 4), GRU<double>(4, 2)));
}

TEST_CASE("forward rejects malformed input", "[errors]") {
  Stack rnn(3, {4, 2});
  const Matrix<double> x = Matrix<double>::Zero(3, 6);
  CHECK_THROWS_WITH(rnn.forward(Matrix<double>::Zero(2, 6), 2),
                    Contains("x has 2 rows, expected input_size = 3"));
  CHECK_THROWS_WITH(rnn.forward(x, 0), Contains("batch_size is 0, expected at least 1"));
  CHECK_THROWS_WITH(rnn.forward(Matrix<double>::Zero(3, 0), 2), Contains("x has no columns"));
  CHECK_THROWS_WITH(rnn.forward(x, 4),
                    Contains("6 columns, which is not a multiple of batch_size = 4"));
  Matrix<double> bad = x;
  bad(1, 4) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(rnn.forward(bad, 2), Contains("non-finite value") && Contains("column 4"));
  bad(1, 4) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(rnn.forward(bad, 2), deeprnn::invalid_argument);
}

TEST_CASE("forward rejects lengths out of range", "[errors][lengths]") {
  Stack rnn(3, {4, 2});
  const Matrix<double> x = Matrix<double>::Zero(3, 6);
  const std::vector<Index> too_long{3, 4};
  const std::vector<Index> zero{0, 2};
  const std::vector<Index> wrong_count{3};
  CHECK_THROWS_WITH(rnn.forward(x, 2, too_long), Contains("lengths[1] is 4, expected 1..3"));
  CHECK_THROWS_WITH(rnn.forward(x, 2, zero), Contains("lengths[0] is 0, expected 1..3"));
  CHECK_THROWS_WITH(rnn.forward(x, 2, wrong_count),
                    Contains("lengths has 1 entries, expected one per sample"));
}

TEST_CASE("non-finite values at padded steps are ignored", "[errors][lengths]") {
  Stack rnn(3, {4, 2});
  Matrix<double> x = Matrix<double>::Zero(3, 6);
  x(0, 5) = std::numeric_limits<double>::quiet_NaN();  // step 2, sample 1
  const std::vector<Index> lengths{3, 2};
  CHECK_NOTHROW(rnn.forward(x, 2, lengths));
  CHECK(rnn.layer_output(1).allFinite());
}

TEST_CASE("initial states must match the layers", "[errors]") {
  Stack rnn(3, {4, 2});
  const Matrix<double> x = Matrix<double>::Zero(3, 6);
  std::vector<LayerState<double>> states{{Matrix<double>::Zero(4, 2), Matrix<double>::Zero(4, 2)},
                                         {Matrix<double>::Zero(2, 2), Matrix<double>()}};
  CHECK_NOTHROW(rnn.forward(x, 2, {}, states));
  CHECK_THROWS_WITH(rnn.forward(x, 2, {}, std::span(states).first(1)),
                    Contains("initial_states has 1 entries, expected one per layer (2)"));
  auto wrong = states;
  wrong[0].h = Matrix<double>::Zero(4, 3);
  CHECK_THROWS_WITH(rnn.forward(x, 2, {}, wrong),
                    Contains("initial_states[0].h has shape 4 x 3, expected 4 x 2"));
  wrong = states;
  wrong[1].c = Matrix<double>::Zero(2, 2);
  CHECK_THROWS_WITH(rnn.forward(x, 2, {}, wrong),
                    Contains("initial_states[1].c is set but layer 1 has no cell state"));
  wrong = states;
  wrong[0].c(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(rnn.forward(x, 2, {}, wrong), Contains("initial_states[0].c contains"));
}

TEST_CASE("backward rejects misuse", "[errors]") {
  Stack rnn(3, {4, 2});
  CHECK_THROWS_WITH(rnn.backward(Matrix<double>::Zero(2, 2)),
                    Contains("backward was called before forward()"));
  rnn.forward(Matrix<double>::Zero(3, 6), 2);
  CHECK_THROWS_WITH(rnn.backward(Matrix<double>::Zero(2, 6)),
                    Contains("d_output has shape 2 x 6, expected 2 x 2"));
  OutputGradients<double> seeds(2);
  seeds.final_cell[1] = Matrix<double>::Zero(2, 2);
  CHECK_THROWS_WITH(rnn.backward(seeds),
                    Contains("final_cell[1] is set but layer 1 has no cell state"));
  CHECK_THROWS_WITH(rnn.backward(OutputGradients<double>(1)),
                    Contains("must have one entry per layer (2)"));
  CHECK_THROWS_WITH(rnn.final_cell(1), Contains("layer 1 has no cell state"));
  CHECK_THROWS_WITH(rnn.layer_output(2), Contains("layer index 2 is out of range"));
}

TEST_CASE("step rejects a changed batch", "[errors][step]") {
  Stack rnn(3, {4, 2});
  rnn.step(Matrix<double>::Zero(3, 2));
  CHECK_THROWS_WITH(rnn.step(Matrix<double>::Zero(3, 1)),
                    Contains("x has 1 columns but the stream runs a batch of 2"));
  rnn.reset_state();
  CHECK_NOTHROW(rnn.step(Matrix<double>::Zero(3, 1)));
  CHECK_THROWS_WITH(rnn.step(Matrix<double>::Zero(2, 1)),
                    Contains("step: x has shape 2 x 1, expected 3 x 1"));
}

TEST_CASE("summary rejects misuse", "[errors][summary]") {
  Stack rnn(3, {4, 2});
  CHECK_THROWS_WITH(SummaryRNN<GRU<double>>(std::vector<Index>{}, 3, SummaryMode::final_state),
                    Contains("at least one layer"));
  SummaryRNN<GRU<double>> summary(rnn, 3, SummaryMode::final_state);
  CHECK(summary.has_projection());
  CHECK_THROWS_WITH(summary.backward_layers(Matrix<double>::Zero(3, 2)),
                    Contains("called before forward"));
  rnn.forward(Matrix<double>::Zero(3, 6), 2);
  summary.forward(rnn);
  CHECK_THROWS_WITH(summary.backward_layers(Matrix<double>::Zero(3, 6)),
                    Contains("d_encoding has shape 3 x 6, expected 3 x 2"));
  CHECK_THROWS_WITH(summary.backward_layers(Matrix<double>::Zero(3, 2), Matrix<double>::Zero(3, 2)),
                    Contains("the summary cell has no cell state"));
}
