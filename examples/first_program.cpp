// The README's first program: a three-layer stack with a summary encoder, one forward and
// one backward pass.
#include <deeprnn/deeprnn.hpp>
#include <iostream>

int main() {
  using namespace deeprnn;
  StackedRNN<LSTM<float>, GRU<float>, SimpleRNN<float>> rnn(16, {64, 32, 8});
  SummaryRNN<GRU<float>> summary(rnn, 8, SummaryMode::final_state);
  Random random(42);
  init::keras_default(rnn, random);
  init::keras_default(summary, random);

  const Index steps = 20, batch = 4;
  Matrix<float> x(16, steps * batch);  // column t * batch + b: sample b at step t
  random.fill_uniform(x, -1.0, 1.0);
  const std::vector<Index> lengths{20, 17, 5, 12};
  rnn.forward(x, batch, lengths);                // every layer's outputs and final states
  const Matrix<float> encoding = summary.forward(rnn);  // 8 x batch: the whole stack

  OutputGradients<float> seeds(rnn.layer_count);  // dL/d(any layer's outputs or states)
  summary.backward(Matrix<float>::Ones(8, batch), seeds);  // L = sum of the encoding
  rnn.backward(seeds);  // gradients accumulate in rnn.layer<k>().gradients
  std::cout << "encoding norm " << encoding.norm() << ", |dL/dW_ih of layer 0| "
            << rnn.layer<0>().gradients.weight_ih.norm() << "\n";
}
