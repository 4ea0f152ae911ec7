// Parsing and validation of a safetensors file's header (internal to the reader).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/safetensors_format.hpp>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deeprnn::io::detail {

// Largest header the reader accepts, checked before the header is parsed. An entry takes
// under 100 bytes per tensor with short names, so real files stay far below this.
inline constexpr std::uint64_t max_header_bytes = std::uint64_t{100} << 20;

inline constexpr std::size_t header_length_bytes = 8;

struct SafetensorsHeader {
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
  std::size_t data_start = 0;  // file offset of the data buffer: 8 + N
  std::size_t data_size = 0;   // bytes in the data buffer
};

// Parses JSON text, rejecting duplicate keys in any object (nlohmann::json would otherwise
// keep the last value silently).
inline nlohmann::json parse_json_rejecting_duplicates(std::string_view text,
                                                      const std::string& source) {
  std::vector<std::set<std::string>> open_objects;
  std::string top_level_key;
  std::string duplicate;  // description of the first duplicate key found

  auto track_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty()) {
      const std::string key = parsed.get<std::string>();
      if (open_objects.size() == 1) top_level_key = key;
      const bool inserted = open_objects.back().insert(key).second;
      if (!inserted && duplicate.empty()) {
        duplicate = open_objects.size() == 1
                        ? "the key " + json_quoted(key) + " appears twice at the top level"
                        : "the key " + json_quoted(key) + " appears twice inside the entry " +
                              json_quoted(top_level_key);
      }
    }
    return true;
  };

  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end(), track_keys);
  } catch (const nlohmann::json::exception& error) {
    throw format_error(source, std::string("the header is not valid JSON (") + error.what() +
                                   "); the file is damaged or not a safetensors file");
  }
  if (!duplicate.empty()) {
    throw format_error(source, "the header is invalid: " + duplicate +
                                   "; each tensor name and field must be unique");
  }
  return root;
}

// Reads a JSON integer in [0, max], or throws naming `field`.
inline std::uint64_t non_negative_integer(const nlohmann::json& value, std::uint64_t max,
                                          const std::string& source, const std::string& field) {
  const bool is_integer = value.is_number_integer();
  const bool negative = is_integer && !value.is_number_unsigned() && value.get<std::int64_t>() < 0;
  if (!is_integer || negative) {
    throw format_error(source, field + " is " + value.dump() + ", expected a non-negative integer");
  }
  const auto number = value.get<std::uint64_t>();
  if (number > max) {
    throw format_error(source, field + " is " + std::to_string(number) +
                                   ", larger than the limit " + std::to_string(max));
  }
  return number;
}

