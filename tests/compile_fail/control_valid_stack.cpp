// The valid counterpart of the cases in this folder. It must compile, so a broken include
// path or compiler setup fails this case instead of hiding among the expected errors.
// expected: compiles
#include <deeprnn/deeprnn.hpp>

int main() {
  deeprnn::StackedRNN<deeprnn::LSTM<float>, deeprnn::GRU<float>> rnn(3, {4, 5});
  deeprnn::SummaryRNN<deeprnn::GRU<float>> summary(rnn, 3, deeprnn::SummaryMode::final_state);
  return summary.summary_size() == 3 ? 0 : 1;
}
