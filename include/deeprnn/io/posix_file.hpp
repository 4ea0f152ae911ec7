// Whole-file reads and atomic whole-file writes with POSIX calls, reporting failures as
// io_error with the system's reason.
// NOTE: POSIX only (open, fsync, rename); there is no Windows implementation.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deeprnn/io/errors.hpp>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace deeprnn::io::detail {

inline std::string system_reason(int error_number) {
  return std::generic_category().message(error_number);
}

// Closes a file descriptor when it goes out of scope, unless released.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }

  // Closes now and returns 0 or the errno of close().
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Reads a whole regular file.
inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  const std::string source = path.string();
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) throw io_error(source, "cannot open the file: " + system_reason(errno));

  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    throw io_error(source, "cannot read the file size: " + system_reason(errno));
  }
  if (!S_ISREG(status.st_mode)) {
    throw io_error(source, "is not a regular file; expected a safetensors file");
  }

  std::vector<std::byte> bytes(static_cast<std::size_t>(status.st_size));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t count = ::read(file.get(), bytes.data() + filled, bytes.size() - filled);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) throw io_error(source, "cannot read the file: " + system_reason(errno));
    if (count == 0) {
      throw io_error(source, "the file shrank from " + std::to_string(bytes.size()) + " to " +
                                 std::to_string(filled) + " bytes while it was read");
    }
    filled += static_cast<std::size_t>(count);
  }
  return bytes;
}

// A name for a temporary file next to `target`, unlikely to collide with other writers.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const std::uint64_t suffix = generator() ^ counter.fetch_add(1);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(suffix));
  return target.parent_path() / ("." + target.filename().string() + ".tmp-" + hex);
}

// Writes `contents` to `target` so that readers see either the old file or the complete new
// one: the bytes go to a temporary file in the same directory, which is flushed to disk
// with fsync and then renamed over the target. On failure the temporary file is removed, an
// existing target is left as it was, and io_error is thrown.
inline void write_file_atomically(const std::filesystem::path& target,
                                  std::span<const std::byte> contents) {
  const std::string source = target.string();
  if (!target.has_filename()) {
    throw io_error(source, "the path names a directory; expected a file path");
  }

  // O_EXCL makes creation fail rather than reuse a file that another writer just created.
  std::filesystem::path temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temporary = temporary_sibling(target);
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    throw io_error(source, "cannot create a temporary file " + temporary.string() + ": " +
                               system_reason(errno));
  }
  FileDescriptor file(fd);

  auto fail = [&](const std::string& step, int error_number) {
    if (file.get() >= 0) file.close();
    ::unlink(temporary.c_str());
    throw io_error(source, step + " failed: " + system_reason(error_number) +
                               "; the previous file, if any, is unchanged");
  };

  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t count = ::write(file.get(), contents.data() + written, contents.size() - written);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) fail("writing " + temporary.string(), errno);
    written += static_cast<std::size_t>(count);
  }
  if (::fsync(file.get()) != 0) fail("fsync of " + temporary.string(), errno);
  if (const int error_number = file.close(); error_number != 0) {
    fail("closing " + temporary.string(), error_number);
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    fail("renaming " + temporary.string() + " to the target", errno);
  }

  // Syncing the directory makes the rename itself durable. Its failure is ignored: the data
  // is already on disk, the target is already replaced, and some file systems reject fsync
  // on directories.
  const std::filesystem::path directory =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  FileDescriptor directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.get() >= 0) ::fsync(directory_fd.get());
}

}  // namespace deeprnn::io::detail
