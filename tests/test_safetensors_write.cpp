// Atomic replacement by SafetensorsWriter::write: a failed write throws io_error, leaves an
// existing file unchanged and leaves no temporary file behind.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <deeprnn/io/safetensors.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "test_safetensors_helpers.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using deeprnn::io::io_error;
using deeprnn::io::SafetensorsFile;
using deeprnn::io::SafetensorsWriter;
using deeprnn::io_testing::TemporaryDirectory;

SafetensorsWriter writer_with(double value, deeprnn::Index rows) {
  SafetensorsWriter writer;
  writer.add("w", deeprnn::Matrix<double>::Constant(rows, 4, value));
  return writer;
}

// Lowers the process's maximum file size so that larger writes fail with EFBIG. SIGXFSZ is
// ignored meanwhile because it would end the process. Both are restored at the end of scope.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_limit_);
    saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved_limit_;
    lowered.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_limit_);
    std::signal(SIGXFSZ, saved_handler_);
  }

 private:
  rlimit saved_limit_{};
  void (*saved_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("write replaces existing file", "[safetensors][write]") {
  TemporaryDirectory directory;
  const auto path = directory / "weights.safetensors";
  writer_with(1.0, 2).write(path);
  writer_with(2.0, 3).write(path);

  const SafetensorsFile file = SafetensorsFile::read(path);
  CHECK(file.matrix<double>("w") == deeprnn::Matrix<double>::Constant(3, 4, 2.0));
  CHECK(directory.entries() == std::vector<std::string>{"weights.safetensors"});
}

TEST_CASE("write into missing directory fails", "[safetensors][write]") {
  TemporaryDirectory directory;
  const auto missing_directory = directory / "missing";
  const auto path = missing_directory / "weights.safetensors";

  CHECK_THROWS_AS(writer_with(1.0, 2).write(path), io_error);
  CHECK_THROWS_WITH(writer_with(1.0, 2).write(path), StartsWith(path.string() + ": "));
  CHECK_THROWS_WITH(writer_with(1.0, 2).write(path), Contains("No such file or directory"));
  CHECK(!std::filesystem::exists(missing_directory));
  CHECK(directory.entries().empty());
}

TEST_CASE("write to directory path fails", "[safetensors][write]") {
  TemporaryDirectory directory;
  const std::filesystem::path path = directory.path().string() + "/";
  CHECK_THROWS_AS(writer_with(1.0, 2).write(path), io_error);
  CHECK_THROWS_WITH(writer_with(1.0, 2).write(path), Contains("names a directory"));
  CHECK(directory.entries().empty());
}

TEST_CASE("failed write keeps previous file", "[safetensors][write]") {
  TemporaryDirectory directory;
  const auto path = directory / "weights.safetensors";
  writer_with(1.0, 2).write(path);
  const auto previous = deeprnn::io_testing::read_bytes(path);
  REQUIRE(previous.size() < 1024);

  // 4000 x 4 doubles take 128000 bytes, far above the 16 KiB limit.
  {
    const SafetensorsWriter large = writer_with(2.0, 4000);
    FileSizeLimit limit(16 * 1024);
    CHECK_THROWS_AS(large.write(path), io_error);
    CHECK_THROWS_WITH(large.write(path), Contains("File too large"));
    CHECK_THROWS_WITH(large.write(path), Contains("unchanged"));
  }

  CHECK(deeprnn::io_testing::read_bytes(path) == previous);
  CHECK(directory.entries() == std::vector<std::string>{"weights.safetensors"});
}

TEST_CASE("failed rename keeps target", "[safetensors][write]") {
  // rename() cannot replace a non-empty directory, so the write fails at its last step.
  TemporaryDirectory directory;
  const auto target = directory / "weights.safetensors";
  std::filesystem::create_directory(target);
  deeprnn::io_testing::write_bytes(target / "inside", std::vector<std::byte>(3, std::byte{7}));

  CHECK_THROWS_AS(writer_with(1.0, 2).write(target), io_error);
  CHECK_THROWS_WITH(writer_with(1.0, 2).write(target), Contains("renaming"));
  CHECK(std::filesystem::is_directory(target));
  CHECK(TemporaryDirectory::entries_of(target) == std::vector<std::string>{"inside"});
  CHECK(directory.entries() == std::vector<std::string>{"weights.safetensors"});
}
