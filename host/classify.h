// Sequence classification, host side: the class of a day from the measurements of the days before
// (the Seattle weather series: sun, fog, rain, drizzle, snow). Used by `edgelstm --task classify`.
#pragma once

#include <string>
#include <vector>

#include "host/csv_reader.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::host {

struct ClassData {
  std::vector<std::string> feature_names;
  std::string label_name;
  std::vector<std::vector<double>> features;  // per row, one value per feature
  std::vector<int> labels;                    // per row, index into classes
  std::vector<std::string> classes;           // sorted names
  std::vector<std::int64_t> times;
  // The window of the sample at row r: rows r-W .. r-1 (the days before: false) or r-W+1 .. r
  // (the label describes the window itself, as a day's profile: true).
  bool window_ends_at_row = false;
};

// Reads the feature and label columns (require a regular series).
ClassData read_class_data(const std::string& path, const std::string& time_column,
                          const std::vector<std::string>& feature_columns, const std::string& label_column);

// A regular series' days as a classification task: each sample is one whole day's readings (the
// window: one day of readings), labelled "weekday" or "weekend" by the day of week of its timestamps (UTC).
// Samples are the rows of each day's last reading; days the series covers only in part are left out.
// Normalization (fitted on the training days) uses every reading of them.
ClassData day_type_data(const Series& series);
// The sample rows of day_type_data, split by days: train | validation | test (the last test_days).
Split day_type_split(const ClassData& data, std::size_t day, std::size_t validation_days, std::size_t test_days);

struct ClassMetrics {
  double accuracy = 0, macro_f1 = 0;
  std::vector<std::vector<int>> confusion;  // [actual][predicted]
};
ClassMetrics class_metrics(const std::vector<int>& predicted, const std::vector<int>& actual, std::size_t classes);

// Rows whose class is predicted: the window of `window` rows before each, chronological split.
Split class_split(std::size_t rows, int window, std::size_t validation_rows, std::size_t test_rows);

// Trains a classifier (softmax cross-entropy, Adam, early stopping on validation accuracy).
ModelFile train_classifier(const ClassData& data, int window, const Split& split, const TrainOptions& options,
                           const std::function<void(const EpochReport&)>& progress);

// Predicts the classes of `rows` with a classifier model; the model's class list must match. With
// an integer weight format, the model's weight matrices are quantized first (weight-only).
std::vector<int> classify(const ModelFile& model, const ClassData& data, const std::vector<std::size_t>& rows,
                          WeightFormat format = WeightFormat::kFloat32,
                          ScaleGranularity granularity = ScaleGranularity::kRow);

// The most frequent class of the training rows, predicted for every row.
int majority_class(const ClassData& data, const std::vector<std::size_t>& train_rows);

// The column names a classifier model was trained on (meta.feature_columns, meta.label_column).
std::vector<std::string> model_feature_columns(const ModelFile& model);
std::string model_label_column(const ModelFile& model);

// The metrics as a Markdown table, the confusion matrix below it.
std::string class_report(const std::vector<std::string>& classes, const std::vector<std::pair<std::string, ClassMetrics>>& rows);

}  // namespace edgelstm::host
