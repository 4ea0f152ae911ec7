// SafetensorsWriter output read back by SafetensorsFile: exact values, shapes, metadata and the
// byte layout of the format.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <deeprnn/io/safetensors.hpp>
#include <limits>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

namespace {

using deeprnn::Index;
using deeprnn::Matrix;
using deeprnn::io::DType;
using deeprnn::io::SafetensorsFile;
using deeprnn::io::SafetensorsWriter;
using deeprnn::io_testing::TemporaryDirectory;
using Shape = std::vector<std::int64_t>;

// A matrix of special values (signed zeros, subnormals, extremes, infinities, NaN) and
// ordinary ones, so that any conversion on the way shows up as a changed bit.
template <class Scalar>
Matrix<Scalar> special_values(Index rows, Index cols) {
  using Limits = std::numeric_limits<Scalar>;
  const std::vector<Scalar> specials{
      Scalar(0),           -Scalar(0),        Limits::denorm_min(),  -Limits::min(),
      Limits::max(),       Limits::lowest(),  Limits::infinity(),    -Limits::infinity(),
      Limits::quiet_NaN(), Limits::epsilon(), Scalar(1) / Scalar(3), Scalar(-2.5)};
  Matrix<Scalar> m(rows, cols);
  for (Index k = 0; k < m.size(); ++k) {
    m.data()[k] = specials[static_cast<std::size_t>(k) % specials.size()] +
                  (k >= static_cast<Index>(specials.size()) ? Scalar(k) : Scalar(0));
  }
  return m;
}

template <class Scalar>
bool same_bits(const Matrix<Scalar>& a, const Matrix<Scalar>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

}  // namespace

TEMPLATE_TEST_CASE("writer round trip is exact", "[safetensors][writer]", float, double) {
  TemporaryDirectory directory;
  const auto path = directory / "values.safetensors";
  const Matrix<TestType> matrix = special_values<TestType>(5, 7);
  const deeprnn::Vector<TestType> vector = special_values<TestType>(9, 1);
  const Matrix<TestType> sequence = special_values<TestType>(3, 4 * 2);  // F = 3, T = 4, B = 2

  SafetensorsWriter writer;
  writer.add("matrix", matrix);
  writer.add("vector", vector);
  writer.add("column", Matrix<TestType>(vector));
  writer.add_feature_columns("sequence", sequence, {4, 2});
  writer.write(path);

  const SafetensorsFile file = SafetensorsFile::read(path);
  const DType dtype = deeprnn::io::dtype_of<TestType>();
  CHECK(file.names() == std::vector<std::string>{"column", "matrix", "sequence", "vector"});
  CHECK(file.info("matrix").dtype == dtype);
  CHECK(file.info("matrix").shape == Shape{5, 7});
  CHECK(file.info("vector").shape == Shape{9});
  CHECK(file.info("column").shape == Shape{9, 1});
  CHECK(file.info("sequence").shape == Shape{4, 2, 3});

  CHECK(same_bits<TestType>(file.matrix<TestType>("matrix"), matrix));
  CHECK(same_bits<TestType>(file.matrix<TestType>("vector"), vector));
  CHECK(same_bits<TestType>(file.matrix<TestType>("column"), vector));
  CHECK(same_bits<TestType>(file.feature_columns<TestType>("sequence"), sequence));
  CHECK(same_bits<TestType>(file.feature_columns<TestType>("vector"), vector));

  // Row-major order in the file: element (i, j) of [5, 7] is flat element 7*i + j, and
  // position (t, b, f) of [4, 2, 3] is flat element (t*2 + b)*3 + f.
  const std::vector<TestType> flat = file.values<TestType>("matrix");
  CHECK(std::memcmp(&flat[7 * 3 + 4], &matrix(3, 4), sizeof(TestType)) == 0);
  CHECK(std::memcmp(&flat[7 * 4 + 6], &matrix(4, 6), sizeof(TestType)) == 0);
  const std::vector<TestType> sequence_flat = file.values<TestType>("sequence");
  CHECK(std::memcmp(&sequence_flat[(2 * 2 + 1) * 3 + 2], &sequence(2, 2 * 2 + 1),
                    sizeof(TestType)) == 0);
}

TEST_CASE("writer round trip of integers", "[safetensors][writer]") {
  TemporaryDirectory directory;
  const auto path = directory / "integers.safetensors";
  const std::vector<std::int64_t> values{
      std::numeric_limits<std::int64_t>::min(), -1, 0, 1, (std::int64_t{1} << 53) + 1,
      std::numeric_limits<std::int64_t>::max()};
  SafetensorsWriter writer;
  writer.add_integers("flat", values);
  writer.add_integers("grid", values, {2, 3});
  writer.add_integers("empty", {}, {0, 4});
  writer.add_integers("scalar", {42}, {});
  writer.write(path);

  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.integers("flat") == values);
  CHECK(file.integers("grid") == values);
  CHECK(file.info("flat").shape == Shape{6});
  CHECK(file.info("grid").shape == Shape{2, 3});
  CHECK(file.info("grid").dtype == DType::i64);
  CHECK(file.integers("empty").empty());
  CHECK(file.info("empty").shape == Shape{0, 4});
  CHECK(file.info("empty").begin == file.info("empty").end);
  CHECK(file.integers("scalar") == std::vector<std::int64_t>{42});
  CHECK(file.info("scalar").shape.empty());
  CHECK(file.matrix<double>("scalar")(0, 0) == 42.0);

  // Integers convert to floating point on request; 2^53 + 1 rounds to 2^53 in double.
  const std::vector<double> as_double = file.values<double>("flat");
  CHECK(as_double[1] == -1.0);
  CHECK(as_double[4] == 9007199254740992.0);
}

