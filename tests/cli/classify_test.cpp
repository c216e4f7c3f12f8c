// Classification: the metrics on a hand-checked example, and the Seattle weather classifier
// against the majority-class baseline.
#include <gtest/gtest.h>

#include "classify.h"

namespace {

using namespace edgelstm::cli;

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
}

}  // namespace
