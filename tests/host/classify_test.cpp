// Classification: the metrics on a hand-checked example, the Seattle weather classifier against
// the majority-class baseline, and the weekday/weekend classifier of Taylor's daily profiles;
// int8 weights (per row) keep the accuracy within one point.
#include <gtest/gtest.h>

#include <cmath>

#include "host/classify.h"

namespace {

using namespace edgelstm::host;

TEST(Classify, MetricsMatchAHandCountedExample) {
  // actual:    0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const ClassMetrics m = class_metrics({0, 0, 1, 1, 2, 2}, {0, 0, 0, 1, 1, 2}, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6);
  EXPECT_EQ(m.confusion[0][0], 2);
  EXPECT_EQ(m.confusion[0][1], 1);
  EXPECT_EQ(m.confusion[1][2], 1);
  // F1: class 0: 2*2/(4+0+1) = 0.8; class 1: 2/(2+1+1) = 0.5; class 2: 2/(2+1+0) = 2/3.
  EXPECT_NEAR(m.macro_f1, (0.8 + 0.5 + 2.0 / 3) / 3, 1e-12);
}

TEST(Classify, SeattleWeatherBeatsTheMajorityClass) {
  const ClassData data = read_class_data(EDGELSTM_SOURCE_DIR "/data/seattle_weather_daily_2012_2015.csv", "date",
                                         {"precipitation", "temp_max", "temp_min", "wind"}, "weather");
  ASSERT_EQ(data.classes, (std::vector<std::string>{"drizzle", "fog", "rain", "snow", "sun"}));
  const Split split = class_split(data.labels.size(), 7, 180, 365);
  TrainOptions options;
  options.hidden = 16;
  options.epochs = 40;
  options.learning_rate = 3e-3f;
  const ModelFile model = train_classifier(data, 7, split, options, nullptr);
  std::vector<int> actual;
  for (std::size_t r : split.test) actual.push_back(data.labels[r]);
  const ClassMetrics lstm = class_metrics(classify(model, data, split.test), actual, 5);
  const ClassMetrics majority =
      class_metrics(std::vector<int>(actual.size(), majority_class(data, split.train)), actual, 5);
  std::printf("Seattle test year: accuracy %.3f (majority %.3f), macro-F1 %.3f (majority %.3f)\n", lstm.accuracy,
              majority.accuracy, lstm.macro_f1, majority.macro_f1);
  EXPECT_GT(lstm.accuracy, majority.accuracy);
  EXPECT_GT(lstm.macro_f1, majority.macro_f1);
  // Weight-only int8 with per-row scales: accuracy within one point of float.
  const ClassMetrics int8 = class_metrics(
      classify(model, data, split.test, edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kRow), actual, 5);
  std::printf("int8 per row: accuracy %.3f, macro-F1 %.3f\n", int8.accuracy, int8.macro_f1);
  EXPECT_LE(std::fabs(int8.accuracy - lstm.accuracy), 0.01);
}

Series taylor() {
  const Table table = read_table(EDGELSTM_SOURCE_DIR "/data/taylor_england_wales_halfhourly_demand_2000.csv", "timestamp",
                                 {ColumnRequest{"demand_mw", true}}, true);
  return Series{table.numbers[0], table.times, {}, {}};
}

TEST(Classify, DayTypeSamplesAreWholeDaysLabelledByTheirWeekday) {
  const Series series = taylor();
  const ClassData data = day_type_data(series);
  ASSERT_EQ(data.classes, (std::vector<std::string>{"weekday", "weekend"}));
  // The series starts on Monday 2000-06-05 00:00: rows 0..239 are Monday..Friday, 240..335 the weekend.
  EXPECT_EQ(data.labels[0], 0);
  EXPECT_EQ(data.labels[239], 0);
  EXPECT_EQ(data.labels[240], 1);
  EXPECT_EQ(data.labels[335], 1);
  EXPECT_EQ(data.labels[336], 0);
  const Split split = day_type_split(data, 48, 14, 28);
  EXPECT_EQ(split.train.size() + split.validation.size() + split.test.size(), series.values.size() / 48);
  EXPECT_EQ(split.test.size(), 28u);
  EXPECT_EQ(split.train.front(), 47u);  // the first day's last reading: its window is rows 0..47
  for (const auto* part : {&split.train, &split.validation, &split.test}) {
    for (std::size_t r : *part) EXPECT_EQ((series.times[r] + 1800) % 86400, 0) << r;
  }
  EXPECT_LT(split.validation.back(), split.test.front());
  // A cut day (the series starting at 00:30) is left out: one day fewer.
  Series cut = series;
  cut.values.erase(cut.values.begin());
  cut.times.erase(cut.times.begin());
  EXPECT_EQ(day_type_split(day_type_data(cut), 48, 14, 28).train.size(), split.train.size() - 1);
  EXPECT_THROW(day_type_split(data, 48, 44, 40), InputError);  // 84 days: none left to train on
}

// The weekday/weekend classifier of the quantization study: near perfect in float, and int8 per row
// within one point of it.
TEST(Classify, DayTypeOfTaylorsDailyProfiles) {
  const Series series = taylor();
  const ClassData data = day_type_data(series);
  const Split split = day_type_split(data, 48, 14, 28);
  TrainOptions options;
  options.hidden = 16;
  options.learning_rate = 5e-3f;
  options.epochs = 60;
  options.patience = 10;
  const ModelFile model = train_classifier(data, 48, split, options, nullptr);
  std::vector<int> actual;
  for (std::size_t r : split.test) actual.push_back(data.labels[r]);
  const ClassMetrics f32 = class_metrics(classify(model, data, split.test), actual, 2);
  const ClassMetrics int8 = class_metrics(
      classify(model, data, split.test, edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kRow), actual, 2);
  std::printf("weekday/weekend, %zu test days: accuracy f32 %.3f, int8 per row %.3f\n", actual.size(), f32.accuracy,
              int8.accuracy);
  EXPECT_GE(f32.accuracy, 0.9);
  EXPECT_LE(std::fabs(int8.accuracy - f32.accuracy), 0.01);
}

}  // namespace
