// Damaged and malformed safetensors files: each must be rejected with a format_error whose
// message starts with the path and names the offending tensor and values, never read out
// of bounds.
#include <catch2/catch.hpp>
#include <cstdint>
#include <deeprnn/io/safetensors.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

namespace {

using deeprnn::io::format_error;
using deeprnn::io::io_error;
using deeprnn::io::SafetensorsFile;
using deeprnn::io::SafetensorsWriter;
using deeprnn::io_testing::TemporaryDirectory;
using Bytes = std::vector<std::byte>;

// A valid file with data buffer a = F64 [2, 3] at [0, 48), n = I64 [2] at [48, 64) and
// b = F32 [4] at [64, 80), plus metadata {"m": "1"}.
Bytes valid_file() {
  SafetensorsWriter writer;
  writer.add("a", deeprnn::Matrix<double>::Constant(2, 3, 1.5));
  writer.add("b", deeprnn::Vector<float>::Constant(4, 2.5f));
  writer.add_integers("n", {7, 8});
  writer.set_metadata("m", "1");
  return writer.to_bytes();
}

std::uint64_t header_length(const Bytes& file) { return deeprnn::io_testing::header_length(file); }

Bytes data_buffer(const Bytes& file) {
  return Bytes(file.begin() + static_cast<std::ptrdiff_t>(8 + header_length(file)), file.end());
}

// A file with the given header text and data buffer; the length field is the text's size.
Bytes assemble(const std::string& header_text, const Bytes& data) {
  Bytes file(8 + header_text.size());
  deeprnn::io::detail::store_little_endian(static_cast<std::uint64_t>(header_text.size()),
                                           file.data());
  std::memcpy(file.data() + 8, header_text.data(), header_text.size());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

// The valid file with its header JSON changed by `edit`.
Bytes with_header(const std::function<void(nlohmann::json&)>& edit) {
  const Bytes file = valid_file();
  const std::string text(reinterpret_cast<const char*>(file.data()) + 8, header_length(file));
  nlohmann::json header = nlohmann::json::parse(text);
  edit(header);
  return assemble(header.dump(), data_buffer(file));
}

Bytes with_length_field(std::uint64_t length) {
  Bytes file = valid_file();
  deeprnn::io::detail::store_little_endian(length, file.data());
  return file;
}

Bytes truncated(std::size_t size) {
  Bytes file = valid_file();
  file.resize(size);
  return file;
}

struct Corruption {
  std::string description;
  Bytes file;
  std::vector<std::string> message_parts;  // each must occur in the error message
};

std::vector<Corruption> corruptions() {
  const Bytes valid = valid_file();
  const std::size_t header_end = 8 + header_length(valid);
  const std::size_t size = valid.size();
  const std::string available = std::to_string(size - 8);

  Bytes trailing = valid;
  trailing.insert(trailing.end(), 8, std::byte{0});

  const std::string entry = R"({"dtype":"I64","shape":[1],"data_offsets":[0,8]})";
  const Bytes eight_bytes(8, std::byte{1});

  return {
      {"empty file", truncated(0), {"has 0 bytes", "8-byte header length"}},
      {"cut inside the length field", truncated(5), {"has 5 bytes"}},
      {"cut after the length field", truncated(8), {"but only 0 bytes follow"}},
      {"cut inside the header", truncated(20), {"but only 12 bytes follow"}},
      {"cut at the header's last byte", truncated(header_end - 1), {"the file is truncated"}},
      {"cut at the data buffer", truncated(header_end), {"\"a\"", "[0, 48]", "which has 0 bytes"}},
      {"cut inside the first tensor", truncated(header_end + 47), {"\"a\"", "[0, 48]"}},
      {"cut inside the last tensor", truncated(size - 1), {"\"b\"", "[64, 80]", "which has 79"}},
      {"header length 0", with_length_field(0), {"header length is 0"}},
      {"header length beyond file", with_length_field(size), {"only " + available + " bytes"}},
      {"header length huge", with_length_field(std::uint64_t{1} << 63), {"above the limit"}},
      {"invalid JSON", assemble("{\"a\": [1, 2", eight_bytes), {"not valid JSON"}},
      {"header of zero bytes", assemble(std::string(8, '\0'), {}), {"not valid JSON"}},
      {"invalid UTF-8", assemble("{\"a\xff\": 1}", {}), {"not valid JSON"}},
      {"header is an array", assemble("[1, 2]", {}), {"JSON array", "expected an object"}},
      {"header is a string", assemble("\"x\"", {}), {"JSON string"}},
      {"duplicate tensor name",
       assemble("{\"x\":" + entry + ",\"x\":" + entry + "}", eight_bytes),
       {"\"x\" appears twice at the top level"}},
      {"duplicate field",
       assemble(R"({"x":{"dtype":"I64","dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                eight_bytes),
       {"\"dtype\" appears twice inside the entry \"x\""}},
      {"duplicate metadata key",
       assemble(R"({"__metadata__":{"k":"1","k":"2"},"x":)" + entry + "}", eight_bytes),
       {"\"k\" appears twice inside the entry \"__metadata__\""}},
      {"trailing garbage", trailing, {"8 trailing bytes [80, 88)", "after the last tensor \"b\""}},
      {"data without tensors",
       assemble("{}", eight_bytes),
       {"8 trailing bytes [0, 8)", "lists no tensors"}},
      {"overlapping tensors",
       with_header([](auto& h) {
         h["n"]["data_offsets"] = {40, 56};
       }),
       {"\"a\" at bytes [0, 48)", "\"n\" at bytes [40, 56)", "overlap"}},
      {"offsets beyond the buffer",
       with_header([](auto& h) {
         h["b"]["shape"] = {8};
         h["b"]["data_offsets"] = {64, 96};
       }),
       {"tensor \"b\"", "[64, 96]", "ends beyond the data buffer, which has 80 bytes"}},
      {"offsets at the largest integer",
       with_header([](auto& h) {
         h["b"]["data_offsets"] = {64, UINT64_MAX};
       }),
       {"tensor \"b\"", "18446744073709551615", "ends beyond"}},
      {"gap between tensors",
       with_header([](auto& h) { h.erase("n"); }),
       {"bytes [48, 64) belong to no tensor", "between \"a\" and \"b\""}},
      {"gap at the start",
       with_header([](auto& h) { h.erase("a"); }),
       {"bytes [0, 48) belong to no tensor", "before \"n\""}},
      {"begin after end",
       with_header([](auto& h) {
         h["a"]["data_offsets"] = {48, 0};
       }),
       {"tensor \"a\"", "[48, 0]", "begin > end"}},
      {"negative offset",
       with_header([](auto& h) {
         h["a"]["data_offsets"] = {-8, 40};
       }),
       {"tensor \"a\": data_offsets[0] is -8"}},
      {"one offset",
       with_header([](auto& h) { h["a"]["data_offsets"] = {0}; }),
       {"tensor \"a\": data_offsets is [0]", "[begin, end]"}},
      {"unsupported dtype",
       with_header([](auto& h) { h["a"]["dtype"] = "F16"; }),
       {"tensor \"a\"", "\"F16\" is not supported"}},
      {"unknown dtype",
       with_header([](auto& h) { h["a"]["dtype"] = "float64"; }),
       {"tensor \"a\"", "\"float64\" is not a safetensors dtype"}},
      {"dtype not a string",
       with_header([](auto& h) { h["a"]["dtype"] = 64; }),
       {"tensor \"a\": dtype is 64"}},
      {"dtype of another size",
       with_header([](auto& h) { h["a"]["dtype"] = "F32"; }),
       {"tensor \"a\"", "spans 48 bytes", "[2, 3] of F32 needs 24 bytes"}},
      {"negative dimension",
       with_header([](auto& h) {
         h["a"]["shape"] = {-2, 3};
       }),
       {"tensor \"a\": shape[0] is -2", "non-negative integer"}},
      {"fractional dimension",
       with_header([](auto& h) {
         h["a"]["shape"] = {2, 1.5};
       }),
       {"tensor \"a\": shape[1] is 1.5"}},
      {"shape not an array",
       with_header([](auto& h) { h["a"]["shape"] = "2x3"; }),
       {"tensor \"a\": shape is \"2x3\""}},
      {"size mismatch",
       with_header([](auto& h) {
         h["a"]["shape"] = {2, 2};
       }),
       {"tensor \"a\"", "[0, 48]", "spans 48 bytes", "[2, 2] of F64 needs 32 bytes"}},
      {"element count overflow",
       with_header([](auto& h) {
         h["a"]["shape"] = {std::int64_t{1} << 62, 4};
       }),
       {"tensor \"a\"", "[4611686018427387904, 4]", "too many elements"}},
      {"missing field",
       with_header([](auto& h) { h["a"].erase("shape"); }),
       {"tensor \"a\"", "\"shape\" is missing"}},
      {"unknown field",
       with_header([](auto& h) {
         h["a"]["strides"] = {3, 1};
       }),
       {"tensor \"a\"", "unknown field \"strides\""}},
      {"entry not an object",
       with_header([](auto& h) { h["a"] = 5; }),
       {"tensor \"a\"", "entry is a JSON number"}},
      {"metadata value not a string",
       with_header([](auto& h) { h["__metadata__"]["m"] = 1; }),
       {"__metadata__ value of \"m\" is 1", "expected a string"}},
      {"metadata not an object",
       with_header([](auto& h) {
         h["__metadata__"] = {1, 2};
       }),
       {"__metadata__ is a JSON array"}},
  };
}

}  // namespace

TEST_CASE("valid base file reads back", "[safetensors][corrupt]") {
  // The corruptions below start from this file, so it must be valid itself.
  TemporaryDirectory directory;
  const auto path = directory / "valid.safetensors";
  deeprnn::io_testing::write_bytes(path, valid_file());
  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.names() == std::vector<std::string>{"a", "b", "n"});
  CHECK(file.info("a").begin == 0);
  CHECK(file.info("n").begin == 48);
  CHECK(file.info("b").begin == 64);
  CHECK(file.info("b").end == 80);
}

