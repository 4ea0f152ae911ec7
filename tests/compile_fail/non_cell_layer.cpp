// Every layer type must model the RecurrentCell concept.
// expected-error: must satisfy deeprnn::RecurrentCell
#include <deeprnn/deeprnn.hpp>

int main() {
  deeprnn::StackedRNN<deeprnn::LSTM<float>, int> rnn(3, {4, 5});
  return 0;
}
