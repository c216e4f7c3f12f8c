// The host library against hostile input: settings checked in one place, normalization that
// cannot overflow, model files whose content (not only whose CRC) is checked, atomic writes that
// leave nothing behind, memory refused before it is allocated. The command line's side of the same
// defects is tests/cli/hostile_input.py.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "host/forecast.h"
#include "host/input_error.h"
#include "host/memory_budget.h"
#include "host/model_io.h"
#include "host/online_learning.h"
#include "host/output_file.h"
#include "host/settings.h"
#include "host/statistics.h"
#include "support/input_error_testing.h"

namespace {

using namespace edgelstm::host;

using edgelstm::test::error_of;

FeatureConfig features_with_lags(std::vector<int> lags) {
  FeatureConfig features;
  features.lags = std::move(lags);
  return features;
}

TEST(Settings, LagsBelowOneAndOtherBadFeatureSettingsAreRefused) {
  EXPECT_EQ(error_of([] { check_feature_config(FeatureConfig{}); }), "");
  EXPECT_EQ(error_of([] { check_feature_config(features_with_lags({48, -999999999})); }),
            "feature settings: lag -999999999, expected 1..1000000 steps before the forecast step (0 would give the "
            "network the value it forecasts)");
  EXPECT_NE(error_of([] { check_feature_config(features_with_lags({0})); }), "");
  EXPECT_EQ(error_of([] { check_feature_config(features_with_lags({48, 48})); }), "feature settings: lag 48 given twice");
  FeatureConfig features;
  features.window = 0;
  EXPECT_EQ(error_of([&] { check_feature_config(features); }), "feature settings: window 0, expected 1..1024 steps");
  features.window = 12;
  features.interval_seconds = 7 * 60;  // 7 minutes: no whole number of readings per day
  EXPECT_NE(error_of([&] { check_feature_config(features); }), "");
  // Decoding is strict: whole numbers, each key once, calendar 0 or 1; and it checks the ranges.
  EXPECT_EQ(error_of([] { (void)FeatureConfig::decode("window=12;lags=48,-99;calendar=1;interval=1800"); }),
            "feature settings: lag -99, expected 1..1000000 steps before the forecast step (0 would give the network "
            "the value it forecasts)");
  EXPECT_EQ(error_of([] { (void)FeatureConfig::decode("window=12;lags=48abc;calendar=1;interval=1800"); }),
            "feature settings: bad value for 'lags': '48abc'");
  EXPECT_EQ(error_of([] { (void)FeatureConfig::decode("window=12;lags=48;calendar=yes;interval=1800"); }),
            "feature settings: calendar must be 0 or 1, found 'yes'");
  EXPECT_EQ(error_of([] { (void)FeatureConfig::decode("window=1;window=1;window=1;window=1"); }),
            "feature settings: 'window' given twice in 'window=1;window=1;window=1;window=1'");
  EXPECT_EQ(error_of([] { (void)FeatureConfig::decode("window=99999999999;lags=1;calendar=1;interval=1800"); }),
            "feature settings: bad value for 'window': '99999999999'");
}

TEST(Settings, NetworkShapeClassesAndNormalizationAreChecked) {
  EXPECT_EQ(error_of([] { check_network_shape(70000, 1); }), "hidden units 70000, expected 1..1024");
  EXPECT_EQ(error_of([] { check_network_shape(-1, 1); }), "hidden units -1, expected 1..1024");
  EXPECT_EQ(error_of([] { check_network_shape(32, 5); }), "layers 5, expected 1..4");
  EXPECT_EQ(error_of([] { check_class_names({"rain", "sun"}); }), "");
  EXPECT_NE(error_of([] { check_class_names({"sun"}); }), "");
  EXPECT_NE(error_of([] { check_class_names({"sun", "rain"}); }), "");  // labels index the sorted order
  EXPECT_NE(error_of([] { check_class_names({"rain", "rain"}); }), "");
  EXPECT_NE(error_of([] { check_class_names({"", "rain"}); }), "");
  EXPECT_EQ(error_of([] { check_normalization(30000, 5000, "norm.value"); }), "");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(error_of([&] { check_normalization(inf, inf, "norm.value"); }),
            "norm.value: normalization mean inf, scale inf; expected finite float32 values and a scale above zero");
  EXPECT_NE(error_of([] { check_normalization(0, 0, "norm.value"); }), "");
  EXPECT_NE(error_of([] { check_normalization(1e300, 1, "norm.value"); }), "");   // no float32 for it
  EXPECT_NE(error_of([] { check_normalization(0, 1e-50, "norm.value"); }), "");  // becomes 0 as float32
}

TEST(Normalization, MeanAndSpreadCannotOverflow) {
  // Readings whose squares (and sums) overflow a double: the naive formula gives (inf, inf).
  const std::vector<double> huge = {1e308, -1e308, 1e308, -1e308};
  const MeanAndSpread a = mean_and_spread(huge.size(), [&](std::size_t k) { return huge[k]; });
  EXPECT_EQ(a.mean, 0.0);
  EXPECT_DOUBLE_EQ(a.spread, 1e308);
  const std::vector<double> squares_overflow = {2e154, 4e154, 6e154};
  const MeanAndSpread b = mean_and_spread(squares_overflow.size(), [&](std::size_t k) { return squares_overflow[k]; });
  EXPECT_DOUBLE_EQ(b.mean, 4e154);
  EXPECT_NEAR(b.spread / 1e154, std::sqrt(8.0 / 3.0), 1e-12);
  // Ordinary readings: the textbook values.
  const std::vector<double> readings = {2, 4, 4, 4, 5, 5, 7, 9};
  const MeanAndSpread c = mean_and_spread(readings.size(), [&](std::size_t k) { return readings[k]; });
  EXPECT_DOUBLE_EQ(c.mean, 5.0);
  EXPECT_DOUBLE_EQ(c.spread, 2.0);
  // A NaN reading gives NaN (which every caller refuses), all zeros give zeros.
  const std::vector<double> with_nan = {1, NAN};
  EXPECT_TRUE(std::isnan(mean_and_spread(2, [&](std::size_t k) { return with_nan[k]; }).mean));
  EXPECT_EQ(mean_and_spread(3, [](std::size_t) { return 0.0; }).spread, 0.0);
}

TEST(Normalization, FittedOnReadingsAtTheReadersLimitItStaysFinite) {
  // 1e15 is the largest magnitude the CSV reader takes; squares of such readings summed naively
  // stay finite in double, but the fit must also be exact enough to store as float32.
  Series series;
  for (int k = 0; k < 1000; ++k) {
    series.values.push_back(k % 2 == 0 ? 1e15 : -1e15);
    series.times.push_back(1800 * k);
  }
  Split split;
  for (std::size_t k = 0; k < 1000; ++k) split.train.push_back(k);
  const FeatureConfig features;  // no covariates, no base: the value's normalization only
  const Normalization norm = fit_normalization(series, features, split);
  EXPECT_NEAR(norm.mean, 0.0, 1.0);  // 1e-15 of the readings' size
  EXPECT_DOUBLE_EQ(norm.scale, 1e15);
  // A constant span is refused, as before.
  for (double& v : series.values) v = 7;
  EXPECT_EQ(error_of([&] { (void)fit_normalization(series, features, split); }),
            "the training span's value is constant: nothing to learn from it");
}

// A forecaster model with the given feature settings and normalization (not trained: the loader
// is what is tested).
ModelFile small_forecaster(const std::string& features = "window=2;lags=3;calendar=0;interval=1800") {
  ModelFile model;
  model.spec = edgelstm::make_spec(2, 3, 1, 1, 2);
  model.parameters.assign(edgelstm::parameter_count(model.spec), 0.05f);
  model.floats["norm.value"] = {100.0f, 10.0f};
  model.texts["meta.features"] = features;
  return model;
}

std::string temp_path(const std::string& name) { return testing::TempDir() + "/" + name + "_" + std::to_string(getpid()); }

TEST(ModelLoader, RefusesWhatTheCrcCannotCatch) {
  const std::string path = temp_path("loader.elstm");
  save_model(small_forecaster(), path);
  EXPECT_EQ(load_model(path).texts.at("meta.features"), "window=2;lags=3;calendar=0;interval=1800");
  // The bytes of a model with bad content, serialized directly (save_model refuses to write them):
  // the loader must refuse them although their CRC is valid.
  const auto refused = [&](const ModelFile& model) {
    const std::vector<std::uint8_t> bytes = serialize_model(model);
    return error_of([&] { (void)parse_model(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "m"); });
  };
  EXPECT_EQ(refused(small_forecaster("window=2;lags=-999999999;calendar=0;interval=1800")),
            "m: feature settings: lag -999999999, expected 1..1000000 steps before the forecast step (0 would give the "
            "network the value it forecasts)");
  ModelFile nan_weight = small_forecaster();
  nan_weight.parameters[5] = NAN;
  EXPECT_EQ(refused(nan_weight), "m: model file holds a NaN or Inf parameter or scale");
  ModelFile inf_norm = small_forecaster();
  inf_norm.floats["norm.value"] = {INFINITY, INFINITY};
  EXPECT_EQ(refused(inf_norm), "m: norm.value: value 0 is NaN or Inf");
  ModelFile zero_scale = small_forecaster();
  zero_scale.floats["norm.value"] = {100.0f, 0.0f};
  EXPECT_NE(refused(zero_scale), "");
  ModelFile mismatch = small_forecaster("window=2;lags=3,6;calendar=0;interval=1800");  // 3 inputs, network has 2
  EXPECT_NE(refused(mismatch).find("describe 3 inputs"), std::string::npos) << refused(mismatch);
  ModelFile history = small_forecaster();  // a record of training may hold NaN (an epoch with every step refused)
  history.floats["train.history"] = {1.0f, NAN, 5.0f};
  EXPECT_EQ(refused(history), "");
  // The saver refuses what the loader would refuse, and leaves the old file.
  EXPECT_NE(error_of([&] { save_model(inf_norm, path); }), "");
  EXPECT_EQ(load_model(path).floats.at("norm.value")[0], 100.0f);
  // Empty: a message, not a null pointer passed to memcpy (UBSan in the asan preset).
  EXPECT_EQ(error_of([] { (void)parse_model(std::string_view(), "empty.elstm"); }), "empty.elstm: the model file is empty");
  std::remove(path.c_str());
}

// What loads must save and load again, also at the ends of the float range: a quantized model whose
// weights reach FLT_MAX (a file's int16 value times its scale can) once quantized again to a scale
// whose largest dequantized value overflowed to Inf, and the file it saved was refused as holding a
// NaN or Inf (found by fuzz.model_loader).
TEST(ModelLoader, AQuantizedModelAtTheEndsOfTheFloatRangeLoadsAgain) {
  for (const auto format : {edgelstm::WeightFormat::kInt16, edgelstm::WeightFormat::kInt8, edgelstm::WeightFormat::kInt4}) {
    ModelFile model = small_forecaster();
    model.format = format;
    model.parameters[0] = 3.40282347e38f;
    model.parameters[1] = -3.4e38f;
    model.parameters[model.parameters.size() - 2] = 3.40282347e38f;  // in the head
    const std::vector<std::uint8_t> bytes = serialize_model(model);
    ModelFile loaded;
    EXPECT_EQ(error_of([&] { loaded = parse_model(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "m"); }), "");
    ASSERT_EQ(loaded.parameters.size(), model.parameters.size());
    EXPECT_GT(loaded.parameters[0], 3.4e38f);
    EXPECT_TRUE(std::isfinite(loaded.parameters[0]));
    const std::vector<std::uint8_t> again = serialize_model(loaded);
    EXPECT_EQ(error_of([&] { (void)parse_model(std::string_view(reinterpret_cast<const char*>(again.data()), again.size()), "again"); }), "");
  }
}

TEST(OutputFile, AFailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  const std::string directory = temp_path("output_file");
  ASSERT_EQ(mkdir(directory.c_str(), 0700), 0);
  const std::string path = directory + "/out.csv";
  write_file_atomically(path, "old\n");
  // A file size limit makes the write fail part-way, as a full disk would.
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  const std::string message = error_of([&] { write_file_atomically(path, std::string(5000, 'x')); });
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(message, path + ": write failed: File too large");
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "old\n");
  // Nothing but the file itself in the directory.
  EXPECT_EQ(std::system(("test $(ls -A '" + directory + "' | wc -l) -eq 1").c_str()), 0);
  // Not a regular file: refused, not replaced.
  EXPECT_EQ(error_of([] { write_file_atomically("/dev/null", "x"); }),
            "cannot write: /dev/null is a character device; expected a regular file or a new name");
  std::remove(path.c_str());
  rmdir(directory.c_str());
}

