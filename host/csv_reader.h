// Reading time series from CSV files, host side. Every problem is reported as an InputError whose
// message names the file, the line, the column and what was expected, so a bad file never turns
// into a silently wrong result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/input_error.h"

namespace edgelstm::host {

// What the reader takes: a regular file (not a FIFO or device) of at most kMaxCsvBytes, lines of at
// most kMaxCsvLineBytes, numbers of magnitude at most kMaxCsvMagnitude (beyond it a reading is
// an error in the file, and squares and float32 copies of it would overflow). The command line's
// --help states them (csv_limits_text).
inline constexpr std::size_t kMaxCsvBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxCsvLineBytes = std::size_t{64} << 10;
inline constexpr double kMaxCsvMagnitude = 1e15;
std::string csv_limits_text();

// Columns chosen by name from a CSV with a header line.
struct Table {
  std::string path;
  std::vector<std::string> names;              // the requested columns, in request order
  std::vector<std::vector<double>> numbers;    // one vector per numeric column (empty for text)
  std::vector<std::vector<std::string>> text;  // one vector per text column (empty for numeric)
  std::vector<std::int64_t> times;             // seconds since 1970 (UTC) of the timestamp column
  std::vector<int> lines;                      // the file line of each row (1 = header)
  std::size_t rows() const { return lines.size(); }
};

struct ColumnRequest {
  std::string name;
  bool numeric = true;  // false: kept as text (class labels)
};

// Reads `path`: comma-separated, one header line, '\n' or "\r\n" line ends, no quoting, an
// optional UTF-8 byte-order mark before the header (skipped). The
// timestamp column (ISO-8601 "YYYY-MM-DDTHH:MM[:SS]" or "YYYY/MM/DD" / "YYYY-MM-DD") must be
// strictly increasing; with `require_regular`, every step must equal the first one (no gaps, no
// duplicates). Numeric cells must be finite numbers within +-kMaxCsvMagnitude. Throws InputError on
// any violation (quoting at most kExcerptBytes of the text), and on an empty file, a missing or
// repeated column, a ragged row, a line or a file beyond the limits above.
Table read_table(const std::string& path, const std::string& timestamp_column,
                 const std::vector<ColumnRequest>& columns, bool require_regular);

// The same, parsing text that came from `path` (for the fuzzer and tests).
Table parse_table(std::string_view content, const std::string& path, const std::string& timestamp_column,
                  const std::vector<ColumnRequest>& columns, bool require_regular);

// Seconds since 1970-01-01T00:00:00 (UTC, no time zone in the text) of an ISO-8601 timestamp;
// false when `text` is not one.
bool parse_timestamp(std::string_view text, std::int64_t* seconds);

}  // namespace edgelstm::host
