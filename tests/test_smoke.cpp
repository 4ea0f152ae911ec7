#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>

TEST_CASE("stack compiles and runs forward and backward", "[smoke]") {
  using namespace deeprnn;
  StackedRNN<LSTM<double>, GRU<double>, SimpleRNN<double>, GRU<double, ResetGate::before>,
             SimpleRNN<double, Activation::relu>> rnn(3, {4, 5, 6, 7, 8});
  rnn.for_each_parameter([](const std::string&, auto& value, auto&) { value.setRandom(); });
  Matrix<double> x = Matrix<double>::Random(3, 2 * 5);
  std::vector<Index> lengths{5, 3};
  auto y = rnn.forward(x, 2, lengths);
  CHECK(y.rows() == 8);
  CHECK(y.cols() == 2);
  Matrix<double> dy = Matrix<double>::Ones(8, 2);
  auto dx = rnn.backward(dy);
  CHECK(dx.rows() == 3);
  SummaryRNN<GRU<double>> summary(rnn, 3, SummaryMode::final_state);
  auto e = summary.forward(rnn);
  CHECK(e.rows() == 3);
  OutputGradients<double> seeds(5);
  summary.backward(Matrix<double>::Ones(3, 2), seeds);
  rnn.backward(seeds);
  auto h = rnn.step(x.leftCols(2));
  CHECK(h.cols() == 2);
}