// A written file gets what open(..., 0644) or, owner-only, open(..., 0600) would give under the
// process's umask, which is read, not set (setting it to read it would race with other threads).
TEST(OutputFile, FilesTakeTheirModeFromTheUmaskAndOwnerOnlyFilesStayPrivate) {
  const std::string shared = temp_path("mode_shared.txt"), secret = temp_path("mode_secret.txt");
  const auto mode_of = [](const std::string& path) {
    struct stat file {};
    return ::stat(path.c_str(), &file) == 0 ? static_cast<unsigned>(file.st_mode & 0777) : 01000u;
  };
  for (const mode_t mask : {mode_t{022}, mode_t{027}, mode_t{077}, mode_t{002}}) {
    const mode_t saved = ::umask(mask);
    write_file_atomically(shared, "x");
    write_file_atomically(secret, "x", FileAccess::kOwnerOnly);
    EXPECT_EQ(::umask(saved), mask);  // left as it was
    EXPECT_EQ(mode_of(shared), 0644u & ~static_cast<unsigned>(mask)) << std::oct << mask;
    EXPECT_EQ(mode_of(secret), 0600u & ~static_cast<unsigned>(mask)) << std::oct << mask;
  }
  std::remove(shared.c_str());
  std::remove(secret.c_str());
}

