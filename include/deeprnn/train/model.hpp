// SequenceClassifier: token ids -> Embedding -> SpatialDropout1D -> StackedRNN -> features ->
// Dense -> softmax cross-entropy, with forward and backward passes over a padded mini-batch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deeprnn/cells/lstm.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/init.hpp>
#include <deeprnn/layers/dense.hpp>
#include <deeprnn/layers/dropout.hpp>
#include <deeprnn/layers/embedding.hpp>
#include <deeprnn/random.hpp>
#include <deeprnn/stacked_rnn.hpp>
#include <deeprnn/summary_rnn.hpp>
#include <deeprnn/train/batching.hpp>
#include <deeprnn/train/losses.hpp>
#include <deeprnn/train/metrics.hpp>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace deeprnn {

// Input of the classification head.
enum class ClassifierFeatures {
  // Each sample's hidden state after its last valid step in the top layer, H_top x B.
  top_final_hidden,
  // The SummaryRNN encoding of every layer's final hidden state (SummaryMode::final_state),
  // S x B.
  summary,
};

struct ClassifierConfig {
  Index vocabulary_size = 0;
  Index embedding_size = 0;
  // Width of each recurrent layer, bottom first: one entry per cell type of the stack.
  std::vector<Index> hidden_sizes;
  Index class_count = 0;
  // SpatialDropout1D rate on the embedded sequence during training, in [0, 1).
  double dropout_rate = 0.0;
  ClassifierFeatures features = ClassifierFeatures::top_final_hidden;
  // Width S of the summary encoding; 0 means the top layer's width.
  Index summary_size = 0;
  // Token id that embeds as a zero vector and gets no gradient (see Embedding); none by
  // default. Padded steps are ignored through the lengths whatever this is.
  std::optional<std::int64_t> padding_id;
};

template <class T>
struct is_stacked_rnn : std::false_type {};
template <class... Cells>
struct is_stacked_rnn<StackedRNN<Cells...>> : std::true_type {};

// A sequence classifier over padded mini-batches of token ids (T*B ids, position t*B + b is
// sample b at step t, with per-sample lengths):
//   e = Embedding(ids)                       E x T*B
//   x = SpatialDropout1D(e)                  identity unless training
//   StackedRNN over x with the lengths
//   f = final_hidden(top)  or  SummaryRNN(final hidden states of every layer)
//   logits = W f + b                         C x B
//   L = mean over samples of softmax cross-entropy(logits, labels)
// Backward runs the same chain in reverse: Dense, then the summary (which seeds every layer's
// final hidden state) or the top layer's final hidden state, the stack, the dropout mask and
// the embedding's scatter-add. Padded steps get zero gradient.
//
// `Stack` is a StackedRNN<Cells...>; `SummaryCell` is the cell of the summary encoder, used
// only when ClassifierConfig::features is ClassifierFeatures::summary. The components are
// public so that tests and initialisers can reach them; the model must not be moved while an
// optimizer holds pointers to its parameters.
template <class Stack, class SummaryCell = LSTM<typename Stack::Scalar>>
class SequenceClassifier {
  static_assert(is_stacked_rnn<Stack>::value,
                "SequenceClassifier<Stack>: Stack must be a StackedRNN<Cells...>, for example "
                "StackedRNN<LSTM<float>, LSTM<float>>.");
  static_assert(std::is_same_v<typename SummaryCell::Scalar, typename Stack::Scalar>,
                "The summary cell must use the stack's scalar type.");

 public:
  using Scalar = typename Stack::Scalar;
  static constexpr std::size_t layer_count = Stack::layer_count;

  Embedding<Scalar> embedding;
  SpatialDropout1D<Scalar> dropout;
  Stack rnn;
  std::optional<SummaryRNN<SummaryCell>> summary;
  Dense<Scalar> dense;

  // Builds the layers with zero parameters; initialise them with init::keras_default or
  // init::pytorch_default (below), or load weights.
  explicit SequenceClassifier(const ClassifierConfig& config)
      : embedding(config.vocabulary_size, config.embedding_size, config.padding_id),
        dropout(config.dropout_rate),
        rnn(config.embedding_size, checked_hidden_sizes(config.hidden_sizes)),
        dense(feature_size(config), checked_class_count(config.class_count)),
        config_(config) {
    if (config.features == ClassifierFeatures::summary) {
      summary.emplace(rnn, summary_size(config), SummaryMode::final_state);
    }
    config_.summary_size = summary ? summary->summary_size() : 0;
  }

