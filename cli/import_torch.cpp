// `edgelstm import-torch`: PyTorch nn.LSTM module(s) in sequence + an nn.Linear head, under any
// names, dumped by tools/export_torch_state_dict.py, into a model file.
#include <cstdio>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/forecast.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/settings.h"
#include "host/torch_import.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class ImportTorchCommand : public Command {
 public:
  explicit ImportTorchCommand(CLI::App& app)
      : Command(app.add_subcommand(
            "import-torch",
            "PyTorch nn.LSTM module(s) applied in sequence (up to 4 layers in all) and an nn.Linear head, with "
            "any module names, dumped by tools/export_torch_state_dict.py (which finds them, or takes "
            "--lstm-prefix A,B and --head-prefix H), into a model file")) {
    CLI::App* c = app_;
    c->add_option("--dump", dump_, "the exporter's output")->required()->check(CLI::ExistingFile);
    c->add_option("--out", out_, "model file to write")->capture_default_str();
    c->add_option("--window", window_, "time steps per window")->capture_default_str()->check(CLI::Range(1, kMaxWindow));
    c->add_option("--task", task_, "forecast or classify")->capture_default_str()->check(CLI::IsMember({"forecast", "classify"}));
    c->add_flag("--every-step", every_step_, "the head runs at every step (default: last step only)");
    c->add_option("--features", features_,
                  "forecast: the feature settings the network was trained with, e.g. "
                  "'window=12;lags=48,336;calendar=1;interval=1800' (makes the model usable by eval/predict)");
    c->add_option("--norm-mean", mean_, "forecast: the value normalization's mean");
    c->add_option("--norm-scale", scale_, "forecast: the value normalization's scale (> 0)");
  }

  void run() override {
    refuse_unless(task_ == "forecast", {"--features", "--norm-mean", "--norm-scale"}, "--task forecast");
    if (features_.empty() && (given("--norm-mean") || given("--norm-scale"))) {
      throw InputError("import-torch: --norm-mean and --norm-scale go with --features");
    }
    check_output_file({"--out", out_}, {{"--dump", dump_}});
    ModelFile model = import_torch_dump(dump_, static_cast<std::uint16_t>(window_),
                                        task_ == "classify" ? Task::kClassification : Task::kRegression,
                                        every_step_ ? OutputMode::kEveryStep : OutputMode::kLastStep);
    if (!features_.empty()) {
      const FeatureConfig config = FeatureConfig::decode(features_);
      if (config.features() != model.spec.input_size || config.window != window_) {
        throw InputError("--features describe " + std::to_string(config.features()) + " inputs and a window of " +
                         std::to_string(config.window) + "; the network has " + std::to_string(model.spec.input_size) +
                         " inputs and --window " + std::to_string(window_));
      }
      if (!given("--norm-mean") || !given("--norm-scale")) throw InputError("--features needs --norm-mean and --norm-scale");
      check_normalization(mean_, scale_, "--norm-mean, --norm-scale");
      model.texts["meta.features"] = features_;
      model.floats["norm.value"] = {static_cast<float>(mean_), static_cast<float>(scale_)};
    }
    save_model(model, out_);
    std::printf("wrote %s (%zu parameters)\n", out_.c_str(), model.parameters.size());
  }

 private:
  std::string dump_, out_ = "model.elstm", task_ = "forecast", features_;
  int window_ = 12;
  bool every_step_ = false;
  double mean_ = 0, scale_ = 0;
};

}  // namespace

std::unique_ptr<Command> make_import_torch_command(CLI::App& app) { return std::make_unique<ImportTorchCommand>(app); }

}  // namespace edgelstm::cli
