// `edgelstm train`: a one-step forecaster (--task forecast) or a sequence classifier (--task
// classify), with early stopping on the validation span; writes the model file atomically.
#include <cstdio>

#include "cli/command.h"
#include "host/classify.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/forecast.h"
#include "host/model_io.h"

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
    c->add_option("--feature-columns", feature_columns_, "classify: comma-separated numeric input columns");
    c->add_option("--label-column", label_column_, "classify: the column of class labels");
    c->add_option("--model", model_path_, "model file to write (atomically)")->capture_default_str();
    c->add_option("--hidden", options_.hidden, "hidden units per layer")->capture_default_str()->check(CLI::Range(1, 1024));
    c->add_option("--layers", options_.layers, "stacked LSTM layers")->capture_default_str()->check(CLI::Range(1, 4));
    c->add_option("--window", features_.window, "steps per input window")->capture_default_str()->check(CLI::Range(1, 1024));
    c->add_option("--lags", lags_, "lag features, in steps before the forecast step (e.g. 48,336)")->capture_default_str();
    c->add_flag("--no-calendar", no_calendar_, "no time-of-day / day-of-week features");
    c->add_option("--optimizer", optimizer_, "sgd, momentum or adam")
        ->capture_default_str()->check(CLI::IsMember({"sgd", "momentum", "adam"}));
    c->add_option("--lr", options_.learning_rate, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    c->add_option("--epochs", options_.epochs, "maximum epochs")->capture_default_str()->check(CLI::Range(1, 100000));
    c->add_option("--patience", options_.patience, "stop after this many epochs without a better validation MAPE")
        ->capture_default_str()->check(CLI::Range(1, 100000));
    c->add_option("--seed", options_.seed, "seed for initialization and shuffling")->capture_default_str();
    c->add_option("--save-initial", save_initial_, "forecast: also write the untrained, initialized model here");
    c->add_option("--export-dataset", export_dataset_,
                  "forecast: write the normalized windows of every split here (for tools/torch_forecast_reference.py)");
  }

  void run() override {
    options_.optimizer = parse_optimizer(optimizer_);
    if (task_ == "classify") {
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
      std::printf("epoch %3d  loss %.4f  validation error %.2f%%  %.1f s\n", r.epoch, r.train_loss, r.validation_mape,
                  r.seconds);
      std::fflush(stdout);
    });
    save_model(model, model_path_);
    std::printf("wrote %s\n", model_path_.c_str());
  }

  void train_forecaster_model() {
    std::int64_t interval = 0;
    const Series series = load_series(data_, &interval);
    features_.lags = parse_lags(lags_);
    features_.calendar = !no_calendar_;
    features_.interval_seconds = interval;
    const std::size_t day = steps_per_day(interval);
    const Split split = chronological_split(series, features_, data_.validation_days * day, data_.test_days * day);
    if (!export_dataset_.empty()) {
      ensure_directory(export_dataset_);
      export_dataset(series, features_, split, fit_normalization(series, split), export_dataset_);
    }
    if (!save_initial_.empty()) options_.on_initialized = [this](const ModelFile& m) { save_model(m, save_initial_); };
    std::printf("train: %zu windows, validation %zu, test %zu (held out); LSTM %d x %d, window %d, %d features\n",
                split.train.size(), split.validation.size(), split.test.size(), options_.layers, options_.hidden,
                features_.window, features_.features());
    const ModelFile model = train_forecaster(series, features_, split, options_, [](const EpochReport& r) {
      std::printf("epoch %3d  loss %.5f  validation MAPE %.3f%%  %.1f s\n", r.epoch, r.train_loss, r.validation_mape,
                  r.seconds);
      std::fflush(stdout);
    });
    save_model(model, model_path_);
    std::printf("wrote %s\n", model_path_.c_str());
  }

  DataOptions data_;
  TrainOptions options_;
  FeatureConfig features_;
  std::string model_path_ = "model.elstm", lags_ = "48,336", optimizer_ = "adam";
  bool no_calendar_ = false;
  std::string task_ = "forecast", feature_columns_, label_column_;
  std::string save_initial_, export_dataset_;
};

}  // namespace

std::unique_ptr<Command> make_train_command(CLI::App& app) { return std::make_unique<TrainCommand>(app); }

}  // namespace edgelstm::cli