  // A copy would keep the optimizer's pointers on the original, so there is none.
  SequenceClassifier(const SequenceClassifier&) = delete;
  SequenceClassifier& operator=(const SequenceClassifier&) = delete;

  // The configuration, with summary_size resolved (0 without a summary).
  const ClassifierConfig& config() const { return config_; }
  Index class_count() const { return dense.output_size(); }
  bool uses_summary() const { return summary.has_value(); }

  // Training mode draws a dropout mask in forward(); evaluation mode does not.
  bool training() const { return dropout.training; }
  void set_training(bool training) { dropout.training = training; }

  // Runs the model over a padded batch and returns the logits, C x B. `lengths` is empty (every
  // sample has T = ids.size() / batch_size steps) or one length per sample. In training mode
  // the dropout mask is drawn from `random` (F x B uniforms, see SpatialDropout1D); otherwise
  // `random` is not used. Keeps what backward() needs.
  const Matrix<Scalar>& forward(std::span<const std::int64_t> ids, Index batch_size,
                                std::span<const Index> lengths, Random& random) {
    check_batch_shape(ids, batch_size);
    const Matrix<Scalar>& embedded = embedding.forward(ids);
    const Matrix<Scalar>& dropped = dropout.forward(embedded, batch_size, random);
    rnn.forward(dropped, batch_size, lengths);

    const std::size_t top = layer_count - 1;
    if (summary) {
      features_ = summary->forward(rnn);
    } else {
      features_ = rnn.final_hidden(top);
    }
    return dense.forward(features_);
  }

  const Matrix<Scalar>& forward(const SequenceBatch& batch, Random& random) {
    return forward(batch.ids, batch.batch_size, batch.lengths, random);
  }

  // Backpropagates dL/dlogits (C x B) of the last forward() and adds every parameter's
  // gradient to its buffer; call zero_gradients() between optimiser steps.
  void backward(const ConstMatrixRef<Scalar>& d_logits) {
    const Matrix<Scalar>& d_features = dense.backward(d_logits);
    if (summary) {
      OutputGradients<Scalar> seeds(layer_count);
      summary->backward(d_features, seeds);
      d_embedded_ = dropout.backward(rnn.backward(seeds));
    } else {
      d_embedded_ = dropout.backward(rnn.backward(d_features));
    }
    embedding.backward(d_embedded_);
  }

  // The features the head read in the last forward(), F x B.
  const Matrix<Scalar>& features() const { return features_; }

  // dL/d(embedding output), E x T*B, from the last backward(): the gradient before the
  // embedding's scatter-add, zero at padded steps.
  const Matrix<Scalar>& embedding_output_gradient() const { return d_embedded_; }

  // One training evaluation of a labelled batch: forward, mean softmax cross-entropy and, with
  // `compute_gradients`, backward. Returns the loss and the number of correct predictions.
  struct BatchResult {
    double loss = 0.0;
    std::int64_t correct = 0;
  };

  BatchResult forward_backward(const SequenceBatch& batch, Random& random,
                               bool compute_gradients = true) {
    const Matrix<Scalar>& logits = forward(batch, random);
    Matrix<Scalar>* d_logits = compute_gradients ? &d_logits_ : nullptr;
    BatchResult result;
    result.loss = static_cast<double>(softmax_cross_entropy(logits, batch.labels, d_logits));
    const std::vector<std::int64_t> predicted = predicted_classes(logits);
    for (std::size_t b = 0; b < predicted.size(); ++b) {
      if (predicted[b] == batch.labels[b]) ++result.correct;
    }
    if (compute_gradients) backward(d_logits_);
    return result;
  }

  // Class probabilities (softmax of the logits), C x B, in evaluation mode whatever the
  // training flag; the flag is left as it was. Overwrites the state kept for backward().
  Matrix<Scalar> predict(std::span<const std::int64_t> ids, Index batch_size,
                         std::span<const Index> lengths = {}) {
    const bool was_training = training();
    set_training(false);
    Random unused;
    Matrix<Scalar> logits;
    try {
      logits = forward(ids, batch_size, lengths, unused);
    } catch (...) {
      set_training(was_training);
      throw;
    }
    set_training(was_training);

    Matrix<Scalar> probabilities(logits.rows(), logits.cols());
    for (Index b = 0; b < logits.cols(); ++b) {
      const auto exponentials = (logits.col(b).array() - logits.col(b).maxCoeff()).exp();
      probabilities.col(b) = exponentials / exponentials.sum();
    }
    return probabilities;
  }

