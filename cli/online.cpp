// `edgelstm online`: streams the whole series reading by reading (forecast, then learn), from
// scratch or from a trained model, and reports the error week by week beside persistence.
#include <cmath>
#include <cstdio>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/model_io.h"
#include "host/online_learning.h"
#include "host/report.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class OnlineCommand : public Command {
 public:
  explicit OnlineCommand(CLI::App& app)
      : Command(app.add_subcommand(
            "online", "stream the whole series reading by reading: forecast, then learn, as a meter on the device would")) {
    add_data_options(app_, data_);
    app_->add_option("--model", model_path_, "start from this trained model (default: from scratch)");
    app_->add_option("--hidden", options_.hidden, "hidden units when starting from scratch")->capture_default_str();
    app_->add_option("--lr", options_.learning_rate, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app_->add_option("--report", report_dir_, "directory for the rolling-error plot (online.svg) and CSV");
  }

  void run() override {
    std::int64_t interval = 0;
    const Series series = load_series(data_, &interval);
    FeatureConfig features;
    features.window = 6;
    features.interval_seconds = interval;
    OnlineLearner learner = model_path_.empty() ? OnlineLearner(series, features, options_)
                                                : OnlineLearner(load_model(model_path_), options_);
    const std::size_t week = 7 * steps_per_day(interval);
    PlotSeries lstm{"edgelstm online (weekly MAPE)", {}, {}}, pers{"persistence (weekly MAPE)", {}, {}};
    double sum = 0, sum_persistence = 0;
    std::size_t count = 0, refused = 0;
    std::printf("online: %s, %zu readings\n", model_path_.empty() ? "from scratch" : model_path_.c_str(),
                series.values.size());
    for (std::size_t t = learner.first_target(); t < series.values.size(); ++t) {
      double forecast = 0;
      if (!learner.observe(series, t, &forecast)) {
        ++refused;
        continue;
      }
      const double actual = series.values[t];
      sum += 100.0 * std::fabs(forecast - actual) / std::fabs(actual);
      sum_persistence += 100.0 * std::fabs(series.values[t - 1] - actual) / std::fabs(actual);
      if (++count == week || t + 1 == series.values.size()) {
        const double weeks = static_cast<double>(t + 1) / week;
        std::printf("week %5.1f  MAPE %.3f%%  (persistence %.3f%%)\n", weeks, sum / count, sum_persistence / count);
        lstm.x.push_back(weeks);
        lstm.y.push_back(sum / count);
        pers.x.push_back(weeks);
        pers.y.push_back(sum_persistence / count);
        sum = sum_persistence = 0;
        count = 0;
      }
    }
    std::printf("refused steps: %zu\n", refused);
    if (!report_dir_.empty()) {
      ensure_directory(report_dir_);
      plot_lines(report_dir_, "online", "Online learning, predict then learn at each reading", "week", "MAPE %",
                 {lstm, pers});
      std::printf("wrote %s/online.svg\n", report_dir_.c_str());
    }
  }

 private:
  DataOptions data_;
  std::string model_path_, report_dir_;
  OnlineOptions options_;
};

}  // namespace

std::unique_ptr<Command> make_online_command(CLI::App& app) { return std::make_unique<OnlineCommand>(app); }

}  // namespace edgelstm::cli
