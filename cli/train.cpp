// `edgelstm train`: a one-step forecaster (--task forecast) or a sequence classifier (--task
// classify), with early stopping on the validation span; writes the model file atomically, and
// refuses to write one that never improved on its initial weights unless asked to.
#include <cstdio>

#include "cli/command.h"
#include "host/classify.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/forecast.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/settings.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class TrainCommand : public Command {
 public:
  explicit TrainCommand(CLI::App& app)
      : Command(app.add_subcommand("train", "train a forecaster (or a classifier); writes a model file")) {
    CLI::App* c = app_;
    add_data_options(c, data_);
    c->add_option("--task", task_, "forecast: the next value of --value-column; classify: the class in --label-column "
                                   "from the previous --window rows of --feature-columns")
        ->capture_default_str()->check(CLI::IsMember({"forecast", "classify"}));
    c->add_option("--feature-columns", feature_columns_,
                  "comma-separated numeric input columns. forecast: covariates beside the value (e.g. temperature), "
                  "each taken at the step forecast, normalized on the training span and stored in the model (eval, "
                  "predict, online and export then need them); classify: the inputs");
    c->add_option("--label-column", label_column_, "classify: the column of class labels");
    c->add_option("--model", model_path_, "model file to write (atomically)")->capture_default_str();
    c->add_option("--hidden", options_.hidden, "hidden units per layer")->capture_default_str()->check(CLI::Range(1, kMaxHidden));
    c->add_option("--layers", options_.layers, "stacked LSTM layers")->capture_default_str()->check(CLI::Range(1, kMaxTrainedLayers));
    c->add_option("--window", features_.window, "steps per input window")->capture_default_str()->check(CLI::Range(1, kMaxWindow));
    add_feature_options(c, lags_, no_calendar_);
    c->add_option("--base", base_,
                  "forecast: what the LSTM corrects. dshw: double seasonal Holt-Winters (periods one day and one week, "
                  "fitted on the training span; the LSTM learns its one-step error); none: the LSTM forecasts the "
                  "value itself; auto: dshw when it applies (readings several a day, all > 0 in the training span) "
                  "and beats persistence on the validation span, else none")
        ->capture_default_str()->check(CLI::IsMember({"auto", "dshw", "none"}));
    c->add_option("--early-stopping", early_stopping_,
                  "forecast: what early stopping minimizes on the validation span: mae, rmse (units of the series; "
                  "defined at zero), smape (100 mean 2|f-y|/(|f|+|y|), 0 where both are 0) or mape (undefined when a "
                  "reading is 0)")
        ->capture_default_str()->check(CLI::IsMember({"mae", "rmse", "mape", "smape"}));
    c->add_flag("--allow-untrained", allow_untrained_,
                "write the model even when no epoch improved on the initial weights' validation score (otherwise "
                "that is an error and nothing is written)");
    c->add_option("--optimizer", optimizer_, "sgd, momentum or adam")
        ->capture_default_str()->check(CLI::IsMember({"sgd", "momentum", "adam"}));
    c->add_option("--lr", options_.learning_rate, "learning rate")
        ->capture_default_str()->check(CLI::PositiveNumber)->check(CLI::Range(0.0, 10.0));
    c->add_option("--epochs", options_.epochs, "maximum epochs")->capture_default_str()->check(CLI::Range(1, 100000));
    c->add_option("--patience", options_.patience, "stop after this many epochs without a better validation score")
        ->capture_default_str()->check(CLI::Range(1, 100000));
    c->add_option("--seed", options_.seed, "seed for initialization and shuffling (0 .. 2^64 - 1)")
        ->capture_default_str()->check(unsigned_integer());
    c->add_option("--save-initial", save_initial_, "forecast: also write the untrained, initialized model here");
    c->add_option("--export-dataset", export_dataset_,
                  "forecast: write the normalized windows of every split here (for tools/torch_forecast_reference.py)");
  }

  void run() override {
    options_.optimizer = parse_optimizer(optimizer_);
    const bool classify = task_ == "classify";
    refuse_unless(!classify, {"--lags", "--no-calendar", "--base", "--early-stopping", "--save-initial", "--export-dataset"},
                  "--task forecast");
    refuse_unless(classify, {"--label-column"}, "--task classify");
    // Every output is checked before the (possibly long) training, not after it.
    const std::vector<NamedPath> inputs = {{"--data", data_.path}};
    check_output_file({"--model", model_path_}, inputs);
    if (!save_initial_.empty()) {
      check_output_file({"--save-initial", save_initial_}, {{"--data", data_.path}, {"--model", model_path_}});
      check_distinct_outputs({"--save-initial", save_initial_}, {"--model", model_path_});
    }
    if (!export_dataset_.empty()) check_output_directory({"--export-dataset", export_dataset_});
    if (classify) {
      train_classifier_model();
    } else {
      train_forecaster_model();
    }
  }

 private:
  void train_classifier_model() {
    if (feature_columns_.empty() || label_column_.empty()) {
      throw InputError("--task classify needs --feature-columns and --label-column");
    }
    const ClassData data = read_class_data(data_.path, data_.time_column, parse_columns(feature_columns_), label_column_);
    const Split split = class_split_days(data, features_.window, data_);
    std::printf("train: classify %zu classes from %zu features over %d rows; %zu windows, validation %zu, test %zu\n",
                data.classes.size(), data.feature_names.size(), features_.window, split.train.size(),
                split.validation.size(), split.test.size());
    const ModelFile model = train_classifier(data, features_.window, split, options_, [](const EpochReport& r) {
      std::printf("epoch %3d  loss %.4f  validation error %.2f%%  %.1f s\n", r.epoch, r.train_loss, r.validation_error,
                  r.seconds);
      std::fflush(stdout);
    });
    save_if_learned(model);
  }

  void train_forecaster_model() {
    std::int64_t interval = 0;
    if (!feature_columns_.empty()) features_.covariates = parse_columns(feature_columns_);
    const Series series = load_series(data_, features_.covariates, &interval);
    features_.interval_seconds = interval;
    const std::size_t day = steps_per_day(interval);
    const std::size_t validation = data_.validation_days * day, test = data_.test_days * day;
    const bool default_lags_used = lags_ == "auto";
    features_.lags = default_lags_used ? default_lags(interval, series.values.size(), validation + test, features_.window)
                                       : parse_lags(lags_);
    features_.calendar = !no_calendar_;
    check_feature_config(features_);
    options_.early_stopping = parse_score(early_stopping_);
    std::string base_reason = "none (--base none)";
    if (base_ == "dshw") {
      features_.base = Base::kDoubleSeasonal;
      base_reason = "double seasonal Holt-Winters (--base dshw, fitted on the training span): the network learns its error";
    } else if (base_ == "auto") {
      features_.base = choose_base(series, features_, chronological_split(series, features_, validation, test), &base_reason);
    }
    const Split split = chronological_split(series, features_, validation, test);
    if (features_.base == Base::kDoubleSeasonal) {
      const std::vector<double> fitted(series.values.begin(), series.values.begin() + static_cast<std::ptrdiff_t>(split.train.back() + 1));
      if (!all_positive(fitted)) {
        throw InputError("--base dshw: the training span holds readings <= 0, and double seasonal Holt-Winters is "
                         "multiplicative; use --base none");
      }
    }
    if (!save_initial_.empty() || !export_dataset_.empty()) {
      options_.on_initialized = [&](const ModelFile& initial) {
        if (!save_initial_.empty()) save_model(initial, save_initial_);
        if (!export_dataset_.empty()) {
          ensure_directory(export_dataset_);
          Series prepared = series;
          attach_base(prepared, features_, initial);
          export_dataset(prepared, features_, split, normalization_of(initial), export_dataset_);
        }
      };
    }
    std::printf("train: readings every %lld s (%zu a day); lags", static_cast<long long>(interval), day);
    for (int lag : features_.lags) std::printf(" %d", lag);
    std::printf("%s%s%s\n", features_.lags.empty() ? " none" : "", default_lags_used ? " (the defaults for this interval)" : "",
                features_.calendar ? "; calendar" : "");
    if (!features_.covariates.empty()) std::printf("covariates: %s\n", feature_columns_.c_str());
    std::printf("base: %s\n", base_reason.c_str());
    std::printf("%zu windows, validation %zu, test %zu (held out); LSTM %d x %d, window %d, %d features; early stopping on "
                "validation %s\n",
                split.train.size(), split.validation.size(), split.test.size(), options_.layers, options_.hidden,
                features_.window, features_.features(), score_name(options_.early_stopping));
    const char* measure = score_name(options_.early_stopping);
    const bool percent = options_.early_stopping == Score::kMape || options_.early_stopping == Score::kSmape;
    const ModelFile model = train_forecaster(
        series, features_, split, options_,
        [measure, percent](const EpochReport& r) {
          std::printf("epoch %3d  loss %.5f  validation %s %s%s  %.1f s\n", r.epoch, r.train_loss, measure,
                      format_fixed(r.validation_error, decimals_for(r.validation_error)).c_str(), percent ? "%" : "",
                      r.seconds);
          std::fflush(stdout);
        },
        data_.value_column);
    save_if_learned(model);
  }

  // Writes the model when early stopping kept an epoch's weights; an untrained model is an error
  // unless --allow-untrained.
  void save_if_learned(const ModelFile& model) {
    const EarlyStopping chosen = EarlyStopping::decode(model.texts.at("train.early_stopping"));
    const auto value = [](double v) { return format_fixed(v, decimals_for(v)); };
    if (chosen.chosen_epoch == 0) {
      const std::string what = "no epoch of " + std::to_string(chosen.epochs_run) + " improved on the initial weights' " +
                               chosen.measure + " on the validation span (" + value(chosen.initial_validation_error) + ")";
      if (!allow_untrained_) {
        throw InputError("train: " + what + ": the model did not learn, nothing written to " + model_path_ +
                         ". Try another --lr, more --epochs or --patience, another --early-stopping measure, or "
                         "--allow-untrained to write the initial weights anyway");
      }
      std::printf("warning: %s; writing the initial weights (--allow-untrained)\n", what.c_str());
    } else {
      std::printf("kept epoch %d of %d: validation %s %s (initial weights: %s)\n", chosen.chosen_epoch, chosen.epochs_run,
                  chosen.measure.c_str(), value(chosen.validation_error).c_str(),
                  value(chosen.initial_validation_error).c_str());
    }
    save_model(model, model_path_);
    std::printf("wrote %s\n", model_path_.c_str());
  }

  DataOptions data_;
  TrainOptions options_;
  FeatureConfig features_;
  std::string model_path_ = "model.elstm", lags_ = "auto", optimizer_ = "adam", base_ = "auto", early_stopping_ = "mae";
  bool no_calendar_ = false, allow_untrained_ = false;
  std::string task_ = "forecast", feature_columns_, label_column_;
  std::string save_initial_, export_dataset_;
};

}  // namespace

std::unique_ptr<Command> make_train_command(CLI::App& app) { return std::make_unique<TrainCommand>(app); }

}  // namespace edgelstm::cli
