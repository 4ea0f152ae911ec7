// The births forecaster: two stacked GRU layers read a window of previous days, and a Dense
// layer maps the top layer's last hidden state to the standardised count of the next day.
#ifndef DEEPRNN_EXAMPLES_BIRTHS_FORECAST_MODEL_HPP
#define DEEPRNN_EXAMPLES_BIRTHS_FORECAST_MODEL_HPP

#include <deeprnn/deeprnn.hpp>
#include <string>

#include "features.hpp"

namespace deeprnn::examples::births_forecast {

using Stack = StackedRNN<GRU<float>, GRU<float>>;

struct ModelConfig {
  Index hidden_size = 32;  // each of the two GRU layers
  // Variational dropout on the input of each GRU layer during training.
  double dropout = 0.0;
};

// For B windows of W days (x is kStepFeatureCount x W*B):
//   h = GRU(GRU(x)) after the last step     H x B
//   z_hat = w h + b                          1 x B, the standardised count of the next day
class Forecaster {
 public:
  Stack rnn;
  Dense<float> dense;

  explicit Forecaster(const ModelConfig& config)
      : rnn(kStepFeatureCount, {config.hidden_size, config.hidden_size},
            StackOptions{.dropout = config.dropout}),
        dense(config.hidden_size, 1),
        config_(config) {}

  // An optimizer keeps pointers to the parameters, so the model is neither copied nor moved.
  Forecaster(const Forecaster&) = delete;
  Forecaster& operator=(const Forecaster&) = delete;

  const ModelConfig& config() const { return config_; }

  // Keras' initialisers: Glorot kernels, orthogonal recurrent kernels, zero biases.
  void initialize(Random& random) {
    init::keras_default(rnn, random);
    init::keras_default(dense, random);
  }

  // Returns the forecasts, 1 x B. With `random`, new dropout masks are drawn for the batch
  // (training); without, no dropout acts.
  const Matrix<float>& forward(const ConstMatrixRef<float>& inputs, Index batch_size,
                               Random* random = nullptr) {
    if (random != nullptr && rnn.options.dropout > 0.0) {
      rnn.draw_dropout_masks(*random, batch_size);
    } else {
      rnn.clear_dropout_masks();
    }
    return dense.forward(rnn.forward(inputs, batch_size));
  }

  // Backpropagates dL/d(forecasts) of the last forward() and adds the parameter gradients.
  void backward(const ConstMatrixRef<float>& d_forecasts) {
    rnn.backward(dense.backward(d_forecasts));
  }

  void zero_gradients() {
    rnn.zero_gradients();
    dense.zero_gradients();
  }

  // Calls visit(name, value, gradient) for "rnn.weight_ih_l0" ... "rnn.bias_hh_l1",
  // "dense.weight" and "dense.bias".
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    rnn.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
      visit("rnn." + name, value, gradient);
    });
    visit(std::string("dense.weight"), dense.parameters.weight, dense.gradients.weight);
    visit(std::string("dense.bias"), dense.parameters.bias, dense.gradients.bias);
  }

 private:
  ModelConfig config_;
};

}  // namespace deeprnn::examples::births_forecast

#endif  // DEEPRNN_EXAMPLES_BIRTHS_FORECAST_MODEL_HPP