  Matrix<Scalar> predict(const SequenceBatch& batch) {
    return predict(batch.ids, batch.batch_size, batch.lengths);
  }

  void zero_gradients() {
    embedding.zero_gradients();
    rnn.zero_gradients();
    if (summary) summary->zero_gradients();
    dense.zero_gradients();
  }

  // Calls visit(name, value, gradient) for every parameter tensor: "embedding.weight",
  // "rnn.weight_ih_l0" ... "rnn.bias_hh_l<N-1>", the summary's "summary.weight_ih" ...
  // "summary.proj.k.bias" when it has one, "dense.weight", "dense.bias".
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    visit(std::string("embedding.weight"), embedding.parameters.weight, embedding.gradients.weight);
    rnn.for_each_parameter([&](const std::string& name, auto& value, auto& gradient) {
      visit("rnn." + name, value, gradient);
    });
    if (summary) summary->for_each_parameter(visit);
    visit(std::string("dense.weight"), dense.parameters.weight, dense.gradients.weight);
    visit(std::string("dense.bias"), dense.parameters.bias, dense.gradients.bias);
  }

 private:
  static std::array<Index, layer_count> checked_hidden_sizes(const std::vector<Index>& sizes) {
    if (sizes.size() != layer_count) {
      detail::throw_invalid("ClassifierConfig: hidden_sizes has " + std::to_string(sizes.size()) +
                            " entries but the stack has " + std::to_string(layer_count) +
                            " layers; give one width per layer, bottom first");
    }
    std::array<Index, layer_count> result{};
    for (std::size_t k = 0; k < layer_count; ++k) {
      if (sizes[k] < 1) {
        detail::throw_invalid("ClassifierConfig: hidden_sizes[" + std::to_string(k) + "] is " +
                              std::to_string(sizes[k]) + ", expected at least 1");
      }
      result[k] = sizes[k];
    }
    return result;
  }

  static Index checked_class_count(Index class_count) {
    if (class_count < 2) {
      detail::throw_invalid("ClassifierConfig: class_count is " + std::to_string(class_count) +
                            ", expected at least 2");
    }
    return class_count;
  }

  static Index summary_size(const ClassifierConfig& config) {
    if (config.summary_size < 0) {
      detail::throw_invalid("ClassifierConfig: summary_size is " +
                            std::to_string(config.summary_size) +
                            ", expected at least 1, or 0 for the top layer's width");
    }
    if (config.summary_size > 0) return config.summary_size;
    return config.hidden_sizes.empty() ? 0 : config.hidden_sizes.back();
  }

  static Index feature_size(const ClassifierConfig& config) {
    if (config.features == ClassifierFeatures::summary) return summary_size(config);
    return config.hidden_sizes.empty() ? 0 : config.hidden_sizes.back();
  }

  static void check_batch_shape(std::span<const std::int64_t> ids, Index batch_size) {
    if (batch_size < 1) {
      detail::throw_invalid("SequenceClassifier::forward: batch_size is " +
                            std::to_string(batch_size) + ", expected at least 1");
    }
    if (ids.empty() || static_cast<Index>(ids.size()) % batch_size != 0) {
      detail::throw_invalid("SequenceClassifier::forward: " + std::to_string(ids.size()) +
                            " ids for batch_size " + std::to_string(batch_size) +
                            "; expected T * batch_size ids with T >= 1");
    }
  }

  ClassifierConfig config_;
  Matrix<Scalar> features_;
  Matrix<Scalar> d_logits_;
  Matrix<Scalar> d_embedded_;
};

namespace init {

// Keras' defaults for every component, drawn in the order embedding, recurrent layers bottom
// to top, summary, dense. The padding id's embedding row is zero.
template <class Stack, class SummaryCell>
void keras_default(SequenceClassifier<Stack, SummaryCell>& model, Random& random) {
  keras_default(model.embedding, random);
  keras_default(model.rnn, random);
  if (model.summary) keras_default(*model.summary, random);
  keras_default(model.dense, random);
}

// PyTorch's defaults for every component, in the same order.
template <class Stack, class SummaryCell>
void pytorch_default(SequenceClassifier<Stack, SummaryCell>& model, Random& random) {
  pytorch_default(model.embedding, random);
  pytorch_default(model.rnn, random);
  if (model.summary) pytorch_default(*model.summary, random);
  pytorch_default(model.dense, random);
}

}  // namespace init
}  // namespace deeprnn
