// A program outside the deeprnn tree that uses only the public header, built by each consumer
// project here. It runs a stack and its summary forward and backward, and checks dL/dx of
// one input entry against a central finite difference. Exits 1 on any failed check.
#include <cmath>
#include <cstdio>
#include <deeprnn/deeprnn.hpp>
#include <string>
#include <vector>

namespace {

using deeprnn::Index;
using Stack =
    deeprnn::StackedRNN<deeprnn::LSTM<float>, deeprnn::GRU<float>, deeprnn::SimpleRNN<float>>;
using Summary = deeprnn::SummaryRNN<deeprnn::GRU<float>>;

constexpr Index kInputSize = 3;
constexpr Index kSteps = 4;
constexpr Index kBatch = 2;
constexpr Index kSummarySize = 5;

// Fills every parameter with deterministic values in [-1, 1], different for each entry.
template <class Model>
void fill_parameters(Model& model, float phase) {
  int counter = 0;
  model.for_each_parameter([&](const std::string&, auto& value, auto&) {
    for (Index i = 0; i < value.size(); ++i) {
      value.data()[i] = std::sin(phase + 0.7f * static_cast<float>(counter++));
    }
  });
}

// L = sum of the summary encoding of the stack's final states.
float loss(Stack& stack, Summary& summary, const deeprnn::Matrix<float>& x,
           const std::vector<Index>& lengths) {
  stack.forward(x, kBatch, lengths);
  return summary.forward(stack).sum();
}

bool check(bool condition, const char* what) {
  if (!condition) std::fprintf(stderr, "consumer check failed: %s\n", what);
  return condition;
}

}  // namespace

int main() {
  Stack stack(kInputSize, {4, 6, 5});
  Summary summary(stack, kSummarySize, deeprnn::SummaryMode::final_state);
  fill_parameters(stack, 0.3f);
  fill_parameters(summary, 1.1f);

  deeprnn::Matrix<float> x(kInputSize, kSteps * kBatch);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = std::cos(0.9f * static_cast<float>(i));
  const std::vector<Index> lengths{kSteps, kSteps - 1};

  loss(stack, summary, x, lengths);
  const deeprnn::Matrix<float> encoding = summary.forward(stack);
  deeprnn::OutputGradients<float> seeds(Stack::layer_count);
  summary.backward(deeprnn::Matrix<float>::Ones(kSummarySize, kBatch), seeds);
  const deeprnn::Matrix<float> dx = stack.backward(seeds);

  bool ok = true;
  ok &= check(encoding.rows() == kSummarySize && encoding.cols() == kBatch,
              "encoding is summary_size x batch");
  ok &= check(encoding.allFinite(), "encoding is finite");
  ok &= check(dx.rows() == kInputSize && dx.cols() == kSteps * kBatch,
              "dL/dx is input_size x steps*batch");
  ok &= check(dx.allFinite() && dx.norm() > 0.0f, "dL/dx is finite and not zero");
  float gradient_squared_norm = 0.0f;
  stack.for_each_parameter([&](const std::string&, auto&, auto& gradient) {
    gradient_squared_norm += gradient.squaredNorm();
  });
  ok &= check(std::isfinite(gradient_squared_norm) && gradient_squared_norm > 0.0f,
              "parameter gradients are finite and not zero");

  // Central difference on the entry of x with the largest |dL/dx|, so that a wrong gradient
  // cannot hide below the tolerance. In float the truncation error is O(h^2), about 1e-4, and
  // the rounding error about 1e-7 / h = 1e-5.
  Index row = 0;
  Index column = 0;
  dx.cwiseAbs().maxCoeff(&row, &column);
  const float h = 1e-2f;
  deeprnn::Matrix<float> shifted = x;
  shifted(row, column) = x(row, column) + h;
  const float loss_plus = loss(stack, summary, shifted, lengths);
  shifted(row, column) = x(row, column) - h;
  const float loss_minus = loss(stack, summary, shifted, lengths);
  const float numeric = (loss_plus - loss_minus) / (2.0f * h);
  std::printf("dL/dx(%ld, %ld): backward %.6f, finite difference %.6f\n", static_cast<long>(row),
              static_cast<long>(column), dx(row, column), numeric);
  ok &= check(std::abs(numeric) > 5e-3f, "the largest |dL/dx| is above 5e-3");
  ok &= check(std::abs(dx(row, column) - numeric) <= 1e-2f * std::abs(numeric) + 1e-5f,
              "dL/dx matches the finite difference");

  std::printf("consumer %s\n", ok ? "passed" : "failed");
  return ok ? 0 : 1;
}
