// `edgelstm inspect MODEL`: shape, parameter count, weight format, file size, the arena bytes a
// device needs for inference and training, and a forecaster's inputs, base, spans and early
// stopping. `edgelstm inspect --data CSV`: the series and the feature defaults `train` takes for it.
#include <cstdio>

#include "cli/command.h"
#include "host/data_loading.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/quantized_forecaster.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

// "1 day", "1 week", "3 h", "90 min" for a lag of `steps` readings `interval` seconds apart.
std::string duration(long long steps, std::int64_t interval) {
  const long long seconds = steps * interval;
  if (seconds % 604800 == 0) return std::to_string(seconds / 604800) + (seconds == 604800 ? " week" : " weeks");
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + (seconds == 86400 ? " day" : " days");
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + " h";
  return std::to_string(seconds / 60) + " min";
}

std::string lags_text(const FeatureConfig& features) {
  if (features.lags.empty()) return "none";
  std::string out;
  for (int lag : features.lags) {
    out += (out.empty() ? "" : ", ") + std::to_string(lag) + " (" + duration(lag, features.interval_seconds) + ")";
  }
  return out + " before the step forecast";
}

class InspectCommand : public Command {
 public:
  explicit InspectCommand(CLI::App& app)
      : Command(app.add_subcommand("inspect", "a model's shape, bytes on a device, inputs, base and spans; or, with "
                                              "--data, a series and the defaults train takes for it")) {
    app_->add_option("model", model_path_, "model file");
    app_->add_option("--data", data_.path, "a CSV series to describe instead of a model")->check(CLI::ExistingFile);
    app_->add_option("--time-column", data_.time_column, "--data: its timestamp column")->capture_default_str();
    app_->add_option("--value-column", data_.value_column, "--data: the column to forecast")->capture_default_str();
    app_->add_option("--validation-days", data_.validation_days, "--data: the validation days train would hold out")
        ->capture_default_str()->check(CLI::Range(1, 3650));
    app_->add_option("--test-days", data_.test_days, "--data: the test days train would hold out")
        ->capture_default_str()->check(CLI::Range(1, 3650));
  }

  void run() override {
    if (model_path_.empty() == data_.path.empty()) throw InputError("inspect: give a model file or --data CSV (one of them)");
    refuse_unless(!data_.path.empty(), {"--time-column", "--value-column", "--validation-days", "--test-days"}, "--data");
    if (!data_.path.empty()) {
      describe_data();
    } else {
      describe_model();
    }
  }

 private:
  void describe_data() const {
    std::int64_t interval = 0;
    const Series series = load_series(data_, {}, &interval);
    std::size_t zeros = 0, negative = 0;
    for (double v : series.values) {
      zeros += v == 0 ? 1 : 0;
      negative += v < 0 ? 1 : 0;
    }
    std::printf("%s, column %s: %zu readings every %lld s, %s .. %s; readings of 0: %zu, below 0: %zu\n", data_.path.c_str(),
                data_.value_column.c_str(), series.values.size(), static_cast<long long>(interval),
                format_time(series.times.front()).c_str(), format_time(series.times.back()).c_str(), zeros, negative);
    FeatureConfig features;
    features.interval_seconds = interval;
    const std::size_t day = steps_per_day(interval);
    const std::size_t validation = data_.validation_days * day, test = data_.test_days * day;
    features.lags = default_lags(interval, series.values.size(), validation + test, features.window);
    std::printf("train's defaults (--validation-days %d, --test-days %d): window %d; lags %s; calendar: %s\n",
                data_.validation_days, data_.test_days, features.window, lags_text(features).c_str(),
                features.calendar_features() == 4 ? "time of day and day of week" : "day of week");
    std::string why;
    (void)choose_base(series, features, chronological_split(series, features, validation, test), &why);
    std::printf("base (--base auto): %s\n", why.c_str());
  }

