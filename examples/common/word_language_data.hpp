// Word -> language data set built from eight Debian word lists (/usr/share/dict).
//
// Preprocessing of each list, which gives the same words as Python 3.11's
// `line.strip().lower()` followed by the letter filter below:
//   1. Split the file at '\n'. Lines with invalid UTF-8 are skipped and counted (the Debian lists
//      contain none). Strip leading and trailing whitespace (the code points Python's
//      str.isspace() accepts, which include ' ', '\t' and '\r') and skip empty lines.
//   2. Lowercase each code point with lowercase_code_point().
//   3. Keep a word only if every code point is a word letter: a-z or U+00DF-U+017F except U+00F7
//      (this drops apostrophes, hyphens, dots, digits and words with inner spaces).
//   4. De-duplicate within a language, then drop every word that occurs in more than one of the
//      chosen languages.
//   5. h = FNV-1a-32 of the word's UTF-8 bytes; h % 10 in 0-7 is train, 8 validation, 9 test.
//   6. Sort each (language, split) by (h, word bytes) and keep its first N words.
#ifndef DEEPRNN_EXAMPLES_COMMON_WORD_LANGUAGE_DATA_HPP
#define DEEPRNN_EXAMPLES_COMMON_WORD_LANGUAGE_DATA_HPP

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataset_files.hpp"
#include "utf8.hpp"

namespace deeprnn::examples {

enum class Language { english, french, german, spanish, italian, portuguese, dutch, polish };

// One Debian word list: its language, file name under /usr/share/dict and Debian package.
struct WordListInfo {
  Language language;
  std::string_view name;
  std::string_view file_name;
  std::string_view debian_package;
};

inline constexpr std::array<WordListInfo, 8> kWordLists{{
    {Language::english, "english", "american-english", "wamerican"},
    {Language::french, "french", "french", "wfrench"},
    {Language::german, "german", "ngerman", "wngerman"},
    {Language::spanish, "spanish", "spanish", "wspanish"},
    {Language::italian, "italian", "italian", "witalian"},
    {Language::portuguese, "portuguese", "portuguese", "wportuguese"},
    {Language::dutch, "dutch", "dutch", "wdutch"},
    {Language::polish, "polish", "polish", "wpolish"},
}};

inline constexpr std::string_view kWordListInstallCommand =
    "apt-get install -y --no-install-recommends wamerican wfrench wngerman wspanish witalian "
    "wportuguese wdutch wpolish";

inline const WordListInfo& word_list_info(Language language) {
  return kWordLists[static_cast<std::size_t>(language)];
}

inline std::string_view language_name(Language language) { return word_list_info(language).name; }

// Parses a language name such as "german"; throws deeprnn::invalid_argument for unknown names.
inline Language parse_language(std::string_view name) {
  std::string known;
  for (const WordListInfo& info : kWordLists) {
    if (info.name == name) return info.language;
    known += (known.empty() ? "" : ", ") + std::string(info.name);
  }
  throw invalid_argument("deeprnn examples: unknown language '" + std::string(name) +
                         "', expected one of " + known);
}

// 32-bit FNV-1a: h = 0x811C9DC5, then for each byte h = (h xor byte) * 0x01000193 mod 2^32.
inline std::uint32_t fnv1a32(std::string_view bytes) {
  std::uint32_t hash = 0x811C9DC5u;
  for (const char byte : bytes) {
    hash ^= static_cast<unsigned char>(byte);
    hash *= 0x01000193u;
  }
  return hash;
}

// Lowercases one code point, equal to Python 3.11's str.lower() for every code point below
// U+0180 except U+0130, and for the three code points above it that lower to word letters:
//   A-Z and U+00C0-U+00DE except U+00D7: add 0x20
//   U+0100-U+0137 and U+014A-U+0177: even code points add 1
//   U+0139-U+0148 and U+0179-U+017E: odd code points add 1
//   U+0178 -> U+00FF, U+1E9E -> U+00DF, U+212A (Kelvin sign) -> 'k', U+212B (Angstrom) -> U+00E5
// U+0130 is returned unchanged: its lowercase is two code points ("i" + U+0307), which the letter
// filter rejects, so normalize_word() drops words that contain it.
inline char32_t lowercase_code_point(char32_t c) {
  if (c == 0x130) return c;
  if (c >= U'A' && c <= U'Z') return c + 0x20;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c % 2 == 0 ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 == 1 ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  if (c == 0x1E9E) return 0xDF;
  if (c == 0x212A) return U'k';
  if (c == 0x212B) return 0xE5;
  return c;
}

// Word letters: a-z and U+00DF-U+017F except U+00F7 (the division sign).
inline bool is_word_letter(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= 0xDF && c <= 0x17F && c != 0xF7);
}