TEST_CASE("corrupt files are rejected", "[safetensors][corrupt]") {
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  TemporaryDirectory directory;
  const auto path = directory / "corrupt.safetensors";

  for (const Corruption& corruption : corruptions()) {
    INFO(corruption.description);
    deeprnn::io_testing::write_bytes(path, corruption.file);
    CHECK_THROWS_AS(SafetensorsFile::read(path), format_error);
    CHECK_THROWS_WITH(SafetensorsFile::read(path), StartsWith(path.string() + ": "));
    for (const std::string& part : corruption.message_parts) {
      CHECK_THROWS_WITH(SafetensorsFile::read(path), Contains(part));
    }
  }
}

TEST_CASE("unreadable paths raise io_error", "[safetensors][corrupt]") {
  using Catch::Matchers::Contains;
  TemporaryDirectory directory;
  const auto missing = directory / "missing.safetensors";
  CHECK_THROWS_AS(SafetensorsFile::read(missing), io_error);
  CHECK_THROWS_WITH(SafetensorsFile::read(missing), Contains("cannot open"));
  CHECK_THROWS_WITH(SafetensorsFile::read(missing), Contains("No such file"));
  CHECK_THROWS_AS(SafetensorsFile::read(directory.path()), io_error);
  CHECK_THROWS_WITH(SafetensorsFile::read(directory.path()), Contains("not a regular file"));
}

