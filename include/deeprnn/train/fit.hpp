// Training loop for sequence classifiers: shuffled padded mini-batches, gradient clipping by
// global norm, an optimizer step per batch, evaluation after every epoch, early stopping on
// validation accuracy and the best weights kept. The library never prints: callbacks report
// progress, and the caller decides what to show.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/random.hpp>
#include <deeprnn/train/batching.hpp>
#include <deeprnn/train/losses.hpp>
#include <deeprnn/train/metrics.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deeprnn {

struct FitOptions {
  // Train until this many epochs are complete, counting those of a resumed run.
  std::int64_t epochs = 10;
  Index batch_size = 64;
  // Evaluation needs no gradients, so larger batches are cheaper per sample.
  Index evaluation_batch_size = 256;
  // Rescale the gradients whenever their global L2 norm exceeds this (PyTorch's
  // clip_grad_norm_); 0 turns clipping off.
  double clip_norm = 0.0;
  // Stop once validation accuracy has not improved for this many epochs; 0 never stops early.
  std::int64_t patience = 0;
  // At the end, set the model to the weights of the epoch with the best validation accuracy.
  bool restore_best_weights = true;
  // Token id written at padded steps.
  std::int64_t padding_id = 0;
};

// Mean softmax cross-entropy and accuracy over a data set.
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
  std::int64_t samples = 0;
};

// Progress within an epoch, reported after each training batch.
struct BatchProgress {
  std::int64_t epoch = 0;        // 1-based
  std::int64_t batch = 0;        // 1-based, within the epoch
  std::int64_t batch_count = 0;  // batches in the epoch
  std::int64_t samples = 0;      // training samples seen in this epoch so far
  std::int64_t sample_count = 0;
  double seconds = 0.0;        // since the epoch started
  double mean_loss = 0.0;      // over the epoch's samples so far
  double mean_accuracy = 0.0;  // over the epoch's samples so far
};

// Figures of one epoch, reported when it ends.
struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  // Mean over the epoch's batches, weighted by batch size, computed during training: with
  // dropout active and the weights changing from batch to batch, as Keras reports them.
  double train_loss = 0.0;
  double train_accuracy = 0.0;
  std::optional<Evaluation> validation;
  std::optional<Evaluation> test;
  double train_seconds = 0.0;  // the training pass only
  double seconds = 0.0;        // training and evaluation
  double sequences_per_second = 0.0;
  // Validation accuracy was the best so far (strictly better than every earlier epoch).
  bool improved = false;
};

// What a run needs to continue where it stopped; a checkpoint saves it (see checkpoint.hpp).
template <class Scalar>
struct TrainingState {
  std::int64_t epoch = 0;       // completed epochs
  std::int64_t best_epoch = 0;  // epoch of the best validation accuracy, 0 before any
  double best_validation_accuracy = 0.0;
  // Copy of every parameter at best_epoch, in for_each_parameter order; empty before any.
  std::vector<Matrix<Scalar>> best_parameters;
};

struct FitCallbacks {
  std::function<void(const BatchProgress&)> on_batch;
  // Called after the state has been updated for the epoch and before early stopping is
  // decided, with the weights the epoch ended with: the place to save a checkpoint.
  std::function<void(const EpochMetrics&)> on_epoch_end;
};

// The data sets of a run; validation and test are optional.
struct FitData {
  const LabeledSequences& train;
  const LabeledSequences* validation = nullptr;
  const LabeledSequences* test = nullptr;
};

struct FitResult {
  std::vector<EpochMetrics> history;  // the epochs run by this call
  bool stopped_early = false;
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Scalar, class Model>
std::vector<Matrix<Scalar>> copy_parameters(Model& model) {
  std::vector<Matrix<Scalar>> copies;
  model.for_each_parameter(
      [&](const std::string&, auto& value, auto&) { copies.push_back(value); });
  return copies;
}

template <class Scalar, class Model>
void assign_parameters(Model& model, const std::vector<Matrix<Scalar>>& values) {
  std::size_t i = 0;
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    if (i >= values.size() || values[i].rows() != value.rows() ||
        values[i].cols() != value.cols()) {
      throw_invalid("assign_parameters: no saved value of shape " +
                    shape_string(value.rows(), value.cols()) + " for parameter " + name +
                    "; the saved weights come from another model");
    }
    value = values[i++];
  });
}

