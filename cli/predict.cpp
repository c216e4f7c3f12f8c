// `edgelstm predict`: the test span's one-step forecasts to CSV (timestamp, actual, forecast).
#include <cstdio>
#include <ctime>
#include <fstream>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"

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
  }

  void run() override {
    const ModelFile model = load_model(model_path_);
    const ModelData loaded = load_model_data(data_, features_of(model));
    const std::vector<std::size_t>& test = loaded.split.test;
    const std::vector<double> forecast = forecast_targets(model, loaded.series, test);
    std::ofstream out(out_);
    out << "timestamp,actual,forecast\n";
    for (std::size_t k = 0; k < test.size(); ++k) {
      const std::time_t when = static_cast<std::time_t>(loaded.series.times[test[k]]);
      std::tm utc{};
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime_r(&when, &utc));
      out << stamp << "," << loaded.series.values[test[k]] << "," << forecast[k] << "\n";
    }
    if (!out) throw InputError(out_ + ": cannot write");
    std::printf("wrote %zu forecasts to %s\n", test.size(), out_.c_str());
  }

 private:
  DataOptions data_;
  std::string model_path_ = "model.elstm", out_ = "forecasts.csv";
};

}  // namespace

std::unique_ptr<Command> make_predict_command(CLI::App& app) { return std::make_unique<PredictCommand>(app); }

}  // namespace edgelstm::cli
