// All layers of a stack compute in one scalar type.
// expected-error: same scalar type
#include <deeprnn/deeprnn.hpp>

int main() {
  deeprnn::StackedRNN<deeprnn::LSTM<float>, deeprnn::GRU<double>> rnn(3, {4, 5});
  return 0;
}
