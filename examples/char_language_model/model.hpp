// The character language model: Embedding -> two stacked LSTMs -> Dropout -> Dense, with a
// softmax over the vocabulary at every step.
#ifndef DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_MODEL_HPP
#define DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_MODEL_HPP

#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <span>
#include <string>

namespace deeprnn::examples::char_language_model {

using Stack = StackedRNN<LSTM<float>, LSTM<float>>;

struct ModelConfig {
  Index vocabulary_size = 0;
  Index embedding_size = 32;
  Index hidden_size = 256;  // each of the two LSTM layers
  // Variational dropout rate on the input of each LSTM layer (one mask per window and stream).
  double dropout = 0.0;
  // Dropout rate on the top layer's outputs before the Dense layer (a new mask at every step).
  double output_dropout = 0.0;
};

// For a window of T steps over B parallel streams of character ids (position t*B + b is stream
// b at step t):
//   e = Embedding(ids)                               E x T*B
//   h = LSTM(LSTM(e)), both layers stateful          H x T*B, the top layer's whole sequence
//   logits = W Dropout(h) + b                        V x T*B
// Each window starts from the states the previous window ended with until reset_state(), and
// backward() stops at the window's first step: truncated backpropagation through time.
class CharLanguageModel {
 public:
  Embedding<float> embedding;
  Stack rnn;
  Dropout<float> output_dropout;
  Dense<float> dense;

  explicit CharLanguageModel(const ModelConfig& config)
      : embedding(config.vocabulary_size, config.embedding_size),
        rnn(config.embedding_size, {config.hidden_size, config.hidden_size},
            StackOptions{.return_sequences = true, .stateful = true, .dropout = config.dropout}),
        output_dropout(config.output_dropout),
        dense(config.hidden_size, config.vocabulary_size),
        config_(config) {}

  // An optimizer keeps pointers to the parameters, so the model is neither copied nor moved.
  CharLanguageModel(const CharLanguageModel&) = delete;
  CharLanguageModel& operator=(const CharLanguageModel&) = delete;

  const ModelConfig& config() const { return config_; }

  // Draws the embedding from PyTorch's standard normal, then the LSTM layers (bottom to top)
  // and the Dense layer from Keras' initialisers: Glorot kernels, orthogonal recurrent kernels,
  // forget-gate bias 1. Keras' embedding range of +-0.05 gives the LSTMs inputs so small that
  // training stays near the unigram's 4.4 bits per character for more steps.
  void initialize(Random& random) {
    init::pytorch_default(embedding, random);
    init::keras_default(rnn, random);
    init::keras_default(dense, random);
  }

  bool training() const { return training_; }

  // Evaluation mode turns both dropouts off.
  void set_training(bool training) {
    training_ = training;
    output_dropout.training = training;
    if (!training) rnn.clear_dropout_masks();
  }

  // Forgets the carried states, so that the next window starts from zero states.
  void reset_state() { rnn.reset_state(); }

  // Returns the logits of every step, V x T*B. In training mode new dropout masks are drawn
  // from `random` for the window; otherwise `random` is not used.
  const Matrix<float>& forward(std::span<const std::int64_t> ids, Index batch_size,
                               Random& random) {
    const Matrix<float>& embedded = embedding.forward(ids);
    if (training_ && rnn.options.dropout > 0.0) rnn.draw_dropout_masks(random, batch_size);
    const ConstMatrixRef<float> top = rnn.forward(embedded, batch_size);
    return dense.forward(output_dropout.forward(top, random));
  }

  // Backpropagates dL/dlogits of the last forward() and adds every parameter's gradient.
  void backward(const ConstMatrixRef<float>& d_logits) {
    const Matrix<float>& d_top = output_dropout.backward(dense.backward(d_logits));
    embedding.backward(rnn.backward(d_top));
  }

  // Feeds `id` to the sampling stream and returns the logits of the next character, V x 1.
  // The stream starts from zero states after reset_sampling().
  const Matrix<float>& next_logits(std::int64_t id) {
    const std::int64_t ids[] = {id};
    const Matrix<float>& embedded = embedding.forward(std::span<const std::int64_t>(ids));
    return dense.forward(rnn.step(embedded));
  }

  void reset_sampling() { rnn.reset_state(); }

  void zero_gradients() {
    embedding.zero_gradients();
    rnn.zero_gradients();
    dense.zero_gradients();
  }

  // Calls visit(name, value, gradient) for "embedding.weight", "rnn.weight_ih_l0" ...
  // "rnn.bias_hh_l1", "dense.weight" and "dense.bias".
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    visit(std::string("embedding.weight"), embedding.parameters.weight, embedding.gradients.weight);
    rnn.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
      visit("rnn." + name, value, gradient);
    });
    visit(std::string("dense.weight"), dense.parameters.weight, dense.gradients.weight);
    visit(std::string("dense.bias"), dense.parameters.bias, dense.gradients.bias);
  }

 private:
  ModelConfig config_;
  bool training_ = true;
};

}  // namespace deeprnn::examples::char_language_model

#endif  // DEEPRNN_EXAMPLES_CHAR_LANGUAGE_MODEL_MODEL_HPP
