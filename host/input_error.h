// The one error the host tools raise for bad input (a file, an option, a model's settings): the
// command line prints its message and exits with status 2. Messages name what is wrong and where,
// and quote the offending text through excerpt(), so a 10 MB line never becomes a 10 MB message.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace edgelstm::host {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// At most kExcerptBytes of `text`, single-quoted, with "..." and the full length when cut, and
// bytes that a terminal would not show as themselves (control bytes, a byte-order mark, other
// non-ASCII bytes) written as \xNN, so what is quoted is what the file holds.
inline constexpr std::size_t kExcerptBytes = 80;
std::string excerpt(std::string_view text, std::size_t max_bytes = kExcerptBytes);

// `text` is 1 to max_digits decimal digits and nothing else (no sign, space or suffix: strtol and
// stoll alone would take " 2", "+2" and "2 "); a bound of 18 digits or fewer keeps the value within
// a long long. Signed values: parse_integer (host/settings.h).
bool is_decimal(std::string_view text, std::size_t max_digits);

}  // namespace edgelstm::host
