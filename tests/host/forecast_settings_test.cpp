// A forecaster's settings: interval-aware default lags, covariate columns as inputs, the base
// chosen from the data, the spans stored in the model and the refusal of overlapping test spans,
// and early stopping that reports a model which never improved.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "host/data_loading.h"
#include "host/forecast.h"

namespace {

using namespace edgelstm::host;

constexpr const char* kSgsc = EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv";
constexpr std::int64_t kJune2000 = 959990400;  // 2000-06-03T00:00, a Saturday

TEST(ForecastSettings, DefaultLagsFollowTheInterval) {
  // Half-hourly and hourly: one day and one week before the step forecast; daily: one week.
  EXPECT_EQ(default_lags(1800, 4032, 21 * 48, 12), (std::vector<int>{48, 336}));
  EXPECT_EQ(default_lags(3600, 24 * 365, 21 * 24, 12), (std::vector<int>{24, 168}));
  EXPECT_EQ(default_lags(86400, 1461, 21, 12), (std::vector<int>{7}));
  // 30 days of 15-minute readings, 21 held out: the training span is too short for a week's lag.
  EXPECT_EQ(default_lags(900, 96 * 30, 96 * 21, 12), (std::vector<int>{96}));
  // Daily data has no time of day: the calendar is the day of week only.
  FeatureConfig daily;
  daily.interval_seconds = 86400;
  daily.lags = {7};
  EXPECT_EQ(daily.calendar_features(), 2);
  EXPECT_EQ(daily.features(), 1 + 1 + 2);
  EXPECT_EQ(daily.input_names(), (std::vector<std::string>{"x[s]", "x[s+1-7]", "sin(day of week)", "cos(day of week)"}));
}

TEST(ForecastSettings, CovariatesAndTheBaseAreInputsAlignedToTheForecastStep) {
  Series series;
  for (int k = 0; k < 400; ++k) {
    series.values.push_back(k);
    series.times.push_back(kJune2000 + 1800LL * k);
  }
  series.covariates = {std::vector<double>(400), std::vector<double>(400)};
  series.base.assign(400, 0.0);
  for (int k = 0; k < 400; ++k) {
    series.covariates[0][k] = 1000 + k;
    series.covariates[1][k] = -k;
    series.base[k] = k - 0.5;
  }
  FeatureConfig features;
  features.window = 2;
  features.covariates = {"temp", "humidity"};
  features.base = Base::kDoubleSeasonal;
  ASSERT_EQ(features.features(), 1 + 2 + 4 + 2 + 2);
  Normalization norm;  // identity, and covariates and base error unscaled
  norm.covariate_mean = {0, 0};
  norm.covariate_scale = {1, 1};
  norm.error_scale = 0.5;
  std::vector<float> w(static_cast<std::size_t>(2 * features.features()));
  build_window(series, features, norm, 350, w.data());
  // The last step s = 349: its covariates are those of the step forecast (350), the base's
  // forecast of 350, and the base's error at 349 in units of error_scale.
  const std::size_t last = static_cast<std::size_t>(features.features());
  EXPECT_EQ(w[last + 0], 349.0f);
  EXPECT_EQ(w[last + 7], 1350.0f);
  EXPECT_EQ(w[last + 8], -350.0f);
  EXPECT_EQ(w[last + 9], 349.5f);
  EXPECT_EQ(w[last + 10], 1.0f);  // (349 - 348.5) / 0.5
  // The target is the base's error, and the forecast adds it back.
  EXPECT_EQ(target_of(series, features, norm, 350), 1.0f);
  EXPECT_DOUBLE_EQ(forecast_of(series, features, norm, 350, 2.0f), 350.5);
  const FeatureConfig back = FeatureConfig::decode(features.encode());
  EXPECT_EQ(back.covariates, features.covariates);
  EXPECT_EQ(back.base, Base::kDoubleSeasonal);
  EXPECT_EQ(back.encode(), features.encode());
  EXPECT_EQ(features.first_target(), 2u * 336);  // two weeks for Holt-Winters to start
}

// An hourly load that follows its temperature (a slow random walk the load's own history cannot
// tell ahead): with the temperature column as a covariate the forecaster is far better; the model
// stores the covariate's normalization and refuses data without the column.
TEST(ForecastSettings, CovariatesAreInputsTheModelRequires) {
  const std::string with = testing::TempDir() + "/load_temp.csv", without = testing::TempDir() + "/load_only.csv";
  {
    std::ofstream a(with), b(without);
    a << "timestamp,load,temp\n";
    b << "timestamp,load\n";
    std::uint64_t state = 7;
    const auto noise = [&state] {  // uniform in [-1, 1)
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return static_cast<double>(state >> 11) / 4503599627370496.0 - 1.0;
    };
    double temp = 15;
    for (int k = 0; k < 24 * 70; ++k) {
      temp = 15 + 0.97 * (temp - 15) + 3 * noise();
      const double load = 60 + 4 * temp + 8 * std::sin(6.283185307 * (k % 24) / 24) + 0.5 * noise();
      const std::string stamp = format_time(kJune2000 + 3600LL * k);
      a << stamp << "," << load << "," << temp << "\n";
      b << stamp << "," << load << "\n";
    }
  }
  DataOptions data;
  data.path = with;
  data.value_column = "load";
  const auto trained = [&](const std::vector<std::string>& covariates) {
    std::int64_t interval = 0;
    const Series series = load_series(data, covariates, &interval);
    FeatureConfig features;
    features.window = 6;
    features.interval_seconds = interval;
    features.covariates = covariates;
    features.lags = default_lags(interval, series.values.size(), 21 * 24, features.window);
    const Split split = chronological_split(series, features, 7 * 24, 14 * 24);
    TrainOptions options;
    options.hidden = 8;
    options.epochs = 20;
    const ModelFile model = train_forecaster(series, features, split, options, nullptr, "load");
    Forecaster forecaster(model);
    std::vector<double> forecast, actual;
    for (std::size_t t : split.test) {
      forecast.push_back(forecaster.forecast(series, t));
      actual.push_back(series.values[t]);
    }
    return std::make_pair(model, metrics_of(forecast, actual).mae);
  };
  const auto [model, with_temp] = trained({"temp"});
  const double load_only = trained({}).second;
  std::printf("test MAE: with the temperature covariate %.2f, without %.2f\n", with_temp, load_only);
  EXPECT_LT(with_temp, 0.5 * load_only);
  EXPECT_EQ(features_of(model).covariates, std::vector<std::string>{"temp"});
  ASSERT_EQ(model.floats.at("norm.covariates").size(), 2u);
  EXPECT_NEAR(model.floats.at("norm.covariates")[0], 15.0, 5.0);  // the temperature's mean
  data.path = without;
  try {
    (void)load_model_data(data, model);
    ADD_FAILURE() << "data without the covariate column was accepted";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("column 'temp'"), std::string::npos) << message;
    EXPECT_NE(message.find("covariate column(s) temp"), std::string::npos) << message;
  }
}

