// Embedding: a lookup table from token ids to learned vectors (PyTorch nn.Embedding, Keras
// Embedding).
#pragma once

#include <concepts>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace deeprnn {

// The table in PyTorch's layout: weight is vocabulary_size x embedding_size, row v is the
// vector of token v.
template <class Scalar>
struct EmbeddingParameters {
  Matrix<Scalar> weight;

  EmbeddingParameters(Index vocabulary_size, Index embedding_size)
      : weight(Matrix<Scalar>::Zero(vocabulary_size, embedding_size)) {}

  void set_zero() { weight.setZero(); }
};

// Maps N token ids to an embedding_size x N matrix whose column n is row ids[n] of the
// table. For a batch of sequences, pass the T*B ids in the sequence order (position t*B + b
// is sample b at step t) and the output is a sequence in deeprnn's layout.
//
// Padding id, as PyTorch's padding_idx: positions holding it get a zero column whatever the
// table's row contains, and backward() adds nothing to that row's gradient, so the row stays
// as initialised (init.hpp sets it to zero). Keras' mask_zero instead embeds id 0 normally
// and masks later layers, which deeprnn does with per-sample lengths.
template <class Scalar_>
class Embedding {
 public:
  using Scalar = Scalar_;

  EmbeddingParameters<Scalar> parameters;
  EmbeddingParameters<Scalar> gradients;

  // Builds a table of zeros (see init.hpp to initialise it). `padding_id`, when given, must be
  // a valid id.
  Embedding(Index vocabulary_size, Index embedding_size,
            std::optional<std::int64_t> padding_id = std::nullopt)
      : parameters(checked_size(vocabulary_size, "vocabulary_size"),
                   checked_size(embedding_size, "embedding_size")),
        gradients(vocabulary_size, embedding_size),
        padding_id_(padding_id) {
    if (padding_id && (*padding_id < 0 || *padding_id >= vocabulary_size)) {
      detail::throw_invalid("Embedding padding_id is " + std::to_string(*padding_id) +
                            ", expected an id in 0.." + std::to_string(vocabulary_size - 1) +
                            " or none");
    }
  }

  Index vocabulary_size() const { return parameters.weight.rows(); }
  Index embedding_size() const { return parameters.weight.cols(); }
  std::optional<std::int64_t> padding_id() const { return padding_id_; }

  // Returns the embedding_size x N matrix of the N ids and keeps the ids for backward().
  // Throws on an empty list and on an id outside 0..vocabulary_size-1, naming it.
  const Matrix<Scalar>& forward(std::span<const std::int64_t> ids) {
    check_ids(ids);
    ids_.assign(ids.begin(), ids.end());

    output_.resize(embedding_size(), static_cast<Index>(ids_.size()));
    for (std::size_t n = 0; n < ids_.size(); ++n) {
      const auto column = static_cast<Index>(n);
      if (is_padding(ids_[n])) {
        output_.col(column).setZero();
      } else {
        output_.col(column) = parameters.weight.row(static_cast<Index>(ids_[n])).transpose();
      }
    }
    return output_;
  }

  // The same for ids in an Eigen matrix of any integer type, read in column-major order
  // whatever its storage order: entry (b, t) of a B x T matrix (column t = step t) is position
  // t*B + b. A vector of T*B ids, row or column, works too.
  template <class Derived>
  requires std::integral<typename Derived::Scalar>
  const Matrix<Scalar>& forward(const Eigen::DenseBase<Derived>& ids) {
    const Index rows = ids.rows();
    std::vector<std::int64_t> converted(static_cast<std::size_t>(ids.size()));
    for (Index column = 0; column < ids.cols(); ++column) {
      for (Index row = 0; row < rows; ++row) {
        converted[static_cast<std::size_t>(column * rows + row)] =
            static_cast<std::int64_t>(ids(row, column));
      }
    }
    return forward(std::span<const std::int64_t>(converted));
  }

  // Scatter-add: dweight.row(ids[n]) += d_output.col(n) for every position n whose id is not
  // the padding id. Ids get no gradient, so nothing is returned.
  void backward(const ConstMatrixRef<Scalar>& d_output) {
    if (ids_.empty()) {
      detail::throw_invalid("Embedding::backward was called before forward()");
    }
    detail::check_shape(d_output, embedding_size(), static_cast<Index>(ids_.size()),
                        "Embedding::backward: d_output");
    for (std::size_t n = 0; n < ids_.size(); ++n) {
      if (is_padding(ids_[n])) continue;
      gradients.weight.row(static_cast<Index>(ids_[n])) +=
          d_output.col(static_cast<Index>(n)).transpose();
    }
  }

  void zero_gradients() { gradients.set_zero(); }

  // Calls visit(name, value, gradient) for "weight", PyTorch's name.
  template <class Visitor>
  void for_each_parameter(Visitor&& visit) {
    visit(std::string("weight"), parameters.weight, gradients.weight);
  }

 private:
  static Index checked_size(Index size, const char* name) {
    if (size < 1) {
      detail::throw_invalid(std::string("Embedding ") + name + " is " + std::to_string(size) +
                            ", expected at least 1");
    }
    return size;
  }

  bool is_padding(std::int64_t id) const { return padding_id_ && id == *padding_id_; }

  void check_ids(std::span<const std::int64_t> ids) const {
    if (ids.empty()) {
      detail::throw_invalid("Embedding::forward: no ids were given; expected at least one");
    }
    for (std::size_t n = 0; n < ids.size(); ++n) {
      if (ids[n] < 0 || ids[n] >= vocabulary_size()) {
        detail::throw_invalid("Embedding::forward: id " + std::to_string(ids[n]) + " at position " +
                              std::to_string(n) + " is out of range; expected " + "0.." +
                              std::to_string(vocabulary_size() - 1) +
                              " (vocabulary_size = " + std::to_string(vocabulary_size()) + ")");
      }
    }
  }

  std::optional<std::int64_t> padding_id_;
  std::vector<std::int64_t> ids_;
  Matrix<Scalar> output_;
};

}  // namespace deeprnn
