// Padded mini-batches of labelled token sequences, in deeprnn's time-major layout, and the
// order in which an epoch visits them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/random.hpp>
#include <span>
#include <string>
#include <vector>

namespace deeprnn {

// A data set for sequence classification: sequence i has label labels[i]. Sequences may have
// different lengths, each at least 1.
struct LabeledSequences {
  std::vector<std::vector<std::int64_t>> sequences;
  std::vector<std::int64_t> labels;

  std::size_t size() const { return sequences.size(); }
};

// B sequences padded to the longest of them, T steps:
//   ids[t*B + b]  token of sample b at step t; padding_id at steps t >= lengths[b]
//   lengths[b]    number of valid steps of sample b, 1..T
//   labels[b]     class of sample b (empty when the batch was built without labels)
struct SequenceBatch {
  std::vector<std::int64_t> ids;
  std::vector<Index> lengths;
  std::vector<std::int64_t> labels;
  Index batch_size = 0;
  Index steps = 0;
};

namespace detail {

// Throws unless every sequence is non-empty and there is one label per sequence.
inline void check_labeled_sequences(const LabeledSequences& data, const std::string& what) {
  if (data.labels.size() != data.sequences.size()) {
    throw_invalid(what + " has " + std::to_string(data.sequences.size()) + " sequences but " +
                  std::to_string(data.labels.size()) + " labels; expected one label per sequence");
  }
  for (std::size_t i = 0; i < data.sequences.size(); ++i) {
    if (data.sequences[i].empty()) {
      throw_invalid(what + ": sequence " + std::to_string(i) +
                    " is empty; every sequence needs at least one step, so drop empty ones");
    }
  }
}

}  // namespace detail

// Builds the batch of the given sequences, in the order given, padded with `padding_id` to the
// longest of them. `labels` is empty or has one entry per sequence.
inline SequenceBatch make_batch(std::span<const std::vector<std::int64_t>* const> sequences,
                                std::span<const std::int64_t> labels = {},
                                std::int64_t padding_id = 0) {
  if (sequences.empty()) {
    detail::throw_invalid("make_batch: no sequences were given; expected at least one");
  }
  if (!labels.empty() && labels.size() != sequences.size()) {
    detail::throw_invalid("make_batch: " + std::to_string(labels.size()) + " labels for " +
                          std::to_string(sequences.size()) +
                          " sequences; expected one label per sequence or none");
  }

  SequenceBatch batch;
  batch.batch_size = static_cast<Index>(sequences.size());
  for (std::size_t b = 0; b < sequences.size(); ++b) {
    const Index length = static_cast<Index>(sequences[b]->size());
    if (length == 0) {
      detail::throw_invalid("make_batch: sequence " + std::to_string(b) +
                            " is empty; every sequence needs at least one step");
    }
    batch.lengths.push_back(length);
    batch.steps = std::max(batch.steps, length);
  }

  const Index B = batch.batch_size;
  batch.ids.assign(static_cast<std::size_t>(batch.steps * B), padding_id);
  for (Index b = 0; b < B; ++b) {
    const std::vector<std::int64_t>& sequence = *sequences[static_cast<std::size_t>(b)];
    for (Index t = 0; t < batch.lengths[static_cast<std::size_t>(b)]; ++t) {
      batch.ids[static_cast<std::size_t>(t * B + b)] = sequence[static_cast<std::size_t>(t)];
    }
  }
  batch.labels.assign(labels.begin(), labels.end());
  return batch;
}

// Builds the batch of samples data[indices[0]], data[indices[1]], ... with their labels.
inline SequenceBatch make_batch(const LabeledSequences& data, std::span<const std::size_t> indices,
                                std::int64_t padding_id = 0) {
  if (data.labels.size() != data.sequences.size()) {
    detail::throw_invalid("make_batch: the data set has " + std::to_string(data.sequences.size()) +
                          " sequences but " + std::to_string(data.labels.size()) +
                          " labels; expected one label per sequence");
  }
  std::vector<const std::vector<std::int64_t>*> sequences;
  std::vector<std::int64_t> labels;
  sequences.reserve(indices.size());
  labels.reserve(indices.size());
  for (const std::size_t index : indices) {
    if (index >= data.size()) {
      detail::throw_invalid("make_batch: sample index " + std::to_string(index) +
                            " is out of range; the data set has " + std::to_string(data.size()) +
                            " sequences");
    }
    sequences.push_back(&data.sequences[index]);
    labels.push_back(data.labels[index]);
  }
  return make_batch(sequences, labels, padding_id);
}

// Splits 0..sample_count-1 into consecutive batches of batch_size indices (the last one may be
// smaller). With a Random the indices are shuffled first (Random::shuffle, so the order
// depends only on the stream's state); without one they stay in order.
inline std::vector<std::vector<std::size_t>> batch_indices(std::size_t sample_count,
                                                           Index batch_size,
                                                           Random* shuffle = nullptr) {
  if (batch_size < 1) {
    detail::throw_invalid("batch_indices: batch_size is " + std::to_string(batch_size) +
                          ", expected at least 1");
  }
  std::vector<std::size_t> order(sample_count);
  for (std::size_t i = 0; i < sample_count; ++i) order[i] = i;
  if (shuffle != nullptr) shuffle->shuffle(order);

  std::vector<std::vector<std::size_t>> batches;
  const auto size = static_cast<std::size_t>(batch_size);
  for (std::size_t first = 0; first < sample_count; first += size) {
    const std::size_t last = std::min(sample_count, first + size);
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(first),
                         order.begin() + static_cast<std::ptrdiff_t>(last));
  }
  return batches;
}

// Returns batches of samples of similar length, for evaluation: the samples sorted by length
// (ties by index) and cut into batches of batch_size. Less padding than a random order means fewer
// wasted steps, and the order is the same on every call.
inline std::vector<std::vector<std::size_t>> length_sorted_batch_indices(
    const LabeledSequences& data, Index batch_size) {
  std::vector<std::vector<std::size_t>> batches = batch_indices(data.size(), batch_size);
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return data.sequences[a].size() < data.sequences[b].size();
  });
  std::size_t next = 0;
  for (std::vector<std::size_t>& batch : batches) {
    for (std::size_t& index : batch) index = order[next++];
  }
  return batches;
}

}  // namespace deeprnn
