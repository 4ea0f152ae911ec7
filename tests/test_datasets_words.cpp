// Tests of the word -> language loader used by the examples. A separate Python 3.11 script
// (str.strip, str.lower, the letter filter, FNV-1a) computed the golden counts, words and hashes
// from the Debian 12 word lists. The small word lists are written here by hand.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "../examples/common/word_language_data.hpp"

namespace {

using namespace deeprnn::examples;

// A directory of hand-written word lists that is removed at the end of the test.
class TemporaryDictionary {
 public:
  TemporaryDictionary() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("deeprnn-words-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDictionary() { std::filesystem::remove_all(path_); }
  TemporaryDictionary(const TemporaryDictionary&) = delete;
  TemporaryDictionary& operator=(const TemporaryDictionary&) = delete;

  void write(const std::string& file_name, const std::string& bytes) const {
    std::ofstream(path_ / file_name, std::ios::binary) << bytes;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> words_of_label(const std::vector<WordSample>& samples, int label) {
  std::vector<std::string> words;
  for (const WordSample& sample : samples) {
    if (sample.label == label) words.push_back(sample.word);
  }
  return words;
}

}  // namespace

TEST_CASE("fnv1a32 matches reference hashes", "[datasets][words]") {
  CHECK(fnv1a32("") == 0x811C9DC5u);
  CHECK(fnv1a32("a") == 0xE40C292Cu);
  CHECK(fnv1a32("foobar") == 0xBF9CF968u);
  CHECK(fnv1a32("hello") == 0x4F9F2CABu);
  CHECK(fnv1a32("stra\xC3\x9F"
                "e") == 0x2626F818u);  // "straße"
}

TEST_CASE("lowercase rule on edge code points", "[datasets][words]") {
  // Expected values are Python 3.11's str.lower() of each code point.
  CHECK(lowercase_code_point(U'A') == U'a');
  CHECK(lowercase_code_point(U'Z') == U'z');
  CHECK(lowercase_code_point(0xC0) == 0xE0);
  CHECK(lowercase_code_point(0xDE) == 0xFE);
  CHECK(lowercase_code_point(0xDF) == 0xDF);
  CHECK(lowercase_code_point(0x178) == 0xFF);
  CHECK(lowercase_code_point(0x100) == 0x101);
  CHECK(lowercase_code_point(0x101) == 0x101);
  CHECK(lowercase_code_point(0x136) == 0x137);
  CHECK(lowercase_code_point(0x137) == 0x137);
  CHECK(lowercase_code_point(0x138) == 0x138);
  CHECK(lowercase_code_point(0x139) == 0x13A);
  CHECK(lowercase_code_point(0x147) == 0x148);
  CHECK(lowercase_code_point(0x148) == 0x148);
  CHECK(lowercase_code_point(0x149) == 0x149);
  CHECK(lowercase_code_point(0x14A) == 0x14B);
  CHECK(lowercase_code_point(0x176) == 0x177);
  CHECK(lowercase_code_point(0x177) == 0x177);
  CHECK(lowercase_code_point(0x179) == 0x17A);
  CHECK(lowercase_code_point(0x17D) == 0x17E);
  CHECK(lowercase_code_point(0x17E) == 0x17E);
  CHECK(lowercase_code_point(0x17F) == 0x17F);
  CHECK(lowercase_code_point(0x1E9E) == 0xDF);
  CHECK(lowercase_code_point(0x212A) == U'k');
  CHECK(lowercase_code_point(0x212B) == 0xE5);

  // U+00D7 (multiplication sign) stays as it is, and the letter filter rejects it.
  CHECK(lowercase_code_point(0xD7) == 0xD7);
  CHECK_FALSE(is_word_letter(0xD7));
  CHECK_FALSE(is_word_letter(0xF7));
  CHECK(is_word_letter(0xDF));
  CHECK(is_word_letter(0x17F));
  CHECK_FALSE(is_word_letter(0x180));
  CHECK_FALSE(is_word_letter(U'A'));

  // Python lowers U+0130 to "i" + U+0307, which is not a letter, so the word is dropped.
  CHECK(lowercase_code_point(0x130) == 0x130);
  CHECK_FALSE(normalize_word("\xC4\xB0stanbul").has_value());
}

TEST_CASE("normalize_word strips, lowers and filters", "[datasets][words]") {
  CHECK(normalize_word("Stra\xC3\x9F"
                       "e") == std::optional<std::string>("stra\xC3\x9F"
                                                          "e"));
  CHECK(normalize_word(" \tApple\r") == std::optional<std::string>("apple"));
  CHECK(normalize_word("\xC3\x89"
                       "COLE") == std::optional<std::string>("\xC3\xA9"
                                                             "cole"));
  CHECK(normalize_word("\xC5\xB8") == std::optional<std::string>("\xC3\xBF"));  // U+0178
  CHECK(normalize_word("\xC2\xA0word\xE3\x80\x80") == std::optional<std::string>("word"));
  CHECK(normalize_word("\xE1\xBA\x9E") == std::optional<std::string>("\xC3\x9F"));  // U+1E9E

  CHECK_FALSE(normalize_word("").has_value());
  CHECK_FALSE(normalize_word(" \r").has_value());
  CHECK_FALSE(normalize_word("don't").has_value());
  CHECK_FALSE(normalize_word("a la").has_value());
  CHECK_FALSE(normalize_word("x2").has_value());
  CHECK_FALSE(normalize_word("2\xC3\x97"
                             "3")
                  .has_value());  // U+00D7
}

TEST_CASE("normalize_line_in_place reports line status", "[datasets][words]") {
  const auto status_of = [](std::string line) {
    return normalize_line_in_place(line.data(), line.size()).status;
  };
  CHECK(status_of("word") == LineStatus::word);
  CHECK(status_of("  \r") == LineStatus::empty);
  CHECK(status_of("it's") == LineStatus::rejected);
  CHECK(status_of("\xC3(") == LineStatus::invalid_utf8);             // truncated sequence
  CHECK(status_of("\xC1\x81") == LineStatus::invalid_utf8);          // overlong 'A'
  CHECK(status_of("\xED\xA0\x80") == LineStatus::invalid_utf8);      // surrogate U+D800
  CHECK(status_of("\xF4\x90\x80\x80") == LineStatus::invalid_utf8);  // above U+10FFFF
  CHECK(status_of("abc\x80") == LineStatus::invalid_utf8);           // stray continuation byte
  CHECK(status_of("it's\xFF") == LineStatus::invalid_utf8);          // invalid wins over rejected

  std::string line =
      "  Gr\xC3\x9C\xC3\x9F"
      "E\r";
  const NormalizedLine result = normalize_line_in_place(line.data(), line.size());
  REQUIRE(result.status == LineStatus::word);
  CHECK(line.substr(0, result.length) ==
        "gr\xC3\xBC\xC3\x9F"
        "e");
}

TEST_CASE("word character ids cover the letter range", "[datasets][words]") {
  CHECK(word_character_id(U'a') == 1);
  CHECK(word_character_id(U'z') == 26);
  CHECK(word_character_id(0xDF) == 27);
  CHECK(word_character_id(0xE9) == 37);
  CHECK(word_character_id(0xF6) == 50);
  CHECK(word_character_id(0xF8) == 51);
  CHECK(word_character_id(0x17F) == 186);
  CHECK(kWordVocabularySize == 187);
  CHECK_THROWS_AS(word_character_id(0xF7), deeprnn::invalid_argument);
  CHECK_THROWS_AS(word_character_id(U'A'), deeprnn::invalid_argument);
  CHECK_THROWS_AS(word_character_from_id(kWordPaddingId), deeprnn::invalid_argument);
  CHECK_THROWS_AS(word_character_from_id(187), deeprnn::invalid_argument);

  int letters = 0;
  for (char32_t c = 0; c < 0x200; ++c) {
    if (!is_word_letter(c)) continue;
    ++letters;
    CHECK(word_character_from_id(word_character_id(c)) == c);
  }
  CHECK(letters == 186);
}

TEST_CASE("word lists from a small dictionary", "[datasets][words]") {
  TemporaryDictionary dictionary;
  dictionary.write("american-english",
                   "Apple\r\nbanana\n  Cherry  \n\ndon't\nAPPLE\nchat\n\xC3(bad\nma\xC3\xA7on\n"
                   "olive\ntomato\nzebra");
  dictionary.write("french",
                   "chat\nMa\xC3\xA7on\nfromage\n\xC3\x89"
                   "cole\n\xC3\xA9"
                   "cole\n");

  WordLanguageOptions options;
  options.dictionary_directory = dictionary.path();
  options.languages = {Language::english, Language::french};
  options.train_words_per_language = 3;
  const WordLanguageData data = load_word_language_data(options);

  REQUIRE(data.statistics.size() == 2);
  const LanguageStatistics& english = data.statistics[0];
  CHECK(english.lines == 12);
  CHECK(english.empty_lines == 1);
  CHECK(english.invalid_utf8_lines == 1);
  CHECK(english.rejected_lines == 1);
  CHECK(english.unique_words == 8);
  CHECK(english.exclusive_words == 6);  // "chat" and "maçon" are also French
  CHECK(english.exclusive_words_per_split[0] == 4);
  CHECK(english.exclusive_words_per_split[1] == 1);
  CHECK(english.exclusive_words_per_split[2] == 1);

  const LanguageStatistics& french = data.statistics[1];
  CHECK(french.lines == 5);
  CHECK(french.unique_words == 4);
  CHECK(french.exclusive_words == 2);

  // FNV-1a buckets (hash % 10): apple 7, banana 2, cherry 2, zebra 5, olive 8, tomato 9,
  // fromage 6, école 4. Hash order: apple 0x10BC2ABF < cherry 0x497AE878 < zebra 0x7499948F
  // < banana 0xD9889F50, and école 0x1671D100 < fromage 0x79CABBEC.
  CHECK(words_of_label(data.train, 0) == std::vector<std::string>{"apple", "cherry", "zebra"});
  CHECK(words_of_label(data.train, 1) == std::vector<std::string>{"\xC3\xA9"
                                                                  "cole",
                                                                  "fromage"});
  CHECK(words_of_label(data.validation, 0) == std::vector<std::string>{"olive"});
  CHECK(words_of_label(data.validation, 1).empty());
  CHECK(words_of_label(data.test, 0) == std::vector<std::string>{"tomato"});
  CHECK(words_of_label(data.test, 1).empty());

  REQUIRE(data.train.size() == 5);
  CHECK(data.train[3].char_ids == std::vector<int>{37, 3, 15, 12, 5});
  CHECK(data.train[3].label == 1);
}

TEST_CASE("word language options are checked", "[datasets][words]") {
  WordLanguageOptions none;
  none.languages.clear();
  CHECK_THROWS_AS(load_word_language_data(none), deeprnn::invalid_argument);

  WordLanguageOptions twice;
  twice.languages = {Language::dutch, Language::english, Language::dutch};
  CHECK_THROWS_WITH(load_word_language_data(twice), Catch::Contains("dutch is chosen twice"));

  CHECK(parse_language("portuguese") == Language::portuguese);
  CHECK_THROWS_WITH(parse_language("klingon"), Catch::Contains("unknown language 'klingon'"));
}

TEST_CASE("missing word list names the install command", "[datasets][words]") {
  TemporaryDictionary dictionary;
  dictionary.write("american-english", "apple\n");
  WordLanguageOptions options;
  options.dictionary_directory = dictionary.path();
  options.languages = {Language::english, Language::polish};

  CHECK_THROWS_AS(load_word_language_data(options), dataset_not_found);
  CHECK_THROWS_WITH(load_word_language_data(options),
                    Catch::Contains((dictionary.path() / "polish").string() + " (wpolish)") &&
                        Catch::Contains("apt-get install -y --no-install-recommends wamerican "
                                        "wfrench wngerman wspanish witalian wportuguese wdutch "
                                        "wpolish"));
}

// One test case loads the eight lists once (about 1.5 s of CPU time in a Release build), because
// ctest runs every test case in a process of its own.
TEST_CASE("eight Debian lists give golden data", "[datasets][words][debian]") {
  const WordLanguageData data = load_word_language_data();

  REQUIRE(data.languages.size() == 8);
  REQUIRE(data.statistics.size() == 8);
  const std::vector<std::size_t> expected_lines{104334, 346205, 356010, 86016,
                                                116758, 431384, 413288, 4327699};
  const std::vector<std::size_t> expected_exclusive{51531, 319613, 340698, 65139,
                                                    98147, 388526, 365217, 4258133};
  for (std::size_t label = 0; label < 8; ++label) {
    const LanguageStatistics& stats = data.statistics[label];
    INFO("language " << language_name(stats.language));
    CHECK(stats.language == kWordLists[label].language);
    CHECK(stats.lines == expected_lines[label]);
    CHECK(stats.invalid_utf8_lines == 0);
    CHECK(stats.exclusive_words == expected_exclusive[label]);
  }

  CHECK(data.train.size() == 8 * 5000);
  CHECK(data.validation.size() == 8 * 1000);
  CHECK(data.test.size() == 8 * 1000);
  for (int label = 0; label < 8; ++label) {
    INFO("label " << label);
    CHECK(words_of_label(data.train, label).size() == 5000);
    CHECK(words_of_label(data.validation, label).size() == 1000);
    CHECK(words_of_label(data.test, label).size() == 1000);
  }

  const auto first_three = [&](const std::vector<WordSample>& samples, int label) {
    std::vector<std::string> words = words_of_label(samples, label);
    words.resize(3);
    return words;
  };
  using Words = std::vector<std::string>;
  CHECK(first_three(data.train, 0) == Words{"eying", "hostelry", "tearfully"});
  CHECK(first_three(data.train, 1) == Words{"d\xC3\xA9s\xC3\xA9nerviez",
                                            "incr\xC3\xA9ment\xC3\xA8rent",
                                            "acc\xC3\xA9l\xC3\xA9rasse"});
  CHECK(first_three(data.train, 2) == Words{"grausamerem", "gel\xC3\xA4ufigste", "zugegangenes"});
  CHECK(first_three(data.train, 3) == Words{"silba", "pedrej\xC3\xB3n", "broceo"});
  CHECK(first_three(data.train, 6) == Words{"plaatsgrijpen", "geschuurd", "anaforen"});
  CHECK(first_three(data.validation, 0) == Words{"whetted", "kieth", "eyelashes"});
  CHECK(first_three(data.test, 7) ==
        Words{"dostawk\xC4\x99", "dialektyczno\xC5\x9B\xC4\x87", "hydronalu"});

  std::set<std::string> seen;
  std::set<int> letters;
  std::size_t max_length = 0;
  for (const Split split : {Split::train, Split::validation, Split::test}) {
    const std::vector<WordSample>& samples = data.split(split);
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const WordSample& sample = samples[i];
      const std::uint32_t hash = fnv1a32(sample.word);
      const std::uint32_t bucket = hash % 10;
      const bool in_split = split == Split::train        ? bucket < 8
                            : split == Split::validation ? bucket == 8
                                                         : bucket == 9;
      REQUIRE(in_split);
      REQUIRE(seen.insert(sample.word).second);  // no word in two splits or two languages
      REQUIRE(sample.char_ids == word_character_ids(sample.word));
      letters.insert(sample.char_ids.begin(), sample.char_ids.end());
      max_length = std::max(max_length, sample.char_ids.size());

      // Labels ascend, and within a label the words ascend by (hash, bytes).
      if (i == 0) continue;
      const WordSample& previous = samples[i - 1];
      REQUIRE(previous.label <= sample.label);
      if (previous.label == sample.label) {
        const std::uint32_t previous_hash = fnv1a32(previous.word);
        REQUIRE((previous_hash < hash || (previous_hash == hash && previous.word < sample.word)));
      }
    }
  }
  CHECK(letters.size() == 58);
  CHECK(max_length == 34);
}

TEST_CASE("two chosen languages share fewer words", "[datasets][words][debian]") {
  WordLanguageOptions options;
  options.languages = {Language::english, Language::french};
  const WordLanguageData data = load_word_language_data(options);

  REQUIRE(data.statistics.size() == 2);
  CHECK(data.statistics[0].exclusive_words == 65383);
  CHECK(data.statistics[1].exclusive_words == 333506);
  // "megapixel" is also Dutch, so the eight-way split drops it.
  const std::vector<std::string> english = words_of_label(data.train, 0);
  REQUIRE(english.size() == 5000);
  CHECK(english[0] == "eying");
  CHECK(english[1] == "megapixel");
  CHECK(english[2] == "hostelry");
}
