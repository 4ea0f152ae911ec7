// SafetensorsWriter: collects tensors and metadata and writes them as one safetensors file.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/posix_file.hpp>
#include <deeprnn/io/safetensors_format.hpp>
#include <deeprnn/io/safetensors_header.hpp>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace deeprnn::io {

// Builds a safetensors file from tensors and metadata. Tensors with 8-byte elements come first
// in the data buffer, each group in the order added, so every tensor starts at a multiple of
// its element size. The header is padded with spaces to a multiple of 8 bytes, which puts the
// data buffer at an 8-byte aligned file offset. Non-finite values are written unchanged.
class SafetensorsWriter {
 public:
  // Adds a matrix as a row-major [rows, cols] tensor, or a column vector (a type with one
  // column at compile time, such as deeprnn::Vector) as [N]. Scalar is float or double.
  template <class Derived>
  void add(const std::string& name, const Eigen::MatrixBase<Derived>& tensor) {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_floating_point_v<Scalar>,
                  "SafetensorsWriter::add writes float or double matrices; use add_integers "
                  "for integer tensors");
    std::vector<Scalar> row_major;
    row_major.reserve(static_cast<std::size_t>(tensor.size()));
    for (Index i = 0; i < tensor.rows(); ++i) {
      for (Index j = 0; j < tensor.cols(); ++j) row_major.push_back(tensor(i, j));
    }
    if constexpr (Derived::ColsAtCompileTime == 1) {
      add_values(name, row_major, {static_cast<std::int64_t>(tensor.rows())});
    } else {
      add_values(
          name, row_major,
          {static_cast<std::int64_t>(tensor.rows()), static_cast<std::int64_t>(tensor.cols())});
    }
  }

  // Adds an F x M matrix as the tensor leading_shape + [F], the inverse of
  // SafetensorsFile::feature_columns: with leading_shape {T, B} an F x T*B sequence becomes
  // [T, B, F]. The product of leading_shape must be M (an empty leading_shape needs M = 1).
  template <class Derived>
  void add_feature_columns(const std::string& name, const Eigen::MatrixBase<Derived>& columns,
                           const std::vector<std::int64_t>& leading_shape) {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_floating_point_v<Scalar>,
                  "SafetensorsWriter::add_feature_columns writes float or double matrices");
    std::int64_t leading_count = 1;
    for (const std::int64_t dimension : leading_shape) leading_count *= dimension;
    if (leading_count != static_cast<std::int64_t>(columns.cols())) {
      deeprnn::detail::throw_invalid(
          "SafetensorsWriter::add_feature_columns: tensor " + detail::json_quoted(name) + " has " +
          std::to_string(columns.cols()) + " columns, but leading_shape " +
          detail::shape_string(leading_shape) + " has " + std::to_string(leading_count) +
          " positions" + "; expected one column per position of leading_shape");
    }
    // Column-major F x M is row-major [..., F]: column m contains the F features of position m.
    std::vector<Scalar> row_major;
    row_major.reserve(static_cast<std::size_t>(columns.size()));
    for (Index j = 0; j < columns.cols(); ++j) {
      for (Index i = 0; i < columns.rows(); ++i) row_major.push_back(columns(i, j));
    }
    std::vector<std::int64_t> shape = leading_shape;
    shape.push_back(static_cast<std::int64_t>(columns.rows()));
    add_values(name, row_major, shape);
  }

  // Adds an I64 tensor with the given row-major shape.
  void add_integers(const std::string& name, const std::vector<std::int64_t>& values,
                    const std::vector<std::int64_t>& shape) {
    add_values(name, values, shape);
  }

  // Adds an I64 tensor of shape [N].
  void add_integers(const std::string& name, const std::vector<std::int64_t>& values) {
    add_values(name, values, {static_cast<std::int64_t>(values.size())});
  }

  // Adds any tensor from its elements in row-major order; Scalar is float, double or
  // std::int64_t. An empty shape is a scalar with one element.
  template <class Scalar>
  void add_values(const std::string& name, const std::vector<Scalar>& row_major,
                  const std::vector<std::int64_t>& shape) {
    constexpr DType dtype = dtype_of<Scalar>();
    check_name(name);
    const std::int64_t count = checked_element_count(name, shape);
    if (count != static_cast<std::int64_t>(row_major.size())) {
      deeprnn::detail::throw_invalid("SafetensorsWriter: tensor " + detail::json_quoted(name) +
                                     " has " + std::to_string(row_major.size()) +
                                     " values, but shape " + detail::shape_string(shape) + " has " +
                                     std::to_string(count) + " elements");
    }

    Entry entry{name, dtype, shape, std::vector<std::byte>(row_major.size() * sizeof(Scalar))};
    for (std::size_t i = 0; i < row_major.size(); ++i) {
      detail::store_little_endian(row_major[i], entry.bytes.data() + i * sizeof(Scalar));
    }
    names_.insert(name);
    entries_.push_back(std::move(entry));
  }

  // Sets a "__metadata__" entry, replacing an earlier value of the same key.
  void set_metadata(const std::string& key, const std::string& value) {
    check_utf8(key, "metadata key");
    check_utf8(value, "metadata value of " + detail::json_quoted(key));
    metadata_[key] = value;
  }

  bool contains(const std::string& name) const { return names_.count(name) != 0; }
  std::size_t size() const { return entries_.size(); }

  // The complete file contents.
  std::vector<std::byte> to_bytes() const {
    std::vector<const Entry*> layout;
    for (const Entry& entry : entries_) layout.push_back(&entry);
    std::stable_sort(layout.begin(), layout.end(), [](const Entry* a, const Entry* b) {
      return element_size(a->dtype) > element_size(b->dtype);
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::size_t offset = 0;
    for (const Entry* entry : layout) {
      const std::size_t end = offset + entry->bytes.size();
      header[entry->name] = {{"dtype", dtype_name(entry->dtype)},
                             {"shape", entry->shape},
                             {"data_offsets", {offset, end}}};
      offset = end;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    if (text.size() > detail::max_header_bytes) {
      deeprnn::detail::throw_invalid(
          "SafetensorsWriter: the header would take " + std::to_string(text.size()) +
          " bytes, above the reader's limit of " + std::to_string(detail::max_header_bytes) +
          "; write fewer tensors or shorter metadata per file");
    }

    std::vector<std::byte> bytes(detail::header_length_bytes + text.size() + offset);
    detail::store_little_endian(static_cast<std::uint64_t>(text.size()), bytes.data());
    std::memcpy(bytes.data() + detail::header_length_bytes, text.data(), text.size());
    std::byte* data = bytes.data() + detail::header_length_bytes + text.size();
    for (const Entry* entry : layout) {
      std::copy(entry->bytes.begin(), entry->bytes.end(), data);
      data += entry->bytes.size();
    }
    return bytes;
  }

  // Writes the file atomically (see detail::write_file_atomically): on failure io_error is
  // thrown and an existing file at `path` is left unchanged.
  void write(const std::filesystem::path& path) const {
    const std::vector<std::byte> bytes = to_bytes();
    detail::write_file_atomically(path, bytes);
  }

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> bytes;  // little-endian, row-major
  };

  static void check_utf8(const std::string& text, const std::string& description) {
    try {
      static_cast<void>(nlohmann::json(text).dump());
    } catch (const nlohmann::json::type_error&) {
      deeprnn::detail::throw_invalid("SafetensorsWriter: the " + description + " " +
                                     detail::json_quoted(text) +
                                     " is not valid UTF-8; safetensors headers are UTF-8 JSON");
    }
  }

  void check_name(const std::string& name) const {
    if (name.empty()) {
      deeprnn::detail::throw_invalid(
          "SafetensorsWriter: a tensor name is empty; give every tensor a name");
    }
    if (name == "__metadata__") {
      deeprnn::detail::throw_invalid(
          "SafetensorsWriter: \"__metadata__\" is reserved for metadata; use set_metadata()");
    }
    check_utf8(name, "tensor name");
    if (contains(name)) {
      deeprnn::detail::throw_invalid("SafetensorsWriter: a tensor named " +
                                     detail::json_quoted(name) +
                                     " was already added; tensor names must be unique");
    }
  }

  static std::int64_t checked_element_count(const std::string& name,
                                            const std::vector<std::int64_t>& shape) {
    constexpr std::int64_t max_count = std::numeric_limits<std::int64_t>::max() / 8;
    std::int64_t count = 1;
    for (const std::int64_t dimension : shape) {
      if (dimension < 0) {
        deeprnn::detail::throw_invalid("SafetensorsWriter: tensor " + detail::json_quoted(name) +
                                       " has shape " + detail::shape_string(shape) +
                                       "; dimensions must be non-negative");
      }
      if (dimension != 0 && count > max_count / dimension) {
        deeprnn::detail::throw_invalid("SafetensorsWriter: tensor " + detail::json_quoted(name) +
                                       " has shape " + detail::shape_string(shape) +
                                       ", which has too many elements");
      }
      count *= dimension;
    }
    return count;
  }

  std::vector<Entry> entries_;  // in the order added
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace deeprnn::io
