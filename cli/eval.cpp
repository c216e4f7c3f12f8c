// `edgelstm eval`: a forecaster's MAE, RMSE and MAPE on the test span beside the baselines, or a
// classifier's accuracy, macro-F1 and confusion matrix beside the majority class; --report writes
// Markdown and SVG plots.
#include <cstdio>
#include <sstream>

#include "cli/command.h"
#include "host/classify.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/forecast.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/report.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class EvalCommand : public Command {
 public:
  explicit EvalCommand(CLI::App& app)
      : Command(app.add_subcommand(
            "eval", "a forecaster's MAE, RMSE, MAPE, sMAPE and MASE on the test span beside the baselines (persistence, "
                    "seasonal naive of a day and of a week, persistence + last week's change, double seasonal "
                    "Holt-Winters); a classifier's accuracy and macro-F1. MAPE = 100 mean |f-y|/|y| (undefined "
                    "when a reading is 0); sMAPE = 100 mean 2|f-y|/(|f|+|y|) (0 where both are 0); MASE = MAE / "
                    "persistence's mean one-step error before the test span")) {
    add_data_options(app_, data_);
    app_->add_option("--model", model_path_, "model file")->capture_default_str();
    app_->add_option("--report", report_dir_, "directory for report.md and SVG plots (gnuplot)");
    app_->add_option("--reference-mape", reference_mape_,
                     "test MAPE (%) of the same network trained by PyTorch (tools/torch_forecast_reference.py), for the table")
        ->check(CLI::Range(0.0, 1e6));
    app_->add_flag("--allow-overlap", allow_overlap_,
                   "score a test span that overlaps the spans the model was trained or validated on (stored in "
                   "the model); the table then carries a warning. Without it, such a span is refused");
  }

  void run() override {
    if (!report_dir_.empty()) check_output_directory({"--report", report_dir_});
    const ModelFile model = load_model(model_path_);
    if (model.spec.task == Task::kClassification) {
      refuse_unless(false, {"--reference-mape", "--allow-overlap"}, "a forecaster");
      evaluate_classifier(model);
    } else {
      evaluate_forecaster(model);
    }
  }

 private:
  void evaluate_classifier(const ModelFile& model) const {
    const ClassifierData loaded = load_classifier_data(data_, model);
    const ClassData& data = loaded.classes;
    const Split& split = loaded.split;
    std::vector<int> actual;
    for (std::size_t r : split.test) actual.push_back(data.labels[r]);
    const std::vector<int> predicted = classify(model, data, split.test);
    const std::vector<int> majority(actual.size(), majority_class(data, split.train));
    const std::string table = class_report(
        data.classes, {{"edgelstm LSTM", class_metrics(predicted, actual, data.classes.size())},
                       {"majority class (" + data.classes[static_cast<std::size_t>(majority.front())] + ")",
                        class_metrics(majority, actual, data.classes.size())}});
    std::printf("test span: last %d days, %zu rows\n%s", data_.test_days, split.test.size(), table.c_str());
    if (report_dir_.empty()) return;
    std::ostringstream md;
    md << "# edgelstm classification report\n\nData: `" << data_.path << "`, label `" << data.label_name
       << "`, test span: last " << data_.test_days << " days.\n\n" << table;
    write_file_atomically(report_dir_ + "/classification.md", md.str());
    std::printf("wrote %s/classification.md\n", report_dir_.c_str());
  }

  void evaluate_forecaster(const ModelFile& model) const {
    const FeatureConfig features = features_of(model);
    const ModelData loaded = load_model_data(data_, model);
    const Series& series = loaded.series;
    const Split& split = loaded.split;
    const std::size_t day = loaded.day;
    SplitSpans trained;
    const bool has_spans = split_spans_of(model, &trained);
    const TimeSpan test{series.times[split.test.front()], series.times[split.test.back()]};
    const std::string warning =
        check_test_span(has_spans ? &trained : nullptr, test, data_.value_column, allow_overlap_, "eval");
    const std::vector<double> forecast = forecast_targets(model, series, split.test);
    std::vector<double> actual;
    for (std::size_t t : split.test) actual.push_back(series.values[t]);
    std::string name = features.base == Base::kNone ? "edgelstm LSTM" : "edgelstm LSTM correcting Holt-Winters (hybrid)";
    if (has_integer_path(model)) name += ", full-integer path";
    std::vector<MetricsRow> rows = {{name, metrics_of(forecast, actual, loaded.mase_scale), {}}};
    for (MetricsRow& row : baseline_rows(series, features.interval_seconds, split.test, loaded.mase_scale)) {
      rows.push_back(std::move(row));
    }
    std::ostringstream table;
    if (!warning.empty()) table << "**" << warning << "**\n\n";
    table << metrics_table("forecaster (test span: last " + std::to_string(data_.test_days) + " days, " +
                               std::to_string(split.test.size()) + " one-step forecasts, " + format_time(test.first) +
                               " .. " + format_time(test.last) + ")",
                           rows);
    if (reference_mape_ >= 0) {
      table << "\nPyTorch, same network, data, split, initial weights and epochs: test MAPE "
            << format_percent(reference_mape_, decimals_for(reference_mape_)) << "\n";
    }
    table << "\nMASE: MAE over persistence's mean one-step error on the " << split.test.front()
          << " readings before the test span (" << format_fixed(loaded.mase_scale, decimals_for(loaded.mase_scale))
          << "); sMAPE: 100 mean 2|f-y|/(|f|+|y|).\n";
    std::printf("%s", table.str().c_str());
    if (!report_dir_.empty()) write_report(model, features, day, table.str(), actual, forecast);
  }

  void write_report(const ModelFile& model, const FeatureConfig& features, std::size_t day, const std::string& table,
                    const std::vector<double>& actual, const std::vector<double>& forecast) const {
    PlotSeries a{"actual", {}, {}}, f{"edgelstm forecast", {}, {}};
    for (std::size_t k = 0; k < actual.size(); ++k) {
      const double days = static_cast<double>(k) / day;
      a.x.push_back(days);
      a.y.push_back(actual[k]);
      f.x.push_back(days);
      f.y.push_back(forecast[k]);
    }
    plot_lines(report_dir_, "forecast", "One-step forecast over the test span", "days into the test span",
               data_.value_column, {a, f});
    const auto record = model.texts.find("train.early_stopping");
    const std::string measure =
        record == model.texts.end() ? std::string("MAPE") : EarlyStopping::decode(record->second).measure;
    PlotSeries loss{"training loss (normalized MSE)", {}, {}}, val{"validation " + measure, {}, {}};
    const auto history = model.floats.find("train.history");
    if (history != model.floats.end()) {
      for (std::size_t k = 0; k + 2 < history->second.size(); k += 3) {
        loss.x.push_back(history->second[k]);
        loss.y.push_back(history->second[k + 1]);
        val.x.push_back(history->second[k]);
        val.y.push_back(history->second[k + 2]);
      }
    }
    plot_lines(report_dir_, "learning_curve_loss", "Learning curve: training loss", "epoch", "loss", {loss});
    plot_lines(report_dir_, "learning_curve_validation", "Learning curve: validation " + measure, "epoch", measure, {val});
    std::ostringstream md;
    md << "# edgelstm forecasting report\n\nData: `" << data_.path << "`, column `" << data_.value_column
       << "`. Model: " << static_cast<int>(model.spec.num_layers) << " x " << model.spec.hidden_size[0]
       << " LSTM, window " << model.spec.window << ", features `" << features.encode() << "`.\n\n"
       << table << "\n![forecast vs actual](forecast.svg)\n\n"
       << "![training loss](learning_curve_loss.svg)\n\n![validation " << measure << "](learning_curve_validation.svg)\n\n"
       << "Online learning (if `edgelstm online --report` wrote it): ![rolling error](online.svg)\n\n"
       << "Classification (if `edgelstm eval` of a classifier wrote it): [classification.md](classification.md)\n\n"
       << "Weight quantization (if `edgelstm quantize --study` wrote it): [quantization.md](quantization.md)\n";
    write_file_atomically(report_dir_ + "/report.md", md.str());
    std::printf("wrote %s/report.md\n", report_dir_.c_str());
  }

  DataOptions data_;
  std::string model_path_ = "model.elstm", report_dir_;
  double reference_mape_ = -1;
  bool allow_overlap_ = false;
};

}  // namespace

std::unique_ptr<Command> make_eval_command(CLI::App& app) { return std::make_unique<EvalCommand>(app); }

}  // namespace edgelstm::cli