// Whitespace as Python's str.isspace() defines it, which str.strip() removes from both ends.
inline bool is_python_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Character ids: 0 is padding and id 1 + i is the i-th word letter in code point order, so a-z
// are 1-26, U+00DF-U+00F6 are 27-50 and U+00F8-U+017F are 51-186. The table is fixed, so ids do
// not depend on the languages or sizes chosen. Ids of uppercase code points in U+0100-U+017F
// exist but never occur, because normalization lowercases them first.
inline constexpr int kWordPaddingId = 0;
inline constexpr int kWordVocabularySize = 187;

// Returns the id of a word letter; throws deeprnn::invalid_argument for other code points.
inline int word_character_id(char32_t c) {
  if (c >= U'a' && c <= U'z') return static_cast<int>(c - U'a') + 1;
  if (c >= 0xDF && c <= 0xF6) return static_cast<int>(c - 0xDF) + 27;
  if (c >= 0xF8 && c <= 0x17F) return static_cast<int>(c - 0xF8) + 51;
  throw invalid_argument("deeprnn examples: code point " + code_point_name(c) +
                         " is not a word letter; expected a-z or U+00DF-U+017F except U+00F7");
}

// Returns the code point of a character id in 1..186; throws for padding and ids out of range.
inline char32_t word_character_from_id(int id) {
  if (id >= 1 && id <= 26) return U'a' + static_cast<char32_t>(id - 1);
  if (id >= 27 && id <= 50) return 0xDF + static_cast<char32_t>(id - 27);
  if (id >= 51 && id <= 186) return 0xF8 + static_cast<char32_t>(id - 51);
  throw invalid_argument("deeprnn examples: character id " + std::to_string(id) +
                         " has no letter; expected 1 to 186 (0 is padding)");
}

// Outcome of preprocessing steps 1-3 for one line.
enum class LineStatus { word, empty, invalid_utf8, rejected };

struct NormalizedLine {
  LineStatus status;
  std::size_t length;  // bytes of the lowercased word when status == word, else 0
};

// Applies preprocessing steps 1-3 to one line and writes the lowercased UTF-8 word over the
// start of `data`. This works in place because no code point gets a longer UTF-8 encoding when
// lowercased, so the write position never passes the read position.
inline NormalizedLine normalize_line_in_place(char* data, std::size_t size) {
  const std::string_view bytes(data, size);
  std::size_t read = 0;
  std::size_t written = 0;
  bool valid_utf8 = true;
  bool all_letters = true;
  bool seen_text = false;  // a code point other than whitespace was read
  bool space_after_text = false;

  while (read < size) {
    char32_t code_point = 0;
    if (!next_code_point(bytes, read, code_point)) {
      valid_utf8 = false;
      continue;
    }
    if (is_python_whitespace(code_point)) {
      space_after_text = seen_text;
      continue;
    }

    // Whitespace followed by more text is inside the word, and it is not a letter.
    if (space_after_text) all_letters = false;
    seen_text = true;

    const char32_t lower = lowercase_code_point(code_point);
    if (code_point == 0x130 || !is_word_letter(lower)) all_letters = false;
    if (!all_letters || !valid_utf8) continue;  // keep scanning to count invalid UTF-8

    // Word letters are below U+0180, so they take one or two bytes.
    if (lower < 0x80) {
      data[written++] = static_cast<char>(lower);
    } else {
      data[written++] = static_cast<char>(0xC0 | (lower >> 6));
      data[written++] = static_cast<char>(0x80 | (lower & 0x3F));
    }
  }

  if (!valid_utf8) return {LineStatus::invalid_utf8, 0};
  if (!seen_text) return {LineStatus::empty, 0};
  if (!all_letters) return {LineStatus::rejected, 0};
  return {LineStatus::word, written};
}

// Applies preprocessing steps 1-3 to one word and returns the lowercased word. Returns nothing
// for empty text, invalid UTF-8, or text with a character that is not a word letter.
inline std::optional<std::string> normalize_word(std::string_view text) {
  std::string word(text);
  const NormalizedLine line = normalize_line_in_place(word.data(), word.size());
  if (line.status != LineStatus::word) return std::nullopt;
  word.resize(line.length);
  return word;
}

// Returns the character ids of a normalized word (see normalize_word).
inline std::vector<int> word_character_ids(std::string_view word) {
  std::vector<int> ids;
  ids.reserve(word.size());
  std::size_t position = 0;
  while (position < word.size()) {
    char32_t code_point = 0;
    if (!next_code_point(word, position, code_point)) {
      throw invalid_argument("deeprnn examples: word '" + std::string(word) +
                             "' is not valid UTF-8; pass it through normalize_word first");
    }
    ids.push_back(word_character_id(code_point));
  }
  return ids;
}

