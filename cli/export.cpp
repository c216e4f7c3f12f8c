// `edgelstm export`: the model as a C++ header for a firmware — float parameters with a constexpr
// spec (c-header), or the model file itself as bytes bound in place (model-bytes).
#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/model_export.h"
#include "host/output_file.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class ExportCommand : public Command {
 public:
  explicit ExportCommand(CLI::App& app) : Command(app.add_subcommand("export", "the model as const arrays for flash")) {
    CLI::App* c = app_;
    c->add_option("--model", model_path_, "model file")->capture_default_str();
    c->add_option("--format", format_,
                  "c-header: float parameters as arrays; model-bytes: the model file itself as a byte array "
                  "(read_model + bind in place; any weight format)")
        ->capture_default_str()->check(CLI::IsMember({"c-header", "model-bytes"}));
    c->add_option("--out", out_, "header to write")->capture_default_str();
    c->add_option("--name", name_, "C++ name prefix: a C identifier (letters, digits, _)")->capture_default_str();
    c->add_option("--replay-data", replay_data_.path,
                  "model-bytes of an integer model: also the quantized input stream of the test span's first "
                  "--replay-steps readings and the outputs the host computes for it")
        ->check(CLI::ExistingFile);
    c->add_option("--replay-steps", replay_steps_, "readings in the replay")
        ->capture_default_str()->check(CLI::Range(1, 1000000));
  }

  void run() override {
    refuse_unless(format_ == "model-bytes", {"--replay-data", "--replay-steps"}, "--format model-bytes");
    if (given("--replay-steps") && replay_data_.path.empty()) throw InputError("export: --replay-steps needs --replay-data");
    check_output_file({"--out", out_}, {{"--model", model_path_}, {"--replay-data", replay_data_.path}});
    if (format_ == "model-bytes") {
      export_model_bytes(model_path_, out_, name_, replay_data_, replay_steps_);
    } else {
      export_c_header(model_path_, out_, name_);
    }
  }

 private:
  std::string model_path_ = "model.elstm", out_ = "model.h", format_ = "c-header", name_ = "kModel";
  DataOptions replay_data_;
  int replay_steps_ = 336;
};

}  // namespace

std::unique_ptr<Command> make_export_command(CLI::App& app) { return std::make_unique<ExportCommand>(app); }

}  // namespace edgelstm::cli