TEST_CASE("fuzzed fixture loads or is rejected", "[safetensors][corrupt][fuzz]") {
  // Random damage to a real file must end in a clean load or a format_error. Under
  // AddressSanitizer this also proves that no variant reads out of bounds.
  const Bytes original =
      deeprnn::io_testing::read_bytes(deeprnn::io_testing::fixture_path("edge_hidden1"));
  REQUIRE(original.size() > 1000);
  const std::size_t header_end = 8 + header_length(original);
  const std::string json_characters = "{}[]\":,-.0123456789eE ";

  std::mt19937_64 engine(20240611);
  auto uniform = [&](std::size_t limit) {
    return std::uniform_int_distribution<std::size_t>(0, limit - 1)(engine);
  };

  int loaded = 0;
  int rejected = 0;
  for (int variant = 0; variant < 400; ++variant) {
    Bytes file = original;
    switch (variant % 4) {
      case 0:  // flip a few bits anywhere
        for (int flips = 1 + static_cast<int>(uniform(4)); flips > 0; --flips) {
          file[uniform(file.size())] ^= std::byte(1u << uniform(8));
        }
        break;
      case 1:  // put JSON punctuation or digits into the header
        for (int edits = 1 + static_cast<int>(uniform(3)); edits > 0; --edits) {
          file[8 + uniform(header_end - 8)] = std::byte(
              static_cast<unsigned char>(json_characters[uniform(json_characters.size())]));
        }
        break;
      case 2:  // truncate
        file.resize(uniform(file.size()));
        break;
      default:  // damage the header length
        file[uniform(8)] ^= std::byte(1u << uniform(8));
        break;
    }

    INFO("variant " << variant);
    try {
      const SafetensorsFile parsed =
          SafetensorsFile::from_bytes(file, "variant " + std::to_string(variant));
      for (const std::string& name : parsed.names()) {
        const auto& info = parsed.info(name);
        CHECK(parsed.values<double>(name).size() == static_cast<std::size_t>(info.element_count()));
        CHECK(parsed.feature_columns<double>(name).size() == info.element_count());
        if (info.shape.size() <= 2) {
          CHECK(parsed.matrix<float>(name).size() == info.element_count());
        }
      }
      ++loaded;
    } catch (const format_error& error) {
      CHECK(std::string(error.what()).rfind("variant " + std::to_string(variant) + ": ", 0) == 0);
      ++rejected;
    }
  }
  // Both outcomes must occur, or the variants did not exercise the validation.
  CHECK(loaded > 20);
  CHECK(rejected > 100);
}