struct WordSample {
  std::vector<int> char_ids;  // word_character_id of each code point, no padding
  int label;                  // index into WordLanguageData::languages
  std::string word;           // lowercased UTF-8
};

// Counts for one word list, taken before the per-split limits are applied.
struct LanguageStatistics {
  Language language;
  std::filesystem::path file;
  std::size_t lines = 0;               // '\n'-separated lines, plus a final unterminated one
  std::size_t empty_lines = 0;         // nothing left after stripping whitespace
  std::size_t invalid_utf8_lines = 0;  // skipped
  std::size_t rejected_lines = 0;      // contain a character that is not a word letter
  std::size_t unique_words = 0;        // after de-duplication within the language
  std::size_t exclusive_words = 0;     // words found in no other chosen language
  std::array<std::size_t, 3> exclusive_words_per_split{};  // indexed by Split
};

struct WordLanguageOptions {
  std::filesystem::path dictionary_directory = "/usr/share/dict";
  std::vector<Language> languages{Language::english, Language::french,  Language::german,
                                  Language::spanish, Language::italian, Language::portuguese,
                                  Language::dutch,   Language::polish};
  // Upper limits per language: a split keeps fewer words when its bucket contains fewer.
  std::size_t train_words_per_language = 5000;
  std::size_t validation_words_per_language = 1000;
  std::size_t test_words_per_language = 1000;
};

struct WordLanguageData {
  std::vector<Language> languages;  // label i is languages[i]
  // Each split lists the languages in label order, and each language's words by (hash, bytes).
  std::vector<WordSample> train;
  std::vector<WordSample> validation;
  std::vector<WordSample> test;
  std::vector<LanguageStatistics> statistics;  // in label order