TEST(ForecastSettings, TheBaseFollowsTheData) {
  DataOptions data;
  data.path = kSgsc;
  const auto base_of = [&](const std::string& column, std::string* why) {
    data.value_column = column;
    std::int64_t interval = 0;
    const Series series = load_series(data, {}, &interval);
    FeatureConfig features;
    return choose_base(series, features, chronological_split(series, features, 7 * 48, 14 * 48), why);
  };
  std::string why;
  // A vacant home: readings of 0, so no multiplicative Holt-Winters.
  EXPECT_EQ(base_of("10018246", &why), Base::kNone);
  EXPECT_NE(why.find("<= 0"), std::string::npos) << why;
  // A household whose Holt-Winters forecast loses to persistence on the validation span.
  EXPECT_EQ(base_of("10006414", &why), Base::kNone);
  EXPECT_NE(why.find("does not beat persistence"), std::string::npos) << why;
  // One where it wins.
  EXPECT_EQ(base_of("10018254", &why), Base::kDoubleSeasonal) << why;
}

TEST(ForecastSettings, SpansAreStoredAndOverlappingTestSpansRefused) {
  Series series;
  for (int k = 0; k < 48 * 30; ++k) {
    series.values.push_back(100 + 10 * std::sin(k * 0.13));
    series.times.push_back(kJune2000 + 1800LL * k);
  }
  FeatureConfig features;
  features.lags = {48};
  const Split split = chronological_split(series, features, 7 * 48, 7 * 48);
  const SplitSpans spans = spans_of(series, split, "demand_mw");
  EXPECT_EQ(format_time(spans.validation.first), "2000-06-19T00:00");
  EXPECT_EQ(format_time(spans.test.last), "2000-07-02T23:30");
  const SplitSpans back = SplitSpans::decode(spans.encode());
  EXPECT_EQ(back.encode(), spans.encode());
  EXPECT_EQ(back.train.first, spans.train.first);
  EXPECT_THROW(SplitSpans::decode("column=x;train=2000-06-19T00:00..junk;validation=none;test=none"), InputError);
  // The model's own test span, or a later one: no objection.
  EXPECT_EQ(check_test_span(&spans, spans.test, "demand_mw", false, "eval"), "");
  // Fourteen days instead of seven reach into the validation span: refused, or a warning.
  const TimeSpan longer{spans.test.first - 7 * 86400, spans.test.last};
  try {
    (void)check_test_span(&spans, longer, "demand_mw", false, "eval");
    ADD_FAILURE() << "an overlapping test span was accepted";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("overlaps the model's validation span (2000-06-19T00:00 .. 2000-06-25T23:30)"), std::string::npos)
        << message;
    EXPECT_NE(message.find("--allow-overlap"), std::string::npos) << message;
  }
  EXPECT_NE(check_test_span(&spans, longer, "demand_mw", true, "eval").find("warning"), std::string::npos);
  // Another column is another series; a model without spans (older files) cannot tell.
  EXPECT_EQ(check_test_span(&spans, longer, "other_meter", false, "eval"), "");
  EXPECT_EQ(check_test_span(nullptr, longer, "demand_mw", false, "eval"), "");
}

