// Exceptions of the deeprnn file readers and writers.
#pragma once

#include <deeprnn/core.hpp>
#include <string>

namespace deeprnn::io {

// Thrown when a file's contents do not follow the format, or do not fit the model they are
// loaded into. The message starts with the file path and names the tensor and the values.
class format_error : public deeprnn::invalid_argument {
 public:
  format_error(const std::string& source, const std::string& problem)
      : deeprnn::invalid_argument(source + ": " + problem) {}
};

// Thrown when the operating system fails to open, read, write or rename a file. The message
// starts with the file path and ends with the system's reason.
class io_error : public deeprnn::invalid_argument {
 public:
  io_error(const std::string& source, const std::string& problem)
      : deeprnn::invalid_argument(source + ": " + problem) {}
};

}  // namespace deeprnn::io