  const std::vector<WordSample>& split(Split which) const {
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

// A normalized word stored inside its word list's file buffer.
struct WordRecord {
  std::uint32_t hash;
  std::uint32_t offset;
  std::uint32_t length;
  bool shared;  // also found in another chosen language
};

struct LoadedWordList {
  std::string bytes;  // the file, with each kept word lowercased in place at its line start
  std::vector<WordRecord> words;
  LanguageStatistics statistics;

  std::string_view word(const WordRecord& record) const {
    return std::string_view(bytes).substr(record.offset, record.length);
  }
};

// Orders words by (hash, UTF-8 bytes); std::string_view compares bytes as unsigned char.
inline int compare_words(const LoadedWordList& a_list, const WordRecord& a,
                         const LoadedWordList& b_list, const WordRecord& b) {
  if (a.hash != b.hash) return a.hash < b.hash ? -1 : 1;
  return a_list.word(a).compare(b_list.word(b));
}

// Reads one word list and applies preprocessing steps 1-3, then sorts and de-duplicates it.
inline LoadedWordList load_word_list(const std::filesystem::path& file, Language language) {
  LoadedWordList list;
  list.statistics.language = language;
  list.statistics.file = file;
  list.bytes = read_file_bytes(file);
  if (list.bytes.size() > UINT32_MAX) {
    throw invalid_argument("deeprnn examples: word list " + file.string() + " has " +
                           std::to_string(list.bytes.size()) +
                           " bytes, more than the 4 GiB a word offset can address");
  }

  LanguageStatistics& stats = list.statistics;
  char* const data = list.bytes.data();
  const std::size_t size = list.bytes.size();
  std::size_t line_begin = 0;
  while (line_begin < size) {
    const void* newline = std::memchr(data + line_begin, '\n', size - line_begin);
    const std::size_t line_end =
        newline != nullptr ? static_cast<std::size_t>(static_cast<const char*>(newline) - data)
                           : size;

    ++stats.lines;
    const NormalizedLine line = normalize_line_in_place(data + line_begin, line_end - line_begin);
    switch (line.status) {
      case LineStatus::word:
        list.words.push_back({fnv1a32(std::string_view(data + line_begin, line.length)),
                              static_cast<std::uint32_t>(line_begin),
                              static_cast<std::uint32_t>(line.length), false});
        break;
      case LineStatus::empty:
        ++stats.empty_lines;
        break;
      case LineStatus::invalid_utf8:
        ++stats.invalid_utf8_lines;
        break;
      case LineStatus::rejected:
        ++stats.rejected_lines;
        break;
    }
    line_begin = line_end + 1;
  }

  const auto less = [&list](const WordRecord& a, const WordRecord& b) {
    return compare_words(list, a, list, b) < 0;
  };
  const auto equal = [&list](const WordRecord& a, const WordRecord& b) {
    return compare_words(list, a, list, b) == 0;
  };
  std::sort(list.words.begin(), list.words.end(), less);
  list.words.erase(std::unique(list.words.begin(), list.words.end(), equal), list.words.end());
  stats.unique_words = list.words.size();
  return list;
}

// Marks every word that occurs in more than one list, by a k-way merge of the sorted lists.
inline void mark_shared_words(std::vector<LoadedWordList>& lists) {
  std::vector<std::size_t> cursor(lists.size(), 0);
  std::vector<std::size_t> holders;
  holders.reserve(lists.size());

  const auto head = [&](std::size_t k) -> const WordRecord& { return lists[k].words[cursor[k]]; };
  const auto has_head = [&](std::size_t k) { return cursor[k] < lists[k].words.size(); };

  while (true) {
    std::optional<std::size_t> smallest;
    for (std::size_t k = 0; k < lists.size(); ++k) {
      if (!has_head(k)) continue;
      if (!smallest || compare_words(lists[k], head(k), lists[*smallest], head(*smallest)) < 0) {
        smallest = k;
      }
    }
    if (!smallest) break;

    // Comparing the smallest head with itself would read its bytes at a random place in a large
    // file buffer, a cache miss that dominated the load time of the Polish list.
    holders.assign(1, *smallest);
    for (std::size_t k = 0; k < lists.size(); ++k) {
      if (k != *smallest && has_head(k) &&
          compare_words(lists[k], head(k), lists[*smallest], head(*smallest)) == 0) {
        holders.push_back(k);
      }
    }
    for (const std::size_t k : holders) {
      lists[k].words[cursor[k]].shared = holders.size() > 1;
      ++cursor[k];
    }
  }
}

inline Split split_of_hash(std::uint32_t hash) {
  const std::uint32_t bucket = hash % 10;
  if (bucket == 8) return Split::validation;
  if (bucket == 9) return Split::test;
  return Split::train;
}

inline void check_word_language_options(const WordLanguageOptions& options) {
  if (options.languages.empty()) {
    throw invalid_argument(
        "deeprnn examples: no language chosen; choose at least one of the "
        "eight word lists");
  }
  for (std::size_t i = 0; i < options.languages.size(); ++i) {
    const auto first = options.languages.begin();
    if (std::find(first, first + static_cast<std::ptrdiff_t>(i), options.languages[i]) !=
        first + static_cast<std::ptrdiff_t>(i)) {
      throw invalid_argument("deeprnn examples: language " +
                             std::string(language_name(options.languages[i])) +
                             " is chosen twice; list each language once");
    }
  }

  std::string missing;
  for (const Language language : options.languages) {
    const WordListInfo& info = word_list_info(language);
    const auto file = options.dictionary_directory / info.file_name;
    if (!std::filesystem::exists(file)) {
      missing += (missing.empty() ? "" : ", ") + file.string() + " (" +
                 std::string(info.debian_package) + ")";
    }
  }
  if (!missing.empty()) {
    throw_dataset_not_found("word lists not found: " + missing +
                            ". Install them with: " + std::string(kWordListInstallCommand));
  }
}

}  // namespace detail

// Loads the chosen word lists and builds the train, validation and test splits described at
// the top of this file. Throws dataset_not_found, with the apt-get command, for missing lists.
inline WordLanguageData load_word_language_data(const WordLanguageOptions& options = {}) {
  detail::check_word_language_options(options);

  std::vector<detail::LoadedWordList> lists;
  lists.reserve(options.languages.size());
  for (const Language language : options.languages) {
    const auto file = options.dictionary_directory / word_list_info(language).file_name;
    lists.push_back(detail::load_word_list(file, language));
  }
  detail::mark_shared_words(lists);

  WordLanguageData data;
  data.languages = options.languages;
  const std::array<std::size_t, 3> limits{options.train_words_per_language,
                                          options.validation_words_per_language,
                                          options.test_words_per_language};
  const std::array<std::vector<WordSample>*, 3> splits{&data.train, &data.validation, &data.test};

  for (std::size_t label = 0; label < lists.size(); ++label) {
    detail::LoadedWordList& list = lists[label];
    LanguageStatistics& stats = list.statistics;

    // The words are already sorted by (hash, bytes), so each split takes its first words.
    for (const detail::WordRecord& record : list.words) {
      if (record.shared) continue;
      ++stats.exclusive_words;
      const auto split = static_cast<std::size_t>(detail::split_of_hash(record.hash));
      if (stats.exclusive_words_per_split[split]++ >= limits[split]) continue;

      const std::string_view word = list.word(record);
      splits[split]->push_back(
          {word_character_ids(word), static_cast<int>(label), std::string(word)});
    }
    data.statistics.push_back(std::move(stats));
    list.bytes = std::string();  // the samples own copies of their words
  }
  return data;
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_WORD_LANGUAGE_DATA_HPP