TEST(ForecastSettings, EarlyStoppingSaysWhenNoEpochImproved) {
  edgelstm::Network net;
  std::vector<std::uint8_t> storage;
  TrainOptions options;
  options.epochs = 10;
  options.patience = 3;
  bind_for_training(net, storage, edgelstm::make_spec(1, 4, 1, 1, 2), options, edgelstm::LossKind::kMse);
  const std::vector<float> initial(net.parameters().begin(), net.parameters().end());
  const float x[2] = {0.5f, -0.5f}, y = 1.0f;
  std::vector<float> history;
  // A validation measure no epoch can improve: the initial weights are kept and the record says so.
  EarlyStopping chosen = train_with_early_stopping(
      net, 4, options,
      [&](std::size_t) { return net.train_step(edgelstm::Span<const float>(x, 2), edgelstm::Span<const float>(&y, 1),
                                               edgelstm::WindowStart::kZeroState); },
      [] { return 1.0; }, nullptr, &history);
  EXPECT_EQ(chosen.chosen_epoch, 0);
  EXPECT_EQ(chosen.epochs_run, 3);
  EXPECT_EQ(chosen.parameters, initial);
  chosen.measure = "MAE";
  const EarlyStopping back = EarlyStopping::decode(chosen.encode());
  EXPECT_EQ(back.chosen_epoch, 0);
  EXPECT_EQ(back.measure, "MAE");
  EXPECT_EQ(back.initial_validation_error, 1.0);
  EXPECT_THROW(EarlyStopping::decode("measure=MAE;chosen_epoch=x"), InputError);
}

}  // namespace

namespace {

// Model files written before this version: a half-hourly forecaster (no base, no covariates, no
// stored spans) loads with the features it was trained on; a daily one, whose calendar then kept a
// (constant) time of day, loads with those 4 calendar inputs and builds them, and says so when
// written again.
TEST(ForecastSettings, OlderModelFilesLoad) {
  ModelFile half_hourly;
  half_hourly.spec = edgelstm::make_spec(7, 4, 1, 1, 12);
  half_hourly.texts["meta.features"] = "window=12;lags=48,336;calendar=1;interval=1800";
  half_hourly.floats["norm.value"] = {30000.0f, 5000.0f};
  const FeatureConfig old = features_of(half_hourly);
  EXPECT_EQ(old.lags, (std::vector<int>{48, 336}));
  EXPECT_EQ(old.base, Base::kNone);
  EXPECT_EQ(old.first_target(), 11u + 336u);
  SplitSpans spans;
  EXPECT_FALSE(split_spans_of(half_hourly, &spans));
  EXPECT_EQ(normalization_of(half_hourly).mean, 30000.0);

  ModelFile daily;
  daily.spec = edgelstm::make_spec(6, 4, 1, 1, 3);  // x, one lag, 4 calendar inputs
  daily.texts["meta.features"] = "window=3;lags=7;calendar=1;interval=86400";
  daily.floats["norm.value"] = {0.0f, 1.0f};
  const FeatureConfig features = features_of(daily);
  ASSERT_EQ(features.features(), 6);
  EXPECT_EQ(features.input_names()[2], "sin(time of day)");
  Series series;
  for (int k = 0; k < 20; ++k) {
    series.values.push_back(k);
    series.times.push_back(kJune2000 + 86400LL * k);  // midnights
  }
  std::vector<float> w(static_cast<std::size_t>(3 * 6));
  build_window(series, features, Normalization{}, 10, w.data());
  EXPECT_EQ(w[2], 0.0f);  // sin and cos of midnight, as the older version built them
  EXPECT_EQ(w[3], 1.0f);
  EXPECT_EQ(FeatureConfig::decode(features.encode()).features(), 6);
  // A daily model of this version: day of week only, and a file that matches neither is refused.
  daily.spec = edgelstm::make_spec(4, 4, 1, 1, 3);
  EXPECT_EQ(features_of(daily).features(), 4);
  daily.spec = edgelstm::make_spec(5, 4, 1, 1, 3);
  EXPECT_THROW(features_of(daily), InputError);
}

}  // namespace
