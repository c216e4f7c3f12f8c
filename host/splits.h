// Chronological train / validation / test splits of a series' targets, and the spans a model was
// trained and validated on, stored in its file so that eval and predict can tell when they are
// asked to score points the model has already seen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/features.h"

namespace edgelstm::host {

// Target indices of the chronological split: train | validation | test, no overlap, no shuffling
// across them. The test span is the last test_steps targets, validation the validation_steps before.
struct Split {
  std::vector<std::size_t> train, validation, test;
};
Split chronological_split(const Series& series, const FeatureConfig& features, std::size_t validation_steps,
                          std::size_t test_steps);

// Indices first .. n-1 split into train | validation (validation_count) | test (the last test_count).
// The caller checks that n > first + validation_count + test_count.
Split split_indices(std::size_t first, std::size_t n, std::size_t validation_count, std::size_t test_count);

// The first and last target time (seconds since 1970, UTC) of each span.
struct TimeSpan {
  std::int64_t first = 0, last = 0;
  bool empty() const { return last < first; }
  bool overlaps(const TimeSpan& other) const {
    return !empty() && !other.empty() && first <= other.last && other.first <= last;
  }
};
struct SplitSpans {
  TimeSpan train, validation, test;
  std::string value_column;  // the series it was made of
  // "column=demand_mw;train=2000-06-12T05:30..2000-08-06T23:30;validation=...;test=..." (stored
  // in the model file as "meta.split").
  std::string encode() const;
  static SplitSpans decode(const std::string& text);  // throws InputError on a bad string
};
SplitSpans spans_of(const Series& series, const Split& split, const std::string& value_column);

// "2000-06-12T05:30" (UTC, as the CSV gave it).
std::string format_time(std::int64_t seconds);

// Checks a test span asked of a trained model against the spans stored in it (none: older
// files). When they overlap on the same value column: throws InputError explaining it unless
// `allow`; with `allow`, returns the warning to print (empty when there is no overlap).
std::string check_test_span(const SplitSpans* trained, const TimeSpan& test, const std::string& value_column,
                            bool allow, const std::string& command);

}  // namespace edgelstm::host
