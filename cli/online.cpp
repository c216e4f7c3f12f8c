// `edgelstm online`: streams the whole series reading by reading (forecast, then learn), from
// scratch or from a trained model, and reports the error week by week beside the same model
// frozen (from a trained model) and persistence.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/model_io.h"
#include "host/online_learning.h"
#include "host/output_file.h"
#include "host/report.h"
#include "host/settings.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class OnlineCommand : public Command {
 public:
  explicit OnlineCommand(CLI::App& app)
      : Command(app.add_subcommand(
            "online", "stream the whole series reading by reading: forecast, then learn, as a meter on the device "
                      "would; the weekly error beside the model frozen (no learning) and persistence")) {
    add_data_options(app_, data_);
    // Online streams every reading: the split options are refused by name, so --help does not list them.
    for (const char* split : {"--validation-days", "--test-days"}) app_->get_option(split)->group("");
    app_->add_option("--model", model_path_,
                     "start from this trained model: its features, normalization and base (default: from scratch)");
    app_->add_option("--hidden", options_.hidden, "from scratch: hidden units")
        ->capture_default_str()->check(CLI::Range(1, kMaxHidden));
    app_->add_option("--window", features_.window, "from scratch: steps per input window")
        ->capture_default_str()->check(CLI::Range(1, kMaxWindow));
    add_feature_options(app_, lags_, no_calendar_);
    app_->add_option("--feature-columns", feature_columns_,
                     "from scratch: covariate columns, each at the step forecast (normalized on the first day)");
    app_->add_option("--lr", options_.learning_rate,
                     "Adam learning rate (default: 3e-3 from scratch, 1e-4 from a trained model, which a larger one "
                     "makes worse than frozen)")
        ->check(CLI::PositiveNumber)->check(CLI::Range(0.0, 10.0));
    app_->add_option("--seed", options_.seed, "from scratch: initialization seed")->capture_default_str();
    app_->add_option("--report", report_dir_,
                     "directory to write online.csv (the weekly errors of the table), online.svg (their plot, by "
                     "gnuplot) and the plot's data and script (online.dat, online.gp)");
  }

  void run() override {
    refuse_unless(false, {"--validation-days", "--test-days"}, "train, eval and predict (online streams every reading)");
    const bool from_model = !model_path_.empty();
    refuse_unless(!from_model, {"--hidden", "--window", "--lags", "--no-calendar", "--feature-columns", "--seed"},
                  "online from scratch (a trained model's features and shape are its own)");
    if (!report_dir_.empty()) check_output_directory({"--report", report_dir_});
    if (!given("--lr")) options_.learning_rate = from_model ? kOnlineLearningRateFromModel : kOnlineLearningRateFromScratch;
    ModelFile model;
    Series series;
    SplitSpans spans;
    bool has_spans = false;
    std::int64_t interval = 0;
    if (from_model) {
      model = load_model(model_path_);
      series = load_model_series(data_, model);
      interval = features_of(model).interval_seconds;
      has_spans = split_spans_of(model, &spans) && spans.value_column == data_.value_column;
    } else {
      if (!feature_columns_.empty()) features_.covariates = parse_columns(feature_columns_);
      series = load_series(data_, features_.covariates, &interval);
      features_.interval_seconds = interval;
      features_.lags = lags_ == "auto" ? default_lags(interval, series.values.size(), 0, features_.window) : parse_lags(lags_);
      features_.calendar = !no_calendar_;
    }
    OnlineLearner learner = from_model ? OnlineLearner(model, options_) : OnlineLearner(series, features_, options_);
    std::unique_ptr<Forecaster> frozen = from_model ? std::make_unique<Forecaster>(model) : nullptr;
    const std::size_t week = 7 * steps_per_day(interval);
    bool zero_reading = false;
    for (double v : series.values) zero_reading = zero_reading || v == 0;
    const char* percent = zero_reading ? "sMAPE" : "MAPE";
    const auto percent_of = [zero_reading](const Metrics& m) { return zero_reading || !m.mape ? m.smape : *m.mape; };
    // A tenth of persistence's typical step: forecasters worth streaming are well below it.
    const int decimals = decimals_for(persistence_scale(series.values, series.values.size()) / 10);

    std::ostringstream table, csv;
    table << "| week | span | online MAE | RMSE | " << percent << " |" << (frozen ? " frozen MAE | RMSE | " + std::string(percent) + " |" : "")
          << " persistence MAE | " << percent << " |\n|---:|---|---:|---:|---:|" << (frozen ? "---:|---:|---:|" : "")
          << "---:|---:|\n";
    csv << "week_end,span,online_mae,online_rmse,online_" << percent << (frozen ? ",frozen_mae,frozen_rmse,frozen_" + std::string(percent) : "")
        << ",persistence_mae,persistence_" << percent << "\n";
    PlotSeries online_line{"edgelstm online (weekly MAE)", {}, {}}, frozen_line{"the same model frozen", {}, {}},
        persistence_line{"persistence", {}, {}};
    std::vector<double> online, still, last, actual;
    std::vector<std::int64_t> times;
    std::size_t refused = 0;
    std::printf("online: %s, %zu readings, Adam lr %g\n", from_model ? model_path_.c_str() : "from scratch",
                series.values.size(), static_cast<double>(options_.learning_rate));
    for (std::size_t t = learner.first_target(); t < series.values.size(); ++t) {
      double forecast = 0;
      if (!learner.observe(series, t, &forecast)) ++refused;
      online.push_back(forecast);
      if (frozen) still.push_back(frozen->forecast(series, t));
      last.push_back(series.values[t - 1]);
      actual.push_back(series.values[t]);
      times.push_back(series.times[t]);
      if (actual.size() < week && t + 1 != series.values.size()) continue;
      const double weeks = static_cast<double>(t + 1) / static_cast<double>(week);
      const std::string span = has_spans ? span_name(spans, TimeSpan{times.front(), times.back()}) : "-";
      const Metrics m = metrics_of(online, actual), p = metrics_of(last, actual);
      const auto cells = [&](const Metrics& x, bool with_rmse) {
        std::string out = " " + format_fixed(x.mae, decimals) + " |";
        if (with_rmse) out += " " + format_fixed(x.rmse, decimals) + " |";
        return out + " " + format_percent(percent_of(x), decimals_for(percent_of(x))) + " |";
      };
      table << "| " << format_fixed(weeks, 1) << " | " << span << " |" << cells(m, true);
      csv << format_fixed(weeks, 2) << "," << span << "," << format_fixed(m.mae, decimals + 2) << ","
          << format_fixed(m.rmse, decimals + 2) << "," << format_fixed(percent_of(m), 4);
      if (frozen) {
        const Metrics f = metrics_of(still, actual);
        table << cells(f, true);
        csv << "," << format_fixed(f.mae, decimals + 2) << "," << format_fixed(f.rmse, decimals + 2) << ","
            << format_fixed(percent_of(f), 4);
        frozen_line.x.push_back(weeks);
        frozen_line.y.push_back(f.mae);
      }
      table << cells(p, false) << "\n";
      csv << "," << format_fixed(p.mae, decimals + 2) << "," << format_fixed(percent_of(p), 4) << "\n";
      online_line.x.push_back(weeks);
      online_line.y.push_back(m.mae);
      persistence_line.x.push_back(weeks);
      persistence_line.y.push_back(p.mae);
      online.clear();
      still.clear();
      last.clear();
      actual.clear();
      times.clear();
    }
    std::printf("%s", table.str().c_str());
    if (has_spans) {
      std::printf("span: which of the model's spans the week's readings lie in (train and validation weeks are in-sample "
                  "for the frozen model)\n");
    }
    std::printf("refused steps: %zu\n", refused);
    if (!report_dir_.empty()) {
      write_file_atomically(report_dir_ + "/online.csv", csv.str());
      std::vector<PlotSeries> lines = {online_line};
      if (frozen) lines.push_back(frozen_line);
      lines.push_back(persistence_line);
      plot_lines(report_dir_, "online", "Online learning, predict then learn at each reading: weekly MAE", "week",
                 "MAE (" + data_.value_column + ")", lines);
      std::printf("wrote %s/online.csv and %s/online.svg\n", report_dir_.c_str(), report_dir_.c_str());
    }
  }

 private:
  // "train", "validation", "test", "train+validation", ... or "-" outside the model's spans.
  static std::string span_name(const SplitSpans& spans, const TimeSpan& week) {
    std::string out;
    const std::pair<const char*, const TimeSpan*> parts[] = {
        {"train", &spans.train}, {"validation", &spans.validation}, {"test", &spans.test}};
    for (const auto& [name, span] : parts) {
      if (week.overlaps(*span)) out += (out.empty() ? "" : "+") + std::string(name);
    }
    return out.empty() ? "-" : out;
  }

  DataOptions data_;
  std::string model_path_, report_dir_, lags_ = "auto", feature_columns_;
  bool no_calendar_ = false;
  FeatureConfig features_ = [] {
    FeatureConfig f;
    f.window = 6;  // the meter firmware's window: half the steps of train's default per reading
    return f;
  }();
  OnlineOptions options_;
};

}  // namespace

std::unique_ptr<Command> make_online_command(CLI::App& app) { return std::make_unique<OnlineCommand>(app); }

}  // namespace edgelstm::cli