  void describe_model() const {
    const ModelFile model = load_model(model_path_);
    const LstmSpec& s = model.spec;
    std::printf("%s: %s, input %u, %u layer(s) of", model_path_.c_str(),
                s.task == Task::kRegression ? "regression" : "classification", s.input_size, s.num_layers);
    for (std::size_t l = 0; l < s.num_layers; ++l) std::printf(" %u", s.hidden_size[l]);
    std::printf(" hidden, %u output(s) at the %s, window %u\n", s.output_size,
                s.output_mode == OutputMode::kLastStep ? "last step" : "every step", s.window);
    std::printf("parameters: %zu (%zu bytes as float32)\n", parameter_count(s), parameter_count(s) * 4);
    std::printf("weights stored as %s%s; model file %zu bytes\n", format_name(model.format),
                model.format == WeightFormat::kFloat32             ? ""
                : model.granularity == ScaleGranularity::kRow ? " with one scale per row"
                                                              : " with one scale per tensor",
                serialize_model(model).size());
    std::printf("arena bytes on a device: inference %zu (weights in flash: %zu), training SGD %zu, momentum %zu, Adam %zu\n",
                inference_bytes(s), inference_in_place_bytes(s), train_bytes(s, OptimizerKind::kSgd),
                train_bytes(s, OptimizerKind::kMomentum), train_bytes(s, OptimizerKind::kAdam));
    if (has_integer_path(model)) {
      std::printf("full-integer path: int8 weights, int16 activations; %zu bytes of weights and constants, arena %zu\n",
                  integer_device_bytes(s), integer_inference_bytes(s));
    }
    if (model.texts.count("meta.features") != 0) describe_forecaster(model);
    const auto chosen = model.texts.find("train.early_stopping");
    if (chosen != model.texts.end()) {
      const EarlyStopping e = EarlyStopping::decode(chosen->second);
      const auto value = [](double v) { return format_fixed(v, decimals_for(v)); };
      std::printf("early stopping on validation %s: kept epoch %d of %d, %s (initial weights: %s)\n", e.measure.c_str(),
                  e.chosen_epoch, e.epochs_run, value(e.validation_error).c_str(),
                  value(e.initial_validation_error).c_str());
    }
    for (const auto& [name, text] : model.texts) std::printf("%s: %s\n", name.c_str(), text.c_str());
    for (const auto& [name, values] : model.floats) std::printf("%s: %zu values\n", name.c_str(), values.size());
  }

  static void describe_forecaster(const ModelFile& model) {
    const FeatureConfig f = features_of(model);
    const Normalization norm = normalization_of(model);
    std::printf("forecaster: readings every %lld s; lags %s; inputs per step (%d):", static_cast<long long>(f.interval_seconds),
                lags_text(f).c_str(), f.features());
    for (const std::string& name : f.input_names()) std::printf(" %s", name.c_str());
    std::printf("\n");
    for (std::size_t c = 0; c < f.covariates.size(); ++c) {
      std::printf("covariate %s: normalized with mean %.6g, scale %.6g (the data must hold this column)\n",
                  f.covariates[c].c_str(), norm.covariate_mean[c], norm.covariate_scale[c]);
    }
    if (f.base == Base::kDoubleSeasonal) {
      const DshwParameters p = DshwParameters::decode(model.texts.at("base.dshw"));
      std::printf("base: double seasonal Holt-Winters, periods %zu and %zu: alpha %.4g, beta %.4g, gamma %.4g, omega %.4g, "
                  "phi %.4g; the network forecasts its error (scale %.6g)\n",
                  f.steps_per_day(), 7 * f.steps_per_day(), p.alpha, p.beta, p.gamma, p.omega, p.phi, norm.error_scale);
    }
    SplitSpans spans;
    if (split_spans_of(model, &spans)) {
      std::printf("spans of column %s: train %s .. %s, validation %s .. %s, test %s .. %s\n", spans.value_column.c_str(),
                  format_time(spans.train.first).c_str(), format_time(spans.train.last).c_str(),
                  format_time(spans.validation.first).c_str(), format_time(spans.validation.last).c_str(),
                  format_time(spans.test.first).c_str(), format_time(spans.test.last).c_str());
    }
  }

  std::string model_path_;
  DataOptions data_;
};

}  // namespace

std::unique_ptr<Command> make_inspect_command(CLI::App& app) { return std::make_unique<InspectCommand>(app); }

}  // namespace edgelstm::cli
