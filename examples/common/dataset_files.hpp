// File access shared by the example data loaders: errors, whole-file reads, and the location
// of data sets installed as npm packages.
#ifndef DEEPRNN_EXAMPLES_COMMON_DATASET_FILES_HPP
#define DEEPRNN_EXAMPLES_COMMON_DATASET_FILES_HPP

#include <cstddef>
#include <cstdlib>
#include <deeprnn/core.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace deeprnn::examples {

// The three parts of every example data set.
enum class Split { train, validation, test };

inline std::string_view split_name(Split split) {
  switch (split) {
    case Split::train:
      return "train";
    case Split::validation:
      return "validation";
    case Split::test:
      return "test";
  }
  return "unknown";
}

// Thrown when a data file is missing. The message contains the shell command that installs it.
class dataset_not_found : public invalid_argument {
 public:
  using invalid_argument::invalid_argument;
};

[[noreturn]] inline void throw_dataset_not_found(const std::string& message) {
  throw dataset_not_found("deeprnn examples: " + message);
}

// Throws deeprnn::invalid_argument for a malformed data file, naming the file and 1-based line.
[[noreturn]] inline void throw_malformed(const std::filesystem::path& file, std::size_t line,
                                         const std::string& message) {
  throw invalid_argument("deeprnn examples: " + file.string() + " line " + std::to_string(line) +
                         ": " + message);
}

// Reads a whole file into memory in one call. The caller checks existence first, because only
// the caller knows the install command to put in the message.
inline std::string read_file_bytes(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary | std::ios::ate);
  if (!stream) {
    throw invalid_argument("deeprnn examples: failed to open " + file.string() +
                           " for reading; check its permissions");
  }
  const std::streamoff size = stream.tellg();
  std::string bytes(static_cast<std::size_t>(size), '\0');
  stream.seekg(0);
  if (!stream.read(bytes.data(), size)) {
    throw invalid_argument("deeprnn examples: read of " + file.string() + " failed after " +
                           std::to_string(stream.gcount()) + " of " + std::to_string(size) +
                           " bytes");
  }
  return bytes;
}

// An npm package pinned to one version, so that splits and golden values stay reproducible.
struct NpmPackage {
  std::string_view name;
  std::string_view version;
};

// The data root as the install command writes it, for messages and help text.
inline constexpr std::string_view kDefaultDataRootText = "$HOME/.local/share/deeprnn";

// Returns $HOME/.local/share/deeprnn, the folder that `npm install --prefix` fills.
inline std::filesystem::path default_data_root() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    throw invalid_argument("deeprnn examples: HOME is not set, so the default data root " +
                           std::string(kDefaultDataRootText) +
                           " is unknown; pass the data root explicitly");
  }
  return std::filesystem::path(home) / ".local" / "share" / "deeprnn";
}

// Returns the command that installs `package` under `root_text` (a path as shown to the user).
inline std::string npm_install_command(std::string_view root_text, const NpmPackage& package) {
  return "npm install --prefix \"" + std::string(root_text) + "\" " + std::string(package.name) +
         "@" + std::string(package.version);
}

// An installed npm package and the command that reinstalls it at the same place.
struct NpmPackageLocation {
  std::filesystem::path directory;
  std::string install_command;
};

// Finds the folder of an installed npm package.
//
// `location` is either a data root, so the package is <root>/node_modules/<name>, or the
// package folder itself. When empty, it is default_data_root(). The package counts as installed
// when <package>/<probe_file> exists. Otherwise this throws dataset_not_found with the install
// command. A package.json whose version differs from the pinned one is rejected the same way.
inline NpmPackageLocation find_npm_package(const std::optional<std::filesystem::path>& location,
                                           const NpmPackage& package,
                                           const std::filesystem::path& probe_file) {
  namespace fs = std::filesystem;

  fs::path given = (location ? *location : default_data_root()).lexically_normal();
  if (!given.has_filename() && given.has_parent_path()) given = given.parent_path();  // "dir/"
  const fs::path package_suffix = fs::path("node_modules") / fs::path(std::string(package.name));

  NpmPackageLocation found;
  fs::path root = given;
  if (fs::exists(given / probe_file)) {
    found.directory = given;
    // The package folder of an npm install is <root>/node_modules/@scope/name.
    root = given.parent_path().parent_path().parent_path();
  } else {
    found.directory = given / package_suffix;
  }
  found.install_command =
      npm_install_command(location ? root.string() : std::string(kDefaultDataRootText), package);

  if (!fs::exists(found.directory / probe_file)) {
    throw_dataset_not_found("data set " + std::string(package.name) +
                            " not found: " + (found.directory / probe_file).string() +
                            " does not exist. Install it with: " + found.install_command);
  }

  const fs::path manifest = found.directory / "package.json";
  if (fs::exists(manifest)) {
    const auto json = nlohmann::json::parse(read_file_bytes(manifest), nullptr, false);
    const std::string version =
        json.is_object() && json.contains("version") && json["version"].is_string()
            ? json["version"].get<std::string>()
            : std::string("(none)");
    if (version != package.version) {
      throw_dataset_not_found("data set " + std::string(package.name) + " at " +
                              found.directory.string() + " has version " + version + ", expected " +
                              std::string(package.version) +
                              ". Install the expected version with: " + found.install_command);
    }
  }
  return found;
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_DATASET_FILES_HPP