// Throws unless the optimizer updates exactly the model's parameters, in the same order.
template <class Model, class Optimizer>
void check_optimizer_parameters(Model& model, const Optimizer& optimizer) {
  std::vector<std::string> names;
  model.for_each_parameter([&](const std::string& name, auto&, auto&) { names.push_back(name); });
  const auto& list = optimizer.parameters();
  bool same = list.size() == names.size();
  for (std::size_t i = 0; same && i < names.size(); ++i) same = list.name(i) == names[i];
  if (!same) {
    throw_invalid("fit: the optimizer has " + std::to_string(list.size()) +
                  " parameters but the model has " + std::to_string(names.size()) +
                  " (or their names differ); call optimizer.add(model) once, with no prefix, "
                  "before fit()");
  }
}

inline void check_fit_options(const FitOptions& options) {
  if (options.epochs < 0) {
    throw_invalid("FitOptions: epochs is " + std::to_string(options.epochs) +
                  ", expected at least 0");
  }
  if (options.batch_size < 1 || options.evaluation_batch_size < 1) {
    throw_invalid("FitOptions: batch_size is " + std::to_string(options.batch_size) +
                  " and evaluation_batch_size " + std::to_string(options.evaluation_batch_size) +
                  ", expected both at least 1");
  }
  if (!std::isfinite(options.clip_norm) || options.clip_norm < 0.0) {
    throw_invalid("FitOptions: clip_norm is " + std::to_string(options.clip_norm) +
                  ", expected a finite value > 0, or 0 for no clipping");
  }
  if (options.patience < 0) {
    throw_invalid("FitOptions: patience is " + std::to_string(options.patience) +
                  ", expected at least 1, or 0 for no early stopping");
  }
}

}  // namespace detail

// Evaluates the model on `data` in evaluation mode (no dropout; the training flag is restored
// afterwards), in batches of similar length. Adds every prediction to `confusion` when given.
template <class Model>
Evaluation evaluate(Model& model, const LabeledSequences& data, Index batch_size = 256,
                    std::int64_t padding_id = 0, ConfusionMatrix* confusion = nullptr) {
  detail::check_labeled_sequences(data, "evaluate: the data set");
  if (data.size() == 0) {
    detail::throw_invalid("evaluate: the data set is empty; expected at least one sequence");
  }
  const bool was_training = model.training();
  model.set_training(false);
  Random unused;  // evaluation mode draws no dropout mask

  RunningMean loss;
  std::int64_t correct = 0;
  try {
    for (const std::vector<std::size_t>& indices : length_sorted_batch_indices(data, batch_size)) {
      const SequenceBatch batch = make_batch(data, indices, padding_id);
      const auto& logits = model.forward(batch, unused);
      loss.add(static_cast<double>(softmax_cross_entropy(logits, batch.labels)),
               static_cast<double>(batch.batch_size));
      const std::vector<std::int64_t> predicted = predicted_classes(logits);
      for (std::size_t b = 0; b < predicted.size(); ++b) {
        if (predicted[b] == batch.labels[b]) ++correct;
      }
      if (confusion != nullptr) confusion->add(logits, batch.labels);
    }
  } catch (...) {
    model.set_training(was_training);
    throw;
  }
  model.set_training(was_training);

  Evaluation result;
  result.loss = loss.mean();
  result.samples = static_cast<std::int64_t>(data.size());
  result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  return result;
}

