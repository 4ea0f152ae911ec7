// Strict UTF-8 decoding and encoding for the example data loaders.
#ifndef DEEPRNN_EXAMPLES_COMMON_UTF8_HPP
#define DEEPRNN_EXAMPLES_COMMON_UTF8_HPP

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace deeprnn::examples {

// Decodes the code point that starts at bytes[position] and advances `position` past it.
// Follows RFC 3629: rejects stray continuation bytes, truncated sequences, overlong forms,
// surrogates (U+D800-U+DFFF) and values above U+10FFFF. On an invalid sequence it returns
// false and advances `position` by one byte, so a caller can keep scanning.
inline bool next_code_point(std::string_view bytes, std::size_t& position, char32_t& code_point) {
  const auto byte_at = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = byte_at(position);

  if (lead < 0x80) {
    code_point = lead;
    ++position;
    return true;
  }

  std::size_t continuation_count = 0;
  char32_t minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_count = 1;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_count = 2;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_count = 3;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    ++position;  // continuation byte, 0xC0/0xC1 (always overlong) or 0xF5-0xFF
    return false;
  }

  if (bytes.size() - position <= continuation_count) {
    ++position;
    return false;
  }
  for (std::size_t i = 1; i <= continuation_count; ++i) {
    const unsigned char next = byte_at(position + i);
    if ((next & 0xC0) != 0x80) {
      ++position;
      return false;
    }
    code_point = (code_point << 6) | (next & 0x3F);
  }

  const bool overlong = code_point < minimum;
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (overlong || surrogate || code_point > 0x10FFFF) {
    ++position;
    return false;
  }
  position += continuation_count + 1;
  return true;
}

// Returns the "U+XXXX" notation of a code point, for messages.
inline std::string code_point_name(char32_t code_point) {
  char text[16];
  std::snprintf(text, sizeof text, "U+%04X", static_cast<unsigned>(code_point));
  return text;
}

// Appends the UTF-8 encoding of a valid code point (not a surrogate, at most U+10FFFF).
inline void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_UTF8_HPP
