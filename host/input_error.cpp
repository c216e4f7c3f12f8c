#include "host/input_error.h"

#include <cstdio>

namespace edgelstm::host {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[at] (2 to 4 bytes), or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(at);
  const std::size_t length = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                             : lead >= 0xF0 && lead <= 0xF4                                 ? 4
                                                                                            : 0;
  if (length == 0 || at + length > text.size()) return 0;
  for (std::size_t k = at + 1; k < at + length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms and surrogates (the lead alone does not exclude them).
  if ((lead == 0xE0 && byte(at + 1) < 0xA0) || (lead == 0xED && byte(at + 1) > 0x9F) ||
      (lead == 0xF0 && byte(at + 1) < 0x90) || (lead == 0xF4 && byte(at + 1) > 0x8F)) {
    return 0;
  }
  return length;
}

}  // namespace

bool is_decimal(std::string_view text, std::size_t max_digits) {
  return !text.empty() && text.size() <= max_digits && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  std::string shown = "'";
  std::size_t k = 0;
  while (k < text.size() && shown.size() <= max_bytes) {
    const auto byte = static_cast<unsigned char>(text[k]);
    const std::size_t sequence = byte >= 0x80 ? utf8_sequence(text, k) : 0;
    const bool byte_order_mark = text.substr(k, 3) == "\xEF\xBB\xBF";
    if (byte >= 0x20 && byte < 0x7F) {
      shown += static_cast<char>(byte);
      ++k;
    } else if (sequence != 0 && !byte_order_mark) {
      shown.append(text.substr(k, sequence));
      k += sequence;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      shown += escaped;
      ++k;
    }
  }
  shown += "'";
  if (k < text.size()) shown.insert(shown.size() - 1, "...") += " (" + std::to_string(text.size()) + " bytes)";
  return shown;
}

}  // namespace edgelstm::host
