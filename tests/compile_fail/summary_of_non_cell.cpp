// The summary cell must model the RecurrentCell concept too.
// expected-error: The cell type of SummaryRNN must satisfy deeprnn::RecurrentCell
#include <deeprnn/deeprnn.hpp>

int main() {
  deeprnn::SummaryRNN<int> summary({4, 5}, 3, deeprnn::SummaryMode::final_state);
  return 0;
}