inline DType parse_dtype(const nlohmann::json& value, const std::string& source,
                         const std::string& tensor) {
  if (!value.is_string()) {
    throw format_error(source, "tensor " + tensor + ": dtype is " + value.dump() +
                                   ", expected a string such as \"F64\"");
  }
  const auto name = value.get<std::string>();
  if (name == "F32") return DType::f32;
  if (name == "F64") return DType::f64;
  if (name == "I64") return DType::i64;

  static const std::set<std::string> other_safetensors_dtypes{
      "BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "U64", "F8_E4M3", "F8_E5M2"};
  const std::string reason = other_safetensors_dtypes.count(name) != 0
                                 ? " is not supported by deeprnn"
                                 : " is not a safetensors dtype";
  throw format_error(source, "tensor " + tensor + ": dtype " + json_quoted(name) + reason +
                                 "; expected \"F32\", \"F64\" or \"I64\"");
}

// Reads a shape, rejecting shapes whose byte size would exceed INT64_MAX.
inline std::vector<std::int64_t> parse_shape(const nlohmann::json& value, DType dtype,
                                             const std::string& source, const std::string& tensor) {
  if (!value.is_array()) {
    throw format_error(source, "tensor " + tensor + ": shape is " + value.dump() +
                                   ", expected an array of non-negative integers");
  }
  constexpr auto max_dimension =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::vector<std::int64_t> shape;
  for (std::size_t axis = 0; axis < value.size(); ++axis) {
    const std::string field = "tensor " + tensor + ": shape[" + std::to_string(axis) + "]";
    shape.push_back(
        static_cast<std::int64_t>(non_negative_integer(value[axis], max_dimension, source, field)));
  }

  // A zero dimension makes the count 0 whatever the other dimensions are. Otherwise the byte
  // size count * element_size must not exceed INT64_MAX.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return shape;
  const std::uint64_t max_count = max_dimension / element_size(dtype);
  std::uint64_t count = 1;
  for (const std::int64_t dimension : shape) {
    if (count > max_count / static_cast<std::uint64_t>(dimension)) {
      throw format_error(source, "tensor " + tensor + ": shape " + shape_string(shape) +
                                     " has too many elements: its byte size exceeds 2^63 - 1");
    }
    count *= static_cast<std::uint64_t>(dimension);
  }
  return shape;
}

inline TensorInfo parse_tensor_entry(const nlohmann::json& entry, std::size_t data_size,
                                     const std::string& source, const std::string& tensor) {
  const char* expected_fields = "\"dtype\", \"shape\" and \"data_offsets\"";
  if (!entry.is_object()) {
    throw format_error(source, "tensor " + tensor + ": the entry is a JSON " + entry.type_name() +
                                   ", expected an object with " + expected_fields);
  }
  for (const auto& [field, unused] : entry.items()) {
    if (field != "dtype" && field != "shape" && field != "data_offsets") {
      throw format_error(source, "tensor " + tensor + ": unknown field " + json_quoted(field) +
                                     "; an entry has exactly " + expected_fields);
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) {
      throw format_error(source, "tensor " + tensor + ": the field \"" + field +
                                     "\" is missing; an entry has " + expected_fields);
    }
  }

  TensorInfo info;
  info.dtype = parse_dtype(entry["dtype"], source, tensor);
  info.shape = parse_shape(entry["shape"], info.dtype, source, tensor);

  const nlohmann::json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    throw format_error(source, "tensor " + tensor + ": data_offsets is " + offsets.dump() +
                                   ", expected [begin, end] in bytes");
  }
  const std::string offsets_field = "tensor " + tensor + ": data_offsets";
  const std::uint64_t begin = non_negative_integer(
      offsets[0], std::numeric_limits<std::uint64_t>::max(), source, offsets_field + "[0]");
  const std::uint64_t end = non_negative_integer(
      offsets[1], std::numeric_limits<std::uint64_t>::max(), source, offsets_field + "[1]");
  const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
  if (begin > end) {
    throw format_error(source, offsets_field + " " + range + " has begin > end");
  }
  if (end > data_size) {
    throw format_error(source, offsets_field + " " + range +
                                   " ends beyond the data buffer, which has " +
                                   std::to_string(data_size) + " bytes; the file is truncated");
  }
  info.begin = static_cast<std::size_t>(begin);
  info.end = static_cast<std::size_t>(end);

  const std::uint64_t expected_bytes =
      static_cast<std::uint64_t>(info.element_count()) * element_size(info.dtype);
  if (end - begin != expected_bytes) {
    throw format_error(source, offsets_field + " " + range + " spans " +
                                   std::to_string(end - begin) + " bytes, but shape " +
                                   shape_string(info.shape) + " of " + dtype_name(info.dtype) +
                                   " needs " + std::to_string(expected_bytes) + " bytes");
  }
  return info;
}

inline std::map<std::string, std::string> parse_metadata(const nlohmann::json& value,
                                                         const std::string& source) {
  if (!value.is_object()) {
    throw format_error(source, "__metadata__ is a JSON " + std::string(value.type_name()) +
                                   ", expected an object of string values");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string()) {
      throw format_error(source, "__metadata__ value of " + json_quoted(key) + " is " +
                                     entry.dump() + ", expected a string (write numbers as \"3\")");
    }
    metadata.emplace(key, entry.get<std::string>());
  }
  return metadata;
}