TEST(OutputFile, OutputsThatAreInputsOrCannotBeCreatedAreRefusedUpFront) {
  const std::string data = temp_path("input.csv"), link = temp_path("input_link.csv");
  write_file_atomically(data, "timestamp,demand_mw\n");
  ASSERT_EQ(symlink(data.c_str(), link.c_str()), 0);
  EXPECT_EQ(error_of([&] { check_output_file({"--model", link}, {{"--data", data}}); }),
            "--model " + link + ": is the same file as --data " + data +
                "; writing it would destroy the input (choose another output file)");
  EXPECT_EQ(error_of([&] { check_output_file({"--model", data + ".elstm"}, {{"--data", data}}); }), "");
  EXPECT_NE(error_of([] { check_output_file({"--out", "/no/such/directory/f.csv"}, {}); }), "");
  EXPECT_NE(error_of([&] { check_distinct_outputs({"--a", data + ".x"}, {"--b", data + ".x"}); }), "");
  std::remove(link.c_str());
  std::remove(data.c_str());
}

TEST(MemoryBudget, RefusesBeforeAllocatingWithTheByteCount) {
  EXPECT_EQ(error_of([] { check_memory(1000, "the thing", 999); }),
            "the thing needs 1000 bytes (0.00 GiB); this machine offers 999 bytes (0.00 GiB)");
  EXPECT_EQ(error_of([] { check_memory(999, "the thing", 999); }), "");
  EXPECT_EQ(saturating_multiply(SIZE_MAX / 2, 3), SIZE_MAX);
  EXPECT_EQ(saturating_add(SIZE_MAX, 1), SIZE_MAX);
  EXPECT_GT(usable_memory_bytes(), std::size_t{1} << 20);
}

