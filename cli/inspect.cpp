// `edgelstm inspect MODEL`: shape, parameter count, weight format, file size and the arena bytes a
// device needs for inference and training.
#include <cstdio>

#include "cli/command.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/quantized_forecaster.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class InspectCommand : public Command {
 public:
  explicit InspectCommand(CLI::App& app)
      : Command(app.add_subcommand("inspect", "shape, parameter count, bytes needed on a device")) {
    app_->add_option("model", model_path_, "model file")->required();
  }

  void run() override {
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
    for (const auto& [name, text] : model.texts) std::printf("%s: %s\n", name.c_str(), text.c_str());
    for (const auto& [name, values] : model.floats) std::printf("%s: %zu values\n", name.c_str(), values.size());
    if (has_integer_path(model)) {
      std::printf("full-integer path: int8 weights, int16 activations; %zu bytes of weights and constants, arena %zu\n",
                  integer_device_bytes(s), integer_inference_bytes(s));
    }
  }

 private:
  std::string model_path_ = "model.elstm";
};

}  // namespace

std::unique_ptr<Command> make_inspect_command(CLI::App& app) { return std::make_unique<InspectCommand>(app); }

}  // namespace edgelstm::cli
