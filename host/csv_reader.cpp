#include "host/csv_reader.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "host/input_file.h"

namespace edgelstm::host {
namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view text, std::size_t at, std::size_t count, int* value) {
  if (at + count > text.size()) return false;
  int v = 0;
  for (std::size_t k = at; k < at + count; ++k) {
    if (text[k] < '0' || text[k] > '9') return false;
    v = v * 10 + (text[k] - '0');
  }
  *value = v;
  return true;
}

std::string quoted(std::string_view text) { return excerpt(text, 40); }

[[noreturn]] void fail(const std::string& path, int line, const std::string& column, const std::string& what) {
  std::ostringstream message;
  message << path << ":" << line;
  if (!column.empty()) message << ": column '" << column << "'";
  message << ": " << what;
  throw InputError(message.str());
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

}  // namespace

bool parse_timestamp(std::string_view text, std::int64_t* seconds) {
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, &year) || text.size() < 10 || (text[4] != '-' && text[4] != '/') || text[7] != text[4] ||
      !digits(text, 5, 2, &month) || !digits(text, 8, 2, &day)) {
    return false;
  }
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || !digits(text, 11, 2, &hour) || text.size() < 16 || text[13] != ':' ||
        !digits(text, 14, 2, &minute)) {
      return false;
    }
    if (text.size() > 16 && (text.size() != 19 || text[16] != ':' || !digits(text, 17, 2, &second))) return false;
  }
  static constexpr int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap) ||
      hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  *seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
             hour * 3600 + minute * 60 + second;
  return true;
}

std::string csv_limits_text() {
  return "a regular file of at most " + byte_count_text(kMaxCsvBytes) + ", lines of at most " +
         byte_count_text(kMaxCsvLineBytes) + ", numbers within +-1e15";
}

Table parse_table(std::string_view content, const std::string& path, const std::string& timestamp_column,
                  const std::vector<ColumnRequest>& columns, bool require_regular) {
  Table table;
  table.path = path;
  if (content.size() > kMaxCsvBytes) {
    fail(path, 1, "", "the file holds " + std::to_string(content.size()) + " bytes; at most " +
                          byte_count_text(kMaxCsvBytes) + " are read");
  }
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);  // a UTF-8 byte-order mark
  // Lines one at a time (nothing per line is kept but the row's values), each checked against the
  // length limit as it is cut: a one-line 10 MB file stops at its first line.
  std::size_t next = 0;
  int line_number = 0;
  const auto next_line = [&](std::string_view* line) {
    if (next >= content.size()) return false;
    std::size_t end = content.find('\n', next);
    if (end == std::string_view::npos) end = content.size();
    *line = content.substr(next, end - next);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    next = end + 1;
    ++line_number;
    if (line->size() > kMaxCsvLineBytes) {
      fail(path, line_number, "",
           "the line holds " + std::to_string(line->size()) + " bytes; lines may hold at most " +
               byte_count_text(kMaxCsvLineBytes) + " (it starts " + excerpt(*line) + ")");
    }
    return true;
  };
  std::string_view header_line;
  if (!next_line(&header_line) || (header_line.empty() && content.find_first_not_of("\r\n") == std::string_view::npos)) {
    fail(path, 1, "", "the file is empty; expected a header line");
  }
  const std::vector<std::string_view> header = split(header_line);
  const auto find = [&](const std::string& name) -> std::size_t {
    std::size_t found = header.size();
    for (std::size_t k = 0; k < header.size(); ++k) {
      if (header[k] != name) continue;
      if (found != header.size()) {
        fail(path, 1, name, "appears twice in the header (cells " + std::to_string(found + 1) + " and " +
                                std::to_string(k + 1) + ")");
      }
      found = k;
    }
    if (found == header.size()) fail(path, 1, name, "missing from the header " + excerpt(header_line));
    return found;
  };
  const std::size_t time_index = find(timestamp_column);
  std::vector<std::size_t> indices;
  for (const ColumnRequest& request : columns) {
    indices.push_back(find(request.name));
    table.names.push_back(request.name);
  }
  table.numbers.resize(columns.size());
  table.text.resize(columns.size());
  std::int64_t step = 0;
  int first_blank = 0;  // the first blank line seen, an error when a row follows it
  std::string_view line;
  while (next_line(&line)) {
    if (line.empty()) {
      if (first_blank == 0) first_blank = line_number;
      continue;
    }
    if (first_blank != 0) fail(path, first_blank, "", "empty line inside the data");
    const std::vector<std::string_view> cells = split(line);
    if (cells.size() != header.size()) {
      fail(path, line_number, "", "expected " + std::to_string(header.size()) + " comma-separated cells as in the header, found " +
                                      std::to_string(cells.size()));
    }
    std::int64_t seconds = 0;
    if (!parse_timestamp(cells[time_index], &seconds)) {
      fail(path, line_number, timestamp_column,
           "expected a timestamp YYYY-MM-DD[THH:MM[:SS]] or YYYY/MM/DD, found " + quoted(cells[time_index]));
    }
    if (!table.times.empty()) {
      const std::int64_t previous = table.times.back();
      if (seconds == previous) fail(path, line_number, timestamp_column, "duplicate timestamp " + quoted(cells[time_index]));
      if (seconds < previous) {
        fail(path, line_number, timestamp_column,
             "timestamps must increase; " + quoted(cells[time_index]) + " comes before the previous row's");
      }
      if (table.times.size() == 1) step = seconds - previous;
      if (require_regular && seconds - previous != step) {
        fail(path, line_number, timestamp_column,
             "gap in a regular series: expected a step of " + std::to_string(step) + " s, found " +
                 std::to_string(seconds - previous) + " s (at " + quoted(cells[time_index]) + ")");
      }
    }
    table.times.push_back(seconds);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string_view cell = cells[indices[c]];
      if (!columns[c].numeric) {
        if (cell.empty()) fail(path, line_number, columns[c].name, "expected a label, found an empty cell");
        table.text[c].emplace_back(cell);
        continue;
      }
      double value = 0;
      const char* begin = cell.data();
      const char* end = cell.data() + cell.size();
      const auto parsed = std::from_chars(begin, end, value);
      if (cell.empty() || parsed.ec != std::errc() || parsed.ptr != end) {
        fail(path, line_number, columns[c].name, "expected a number, found " + quoted(cell));
      }
      if (!std::isfinite(value)) fail(path, line_number, columns[c].name, "expected a finite number, found " + quoted(cell));
      if (std::fabs(value) > kMaxCsvMagnitude) {
        fail(path, line_number, columns[c].name, "expected a number within +-1e15, found " + quoted(cell));
      }
      table.numbers[c].push_back(value);
    }
    table.lines.push_back(line_number);
  }
  if (table.rows() == 0) fail(path, 2, "", "no data rows after the header");
  return table;
}

Table read_table(const std::string& path, const std::string& timestamp_column, const std::vector<ColumnRequest>& columns,
                 bool require_regular) {
  return parse_table(read_input_file(path, kMaxCsvBytes, "data file"), path, timestamp_column, columns, require_regular);
}

}  // namespace edgelstm::host