// Trains `model` with `optimizer`, which must have been given the model's parameters
// (optimizer.add(model)), from epoch state.epoch + 1 to options.epochs. Each epoch:
//   1. shuffle the training set with `random` and cut it into batches of batch_size;
//   2. per batch: zero the gradients, forward and backward in training mode (dropout masks
//      from `random`), clip the global gradient norm to clip_norm, optimizer.step();
//   3. evaluate on validation and test; when validation accuracy beats every earlier epoch,
//      record the epoch and copy the weights into `state`;
//   4. report the epoch, then stop if `patience` epochs have passed without improvement.
// At the end the best weights are restored when restore_best_weights is set and a validation
// set was given. Every random draw comes from `random`, so the same seed, data and options
// give the same weights, and a run resumed from a checkpoint after epoch k continues exactly
// as an uninterrupted run (see checkpoint.hpp). With clipping on, throws when a gradient norm
// is not finite; without it, the next forward pass throws on the non-finite values.
template <class Model, class Optimizer>
FitResult fit(Model& model, Optimizer& optimizer, Random& random,
              TrainingState<typename Model::Scalar>& state, const FitData& data,
              const FitOptions& options, const FitCallbacks& callbacks = {}) {
  using Scalar = typename Model::Scalar;
  detail::check_fit_options(options);
  detail::check_optimizer_parameters(model, optimizer);
  detail::check_labeled_sequences(data.train, "fit: the training set");
  if (data.train.size() == 0) {
    detail::throw_invalid("fit: the training set is empty; expected at least one sequence");
  }

  FitResult result;
  for (std::int64_t epoch = state.epoch + 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    EpochMetrics metrics;
    metrics.epoch = epoch;

    model.set_training(true);
    const std::vector<std::vector<std::size_t>> batches =
        batch_indices(data.train.size(), options.batch_size, &random);
    RunningMean train_loss;
    std::int64_t correct = 0;
    std::int64_t seen = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const SequenceBatch batch = make_batch(data.train, batches[i], options.padding_id);
      model.zero_gradients();
      const auto batch_result = model.forward_backward(batch, random);
      if (options.clip_norm > 0.0) {
        const double norm = optimizer.clip_gradient_norm(options.clip_norm);
        if (!std::isfinite(norm)) {
          detail::throw_invalid("fit: the gradient norm is " + std::to_string(norm) + " at epoch " +
                                std::to_string(epoch) + ", batch " + std::to_string(i + 1) +
                                "; training diverged, so lower the learning rate");
        }
      }
      optimizer.step();

      train_loss.add(batch_result.loss, static_cast<double>(batch.batch_size));
      correct += batch_result.correct;
      seen += batch.batch_size;
      if (callbacks.on_batch) {
        BatchProgress progress;
        progress.epoch = epoch;
        progress.batch = static_cast<std::int64_t>(i + 1);
        progress.batch_count = static_cast<std::int64_t>(batches.size());
        progress.samples = seen;
        progress.sample_count = static_cast<std::int64_t>(data.train.size());
        progress.seconds = detail::seconds_since(epoch_start);
        progress.mean_loss = train_loss.mean();
        progress.mean_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        callbacks.on_batch(progress);
      }
    }
    metrics.train_loss = train_loss.mean();
    metrics.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    metrics.train_seconds = detail::seconds_since(epoch_start);
    metrics.sequences_per_second = static_cast<double>(seen) / metrics.train_seconds;

    if (data.validation != nullptr) {
      metrics.validation =
          evaluate(model, *data.validation, options.evaluation_batch_size, options.padding_id);
    }
    if (data.test != nullptr) {
      metrics.test = evaluate(model, *data.test, options.evaluation_batch_size, options.padding_id);
    }
    if (metrics.validation &&
        (state.best_epoch == 0 || metrics.validation->accuracy > state.best_validation_accuracy)) {
      metrics.improved = true;
      state.best_epoch = epoch;
      state.best_validation_accuracy = metrics.validation->accuracy;
      state.best_parameters = detail::copy_parameters<Scalar>(model);
    }
    state.epoch = epoch;
    metrics.seconds = detail::seconds_since(epoch_start);
    result.history.push_back(metrics);
    if (callbacks.on_epoch_end) callbacks.on_epoch_end(metrics);

    if (options.patience > 0 && data.validation != nullptr &&
        epoch - state.best_epoch >= options.patience) {
      result.stopped_early = epoch < options.epochs;
      break;
    }
  }

  if (options.restore_best_weights && data.validation != nullptr &&
      !state.best_parameters.empty()) {
    detail::assign_parameters(model, state.best_parameters);
  }
  return result;
}

}  // namespace deeprnn
