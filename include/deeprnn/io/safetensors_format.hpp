// Element types, tensor descriptions and little-endian byte encoding shared by the
// safetensors reader and writer.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deeprnn/core.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

namespace deeprnn::io {

// The element types deeprnn reads and writes: IEEE float ("F32"), IEEE double ("F64") and
// signed 64-bit integers ("I64").
enum class DType { f32, f64, i64 };

inline std::size_t element_size(DType dtype) { return dtype == DType::f32 ? 4 : 8; }

// The dtype string used in safetensors headers.
inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i64:
      return "I64";
  }
  return "?";
}

// The dtype that stores values of type Scalar exactly.
template <class Scalar>
constexpr DType dtype_of() {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double> ||
                    std::is_same_v<Scalar, std::int64_t>,
                "safetensors tensors hold float (F32), double (F64) or std::int64_t (I64)");
  if constexpr (std::is_same_v<Scalar, float>) {
    return DType::f32;
  } else if constexpr (std::is_same_v<Scalar, double>) {
    return DType::f64;
  } else {
    return DType::i64;
  }
}

// Type, shape and location of one tensor: bytes [begin, end) of the data buffer, relative to the
// start of the buffer. `shape` is row-major (the last index varies fastest); an empty shape is a
// scalar.
struct TensorInfo {
  DType dtype = DType::f64;
  std::vector<std::int64_t> shape;
  std::size_t begin = 0;
  std::size_t end = 0;

  // Product of the dimensions (1 for a scalar). The reader has checked that it does not
  // overflow.
  std::int64_t element_count() const {
    std::int64_t count = 1;
    for (const std::int64_t dimension : shape) count *= dimension;
    return count;
  }
};

namespace detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "deeprnn::io converts byte order only on little- and big-endian machines");

// Loads a T stored little-endian at `source`, which need not be aligned.
template <class T>
T load_little_endian(const std::byte* source) {
  std::array<std::byte, sizeof(T)> bytes;
  std::memcpy(bytes.data(), source, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes.begin(), bytes.end());
  return std::bit_cast<T>(bytes);
}

// Stores `value` little-endian at `target`, which need not be aligned.
template <class T>
void store_little_endian(T value, std::byte* target) {
  auto bytes = std::bit_cast<std::array<std::byte, sizeof(T)>>(value);
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes.begin(), bytes.end());
  std::memcpy(target, bytes.data(), sizeof(T));
}

// Converts `count` elements stored as `Stored` at `source` to Scalar.
template <class Stored, class Scalar>
void decode_elements(const std::byte* source, std::size_t count, Scalar* target) {
  for (std::size_t i = 0; i < count; ++i) {
    target[i] = static_cast<Scalar>(load_little_endian<Stored>(source + i * sizeof(Stored)));
  }
}

// Formats a shape as "[16, 3]".
inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// Formats the row-major position of flat element `index` in `shape`, for example "[1, 2]".
inline std::string position_string(std::int64_t index, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> position(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    position[axis] = shape[axis] > 0 ? index % shape[axis] : 0;
    index = shape[axis] > 0 ? index / shape[axis] : 0;
  }
  return shape_string(position);
}

// Quotes and escapes text as a JSON string, so that names with control characters or
// invalid UTF-8 print safely in messages.
inline std::string json_quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace detail
}  // namespace deeprnn::io
