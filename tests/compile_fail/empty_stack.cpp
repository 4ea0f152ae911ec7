// A stack needs at least one layer.
// expected-error: StackedRNN needs at least one layer type
#include <deeprnn/deeprnn.hpp>

int main() {
  deeprnn::StackedRNN<> rnn(3, {});
  return 0;
}
