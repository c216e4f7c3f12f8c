// `edgelstm predict`: the test span's one-step forecasts to CSV (timestamp, actual, forecast), and
// their error in one line.
#include <cstdio>
#include <sstream>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class PredictCommand : public Command {
 public:
  explicit PredictCommand(CLI::App& app)
      : Command(app.add_subcommand("predict", "one-step forecasts of the test span to CSV")) {
    add_data_options(app_, data_);
    app_->add_option("--model", model_path_, "model file")->capture_default_str();
    app_->add_option("--out", out_, "CSV to write: timestamp,actual,forecast")->capture_default_str();
    app_->add_flag("--allow-overlap", allow_overlap_,
                   "forecast a test span that overlaps the spans the model was trained or validated on (refused "
                   "without it)");
  }

  void run() override {
    check_output_file({"--out", out_}, {{"--data", data_.path}, {"--model", model_path_}});
    const ModelFile model = load_model(model_path_);
    const ModelData loaded = load_model_data(data_, model);
    const std::vector<std::size_t>& test = loaded.split.test;
    const Series& series = loaded.series;
    SplitSpans trained;
    const bool has_spans = split_spans_of(model, &trained);
    const std::string warning = check_test_span(has_spans ? &trained : nullptr,
                                                TimeSpan{series.times[test.front()], series.times[test.back()]},
                                                data_.value_column, allow_overlap_, "predict");
    if (!warning.empty()) std::printf("%s\n", warning.c_str());
    const std::vector<double> forecast = forecast_targets(model, series, test);
    // Two more decimals than persistence's typical step needs: every digit that means something.
    const int decimals = decimals_for(loaded.mase_scale) + 2;
    std::ostringstream out;
    out << "timestamp,actual,forecast\n";
    std::vector<double> actual;
    for (std::size_t k = 0; k < test.size(); ++k) {
      actual.push_back(series.values[test[k]]);
      out << format_time(series.times[test[k]]) << "," << format_fixed(actual.back(), decimals) << ","
          << format_fixed(forecast[k], decimals) << "\n";
    }
    write_file_atomically(out_, out.str());
    const Metrics m = metrics_of(forecast, actual, loaded.mase_scale);
    std::printf("wrote %zu forecasts to %s (%s .. %s); %s\n", test.size(), out_.c_str(),
                format_time(series.times[test.front()]).c_str(), format_time(series.times[test.back()]).c_str(),
                metrics_summary(m, decimals_for(m.mae)).c_str());
  }

 private:
  DataOptions data_;
  std::string model_path_ = "model.elstm", out_ = "forecasts.csv";
  bool allow_overlap_ = false;
};

}  // namespace

std::unique_ptr<Command> make_predict_command(CLI::App& app) { return std::make_unique<PredictCommand>(app); }

}  // namespace edgelstm::cli
