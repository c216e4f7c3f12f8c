#include "host/splits.h"

#include <ctime>

#include "host/csv_reader.h"
#include "host/settings_text.h"

namespace edgelstm::host {

Split chronological_split(const Series& series, const FeatureConfig& features, std::size_t validation_steps,
                          std::size_t test_steps) {
  const std::size_t first = features.first_target();
  const std::size_t n = series.values.size();
  if (n < first + test_steps + validation_steps + 1) {
    throw InputError("the series has " + std::to_string(n) + " readings: too few for a window of " +
                     std::to_string(features.window) + ", lags up to " + std::to_string(features.max_lag()) +
                     (features.base == Base::kNone ? "" : ", two weeks to start the Holt-Winters base") +
                     " and validation + test spans of " + std::to_string(validation_steps + test_steps));
  }
  return split_indices(first, n, validation_steps, test_steps);
}

Split split_indices(std::size_t first, std::size_t n, std::size_t validation_count, std::size_t test_count) {
  Split split;
  for (std::size_t t = first; t < n; ++t) {
    if (t >= n - test_count) {
      split.test.push_back(t);
    } else if (t >= n - test_count - validation_count) {
      split.validation.push_back(t);
    } else {
      split.train.push_back(t);
    }
  }
  return split;
}

std::string format_time(std::int64_t seconds) {
  const std::time_t when = static_cast<std::time_t>(seconds);
  std::tm utc{};
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M", gmtime_r(&when, &utc));
  return stamp;
}

namespace {

TimeSpan span_of(const Series& series, const std::vector<std::size_t>& targets) {
  if (targets.empty()) return TimeSpan{0, -1};
  return TimeSpan{series.times[targets.front()], series.times[targets.back()]};
}

std::string encode_span(const TimeSpan& span) {
  return span.empty() ? std::string("none") : format_time(span.first) + ".." + format_time(span.last);
}

TimeSpan decode_span(const std::string& text, const std::string& whole) {
  if (text == "none") return TimeSpan{0, -1};
  const std::size_t dots = text.find("..");
  TimeSpan span;
  if (dots == std::string::npos || !parse_timestamp(text.substr(0, dots), &span.first) ||
      !parse_timestamp(text.substr(dots + 2), &span.last) || span.last < span.first) {
    throw InputError("split spans: expected FIRST..LAST timestamps, found '" + text + "' in '" + whole + "'");
  }
  return span;
}

std::string describe(const TimeSpan& span) { return format_time(span.first) + " .. " + format_time(span.last); }

}  // namespace

std::string SplitSpans::encode() const {
  return "column=" + value_column + ";train=" + encode_span(train) + ";validation=" + encode_span(validation) +
         ";test=" + encode_span(test);
}

SplitSpans SplitSpans::decode(const std::string& text) {
  const auto values = parse_settings(text, "split spans", {"column", "train", "validation", "test"});
  SplitSpans spans;
  spans.value_column = values.at("column");
  spans.train = decode_span(values.at("train"), text);
  spans.validation = decode_span(values.at("validation"), text);
  spans.test = decode_span(values.at("test"), text);
  return spans;
}

SplitSpans spans_of(const Series& series, const Split& split, const std::string& value_column) {
  return SplitSpans{span_of(series, split.train), span_of(series, split.validation), span_of(series, split.test),
                    value_column};
}

std::string check_test_span(const SplitSpans* trained, const TimeSpan& test, const std::string& value_column,
                            bool allow, const std::string& command) {
  if (trained == nullptr || trained->value_column != value_column) return "";
  std::string seen;
  if (test.overlaps(trained->train)) seen = "training span (" + describe(trained->train) + ")";
  if (test.overlaps(trained->validation)) {
    seen += (seen.empty() ? "" : " and its ") + std::string("validation span (") + describe(trained->validation) + ")";
  }
  if (seen.empty()) return "";
  const std::string what = "the test span asked (" + describe(test) + ") overlaps the model's " + seen + " of column '" +
                           value_column + "': those readings trained or chose the model, so its scores there are "
                           "optimistic";
  if (!allow) {
    throw InputError(command + ": " + what + ". Ask for a test span after " + format_time(trained->validation.last) +
                     " (as in training: the model's test span is " + describe(trained->test) +
                     "), or pass --allow-overlap to score it anyway");
  }
  return "warning: " + what + " (--allow-overlap)";
}

}  // namespace edgelstm::host