// Checks that the tensors cover the data buffer exactly: no overlaps, no gaps, no trailing
// bytes. The format requires this, and it rules out data that no tensor accounts for.
inline void check_tiling(const std::map<std::string, TensorInfo>& tensors, std::size_t data_size,
                         const std::string& source) {
  struct Extent {
    std::size_t begin;
    std::size_t end;
    const std::string* name;
  };
  std::vector<Extent> extents;
  for (const auto& [name, info] : tensors) extents.push_back({info.begin, info.end, &name});
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });

  auto range = [](std::size_t begin, std::size_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
  };
  std::size_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const Extent* previous = nullptr;
  for (const Extent& extent : extents) {
    if (extent.begin < covered) {
      throw format_error(source, "tensors " + json_quoted(*previous->name) + " at bytes " +
                                     range(previous->begin, previous->end) + " and " +
                                     json_quoted(*extent.name) + " at bytes " +
                                     range(extent.begin, extent.end) + " overlap");
    }
    if (extent.begin > covered) {
      const std::string after =
          previous ? "between " + json_quoted(*previous->name) + " and " : "before ";
      throw format_error(source, "data buffer bytes " + range(covered, extent.begin) +
                                     " belong to no tensor (" + after + json_quoted(*extent.name) +
                                     "); tensors must tile the data buffer without gaps");
    }
    covered = extent.end;
    previous = &extent;
  }
  if (covered != data_size) {
    const std::string trailing =
        std::to_string(data_size - covered) + " trailing bytes " + range(covered, data_size);
    if (previous == nullptr) {
      throw format_error(source, "the data buffer has " + trailing +
                                     " but the header lists no tensors; the file has garbage "
                                     "at its end");
    }
    throw format_error(source, "the data buffer has " + trailing + " after the last tensor " +
                                   json_quoted(*previous->name) +
                                   "; the file has garbage at its end");
  }
}

// Parses and validates the header of a complete safetensors file held in `file`.
inline SafetensorsHeader parse_header(std::span<const std::byte> file, const std::string& source) {
  if (file.size() < header_length_bytes) {
    throw format_error(source, "the file has " + std::to_string(file.size()) +
                                   " bytes, fewer than the 8-byte header length; it is "
                                   "truncated or not a safetensors file");
  }
  const auto header_size = load_little_endian<std::uint64_t>(file.data());
  const std::uint64_t available = file.size() - header_length_bytes;
  if (header_size == 0) {
    throw format_error(source,
                       "the header length is 0, but a valid header has at least the 2 bytes {}");
  }
  if (header_size > max_header_bytes) {
    throw format_error(source, "the header length is " + std::to_string(header_size) +
                                   " bytes, above the limit of " +
                                   std::to_string(max_header_bytes) +
                                   "; the file is damaged or not a safetensors file");
  }
  if (header_size > available) {
    throw format_error(source, "the header length is " + std::to_string(header_size) +
                                   " bytes, but only " + std::to_string(available) +
                                   " bytes follow the length field; the file is truncated");
  }

  SafetensorsHeader header;
  header.data_start = header_length_bytes + static_cast<std::size_t>(header_size);
  header.data_size = file.size() - header.data_start;
  const std::string_view text(reinterpret_cast<const char*>(file.data()) + header_length_bytes,
                              static_cast<std::size_t>(header_size));
  const nlohmann::json root = parse_json_rejecting_duplicates(text, source);
  if (!root.is_object()) {
    throw format_error(source, "the header is a JSON " + std::string(root.type_name()) +
                                   ", expected an object mapping tensor names to entries");
  }

  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(entry, source);
    } else {
      header.tensors.emplace(
          name, parse_tensor_entry(entry, header.data_size, source, json_quoted(name)));
    }
  }
  check_tiling(header.tensors, header.data_size, source);
  return header;
}

}  // namespace deeprnn::io::detail