TEST(Settings, OnlineLearnerRefusesABadShapeBeforeBinding) {
  Series series;
  for (int k = 0; k < 400; ++k) {
    series.values.push_back(k % 48);
    series.times.push_back(1800 * k);
  }
  OnlineOptions options;
  options.hidden = 70000;  // would have become 4464 through the 16-bit spec field
  EXPECT_EQ(error_of([&] { OnlineLearner(series, FeatureConfig{}, options); }), "hidden units 70000, expected 1..1024");
}

TEST(InputError, ExcerptsAreShortAndShowWhatTheBytesAre) {
  EXPECT_EQ(excerpt("demand_mw"), "'demand_mw'");
  EXPECT_EQ(excerpt(std::string(1000, 'a')), "'" + std::string(80, 'a') + "...' (1000 bytes)");
  EXPECT_EQ(excerpt("\xEF\xBB\xBFtimestamp"), "'\\xEF\\xBB\\xBFtimestamp'");
  EXPECT_EQ(excerpt("line\nbreak\x1b[2J"), "'line\\x0Abreak\\x1B[2J'");
  EXPECT_EQ(excerpt("Temp\xC3\xA9rature"), "'Temp\xC3\xA9rature'");  // valid UTF-8 stays readable
  EXPECT_EQ(excerpt("\xC3"), "'\\xC3'");                              // a cut sequence does not
}

}  // namespace