TEST_CASE("writer round trip of metadata", "[safetensors][writer]") {
  TemporaryDirectory directory;
  const auto path = directory / "metadata.safetensors";
  SafetensorsWriter writer;
  writer.set_metadata("format", "test");
  writer.set_metadata("note", "quotes \" and \\ backslash, tab\t, UTF-8 \xc3\xa9");
  writer.set_metadata("format", "replaced");
  writer.add_integers("x", {1});
  writer.write(path);

  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.metadata().size() == 2);
  CHECK(file.metadata().at("format") == "replaced");
  CHECK(file.metadata().at("note") == "quotes \" and \\ backslash, tab\t, UTF-8 \xc3\xa9");
  CHECK(file.names() == std::vector<std::string>{"x"});
}

TEST_CASE("writer layout is aligned", "[safetensors][writer]") {
  TemporaryDirectory directory;
  const auto path = directory / "layout.safetensors";
  SafetensorsWriter writer;
  writer.add("f32", Matrix<float>::Constant(1, 3, 2.0f));  // 12 bytes
  writer.add("f64", Matrix<double>::Constant(1, 1, 1.0));  // 8 bytes
  writer.add_integers("i64", {-2});                        // 8 bytes
  writer.write(path);

  const auto bytes = deeprnn::io_testing::read_bytes(path);
  const std::uint64_t header_size = deeprnn::io_testing::header_length(bytes);
  CHECK(header_size % 8 == 0);
  REQUIRE(bytes.size() == 8 + header_size + 28);

  // The JSON text ends with '}' followed only by padding spaces.
  std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, header_size);
  const std::size_t close = header.find_last_of('}');
  CHECK(header.find_first_not_of(' ', close + 1) == std::string::npos);

  // 8-byte elements first, in the order added, then the float tensor.
  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.info("f64").begin == 0);
  CHECK(file.info("i64").begin == 8);
  CHECK(file.info("f32").begin == 16);
  CHECK(file.info("f32").end == 28);

  // 1.0 as a little-endian IEEE double is 00 00 00 00 00 00 f0 3f; -2 as a little-endian
  // int64 is fe ff ff ff ff ff ff ff; 2.0f as a little-endian float is 00 00 00 40.
  const std::size_t data = 8 + header_size;
  const std::vector<unsigned> expected{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0xfe, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x40};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("data byte " << i);
    CHECK(std::to_integer<unsigned>(bytes[data + i]) == expected[i]);
  }
}

TEST_CASE("writer of nothing reads back empty", "[safetensors][writer]") {
  TemporaryDirectory directory;
  const auto path = directory / "empty.safetensors";
  SafetensorsWriter().write(path);
  const auto bytes = deeprnn::io_testing::read_bytes(path);
  CHECK(bytes.size() == 16);  // length field and "{}" padded to 8 bytes
  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.size() == 0);
  CHECK(file.names().empty());
  CHECK(file.metadata().empty());
}

TEST_CASE("writer rejects invalid tensors", "[safetensors][writer]") {
  using Catch::Matchers::Contains;
  SafetensorsWriter writer;
  const Matrix<double> m = Matrix<double>::Zero(2, 3);
  writer.add("w", m);

  CHECK_THROWS_AS(writer.add("w", m), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(writer.add("w", m), Contains("already added"));
  CHECK_THROWS_WITH(writer.add("", m), Contains("empty"));
  CHECK_THROWS_WITH(writer.add("__metadata__", m), Contains("set_metadata"));
  CHECK_THROWS_WITH(writer.add("bad\xff", m), Contains("UTF-8"));
  CHECK_THROWS_WITH(writer.set_metadata("key", "bad\xfe"), Contains("UTF-8"));
  CHECK_THROWS_WITH(writer.add_integers("n", {1, 2, 3}, {2, 2}), Contains("3 values"));
  CHECK_THROWS_WITH(writer.add_integers("n", {1, 2}, {-1, -2}), Contains("non-negative"));
  CHECK_THROWS_WITH(writer.add_feature_columns("s", m, {2, 2}), Contains("leading_shape [2, 2]"));
  CHECK_THROWS_WITH(writer.add_feature_columns("s", m, {}), Contains("3 columns"));
  CHECK(writer.size() == 1);
  CHECK(writer.contains("w"));
  CHECK(!writer.contains("n"));
}

TEST_CASE("writer copies fixtures exactly", "[safetensors][writer][fixtures]") {
  TemporaryDirectory directory;
  for (const auto& source : deeprnn::io_testing::fixture_files()) {
    INFO(source.string());
    const SafetensorsFile original = SafetensorsFile::read(source);
    SafetensorsWriter writer;
    for (const std::string& name : original.names()) {
      const auto& info = original.info(name);
      if (info.dtype == DType::i64) {
        writer.add_integers(name, original.integers(name), info.shape);
      } else if (info.dtype == DType::f32) {
        writer.add_values(name, original.values<float>(name), info.shape);
      } else {
        writer.add_values(name, original.values<double>(name), info.shape);
      }
    }
    for (const auto& [key, value] : original.metadata()) writer.set_metadata(key, value);
    const auto copy_path = directory / source.filename().string();
    writer.write(copy_path);

    const SafetensorsFile copy = SafetensorsFile::read(copy_path);
    CHECK(copy.names() == original.names());
    CHECK(copy.metadata() == original.metadata());
    for (const std::string& name : original.names()) {
      INFO("tensor " << name);
      CHECK(copy.info(name).dtype == original.info(name).dtype);
      CHECK(copy.info(name).shape == original.info(name).shape);
      const auto a = original.bytes(name);
      const auto b = copy.bytes(name);
      REQUIRE(a.size() == b.size());
      CHECK(std::memcmp(a.data(), b.data(), a.size()) == 0);
    }
  }
}
