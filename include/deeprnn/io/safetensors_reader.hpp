// SafetensorsFile: reads a safetensors file, validates it completely, and converts its
// tensors to Eigen matrices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/posix_file.hpp>
#include <deeprnn/io/safetensors_format.hpp>
#include <deeprnn/io/safetensors_header.hpp>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace deeprnn::io {

class SafetensorsFile {
 public:
  // Reads and validates the whole file. Throws io_error when the file cannot be read and
  // format_error when its contents break the format (see detail::parse_header).
  static SafetensorsFile read(const std::filesystem::path& path) {
    return from_bytes(detail::read_file(path), path.string());
  }

  // Validates the bytes of a complete file; `source` names it in error messages.
  static SafetensorsFile from_bytes(std::vector<std::byte> bytes, std::string source) {
    detail::SafetensorsHeader header = detail::parse_header(bytes, source);
    return SafetensorsFile(std::move(source), std::move(bytes), std::move(header));
  }

  // The path (or the name given to from_bytes) that error messages start with.
  const std::string& source() const { return source_; }

  bool contains(const std::string& name) const { return header_.tensors.count(name) != 0; }

  // Tensor names, sorted, without "__metadata__".
  std::vector<std::string> names() const {
    std::vector<std::string> result;
    for (const auto& [name, info] : header_.tensors) result.push_back(name);
    return result;
  }

  std::size_t size() const { return header_.tensors.size(); }

  // Throws format_error naming the tensor and the names that exist when there is no such
  // tensor.
  const TensorInfo& info(const std::string& name) const {
    const auto found = header_.tensors.find(name);
    if (found == header_.tensors.end()) throw_unknown_tensor(name);
    return found->second;
  }

  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

  // The tensor's stored bytes: little-endian elements in row-major order.
  std::span<const std::byte> bytes(const std::string& name) const {
    const TensorInfo& tensor = info(name);
    return std::span<const std::byte>(bytes_).subspan(header_.data_start + tensor.begin,
                                                      tensor.end - tensor.begin);
  }

  // The elements in row-major order, converted to Scalar (float or double) from any dtype.
  // Converting F64 to float rounds, and I64 to a floating type rounds above 2^53 (2^24 for
  // float). values<std::int64_t> is integers().
  template <class Scalar>
  std::vector<Scalar> values(const std::string& name) const {
    if constexpr (std::is_same_v<Scalar, std::int64_t>) {
      return integers(name);
    } else {
      static_assert(std::is_floating_point_v<Scalar>,
                    "SafetensorsFile::values reads float, double or std::int64_t elements");
      const TensorInfo& tensor = info(name);
      const std::span<const std::byte> stored = bytes(name);
      std::vector<Scalar> result(static_cast<std::size_t>(tensor.element_count()));
      switch (tensor.dtype) {
        case DType::f32:
          detail::decode_elements<float>(stored.data(), result.size(), result.data());
          break;
        case DType::f64:
          detail::decode_elements<double>(stored.data(), result.size(), result.data());
          break;
        case DType::i64:
          detail::decode_elements<std::int64_t>(stored.data(), result.size(), result.data());
          break;
      }
      return result;
    }
  }

  // The elements of an I64 tensor in row-major order. Throws format_error for other dtypes.
  std::vector<std::int64_t> integers(const std::string& name) const {
    const TensorInfo& tensor = info(name);
    if (tensor.dtype != DType::i64) {
      throw format_error(source_, "tensor " + detail::json_quoted(name) + " has dtype " +
                                      dtype_name(tensor.dtype) +
                                      ", expected I64; read it with values<double>()");
    }
    std::vector<std::int64_t> result(static_cast<std::size_t>(tensor.element_count()));
    detail::decode_elements<std::int64_t>(bytes(name).data(), result.size(), result.data());
    return result;
  }

  // A rank-2 tensor [R, C] as an R x C matrix; a rank-1 tensor [N] as N x 1; a scalar as 1 x 1.
  template <class Scalar>
  Matrix<Scalar> matrix(const std::string& name) const {
    const TensorInfo& tensor = info(name);
    const std::vector<std::int64_t>& shape = tensor.shape;
    if (shape.size() > 2) {
      throw format_error(source_, "tensor " + detail::json_quoted(name) + " has shape " +
                                      detail::shape_string(shape) + " of rank " +
                                      std::to_string(shape.size()) +
                                      "; matrix() reads rank 1 or 2, feature_columns() reads "
                                      "sequences [T, B, F]");
    }
    const Index rows = shape.empty() ? 1 : static_cast<Index>(shape[0]);
    const Index cols = shape.size() == 2 ? static_cast<Index>(shape[1]) : 1;
    const std::vector<Scalar> flat = values<Scalar>(name);
    using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    return Eigen::Map<const RowMajor>(flat.data(), rows, cols);
  }

  // A tensor [d0, ..., dk, F] as an F x (d0 * ... * dk) matrix with the same element order.
  // So [T, B, F] becomes F x T*B, whose column t*B + b is sample b at step t. [B, F] becomes
  // F x B, [F] becomes F x 1 and a scalar 1 x 1.
  template <class Scalar>
  Matrix<Scalar> feature_columns(const std::string& name) const {
    const TensorInfo& tensor = info(name);
    const Index features = tensor.shape.empty() ? 1 : static_cast<Index>(tensor.shape.back());
    Index columns = 1;
    for (std::size_t axis = 0; axis + 1 < tensor.shape.size(); ++axis) {
      columns *= static_cast<Index>(tensor.shape[axis]);
    }
    const std::vector<Scalar> flat = values<Scalar>(name);
    return Eigen::Map<const Matrix<Scalar>>(flat.data(), features, columns);
  }

 private:
  SafetensorsFile(std::string source, std::vector<std::byte> bytes,
                  detail::SafetensorsHeader header)
      : source_(std::move(source)), bytes_(std::move(bytes)), header_(std::move(header)) {}

  [[noreturn]] void throw_unknown_tensor(const std::string& name) const {
    constexpr std::size_t max_listed = 20;
    std::string listing;
    std::size_t listed = 0;
    for (const auto& [existing, unused] : header_.tensors) {
      if (listed == max_listed) break;
      listing += (listed == 0 ? "" : ", ") + existing;
      ++listed;
    }
    std::string existing_names;
    if (header_.tensors.empty()) {
      existing_names = "the file has no tensors";
    } else if (header_.tensors.size() <= max_listed) {
      existing_names =
          "the file has " + std::to_string(header_.tensors.size()) + " tensors: " + listing;
    } else {
      existing_names = "the file has " + std::to_string(header_.tensors.size()) +
                       " tensors, the first " + std::to_string(max_listed) + " being " + listing;
    }
    throw format_error(source_,
                       "no tensor named " + detail::json_quoted(name) + "; " + existing_names);
  }

  std::string source_;
  std::vector<std::byte> bytes_;  // the whole file
  detail::SafetensorsHeader header_;
};

}  // namespace deeprnn::io
