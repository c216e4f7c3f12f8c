// `edgelstm quantize`: a model file with integer weights (--bits, --granularity, optionally after
// quantization-aware fine-tuning: --qat-epochs), with the full-integer path (--integer), or the
// study of every variant (--study).
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "host/classify.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/forecast.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/quantization_study.h"
#include "host/quantized_forecaster.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::host;

class QuantizeCommand : public Command {
 public:
  explicit QuantizeCommand(CLI::App& app);
  // Runs the chosen mode; InputError for bad input or options that do not apply to it.
  void run() override;

 private:
  void write_quantized();
  void write_integer();

  DataOptions data_;
  std::string model_path_ = "model.elstm", out_, granularity_ = "row";
  int bits_ = 8;
  bool study_ = false, integer_ = false;
  StudyOptions study_options_;
};


QuantizeCommand::QuantizeCommand(CLI::App& app)
    : Command(app.add_subcommand(
      "quantize",
      "write a model with int16/int8/int4 weights (--bits, --granularity, --out; --qat-epochs fine-tunes first), "
      "or with the full-integer path (--integer --data --out), or compare them all (--study)")) {
  CLI::App* q = app_;
  q->add_option("--model", model_path_, "a float model made by `edgelstm train`")->capture_default_str();
  q->add_option("--data", data_.path, "the model's CSV file (--study, --integer, --qat-epochs)")->check(CLI::ExistingFile);
  q->add_option("--time-column", data_.time_column, "its timestamp column")->capture_default_str();
  q->add_option("--value-column", data_.value_column, "a forecaster's value column")->capture_default_str();
  q->add_option("--validation-days", data_.validation_days, "the model's validation days (as in its training)")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  q->add_option("--test-days", data_.test_days, "the model's test days (as in its training)")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  q->add_option("--bits", bits_, "16, 8 or 4 bits per weight")->capture_default_str()->check(CLI::IsMember({16, 8, 4}));
  q->add_option("--granularity", granularity_, "one scale per tensor or per row")
      ->capture_default_str()->check(CLI::IsMember({"tensor", "row"}));
  q->add_option("--out", out_, "the model file to write (--bits or --integer)");
  q->add_option("--qat-epochs", study_options_.qat_epochs,
                "quantization-aware fine-tuning: at most this many epochs (--bits: before writing --out; --study: "
                "per variant, 0 for post-training quantization only)")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  q->add_option("--qat-lr", study_options_.qat_learning_rate, "learning rate of the quantization-aware fine-tuning")
      ->capture_default_str()->check(CLI::PositiveNumber)->check(CLI::Range(0.0, 10.0));
  q->add_flag("--integer", integer_, "int8 weights plus the full-integer path (int16 activations), calibrated on "
                                     "--data's training span");
  q->add_flag("--study", study_, "evaluate every format and granularity, post-training and quantization-aware");
  StudyOptions& s = study_options_;
  s.classifier_data.time_column = "date";
  s.classifier_data.validation_days = 180;
  s.classifier_data.test_days = 365;
  s.costs_path = "bench/mcu/step_costs.csv";
  q->add_option("--classifier", s.classifier_path, "--study: also a float classifier (train --task classify)");
  q->add_option("--classifier-data", s.classifier_data.path, "--study: the classifier's CSV file")->check(CLI::ExistingFile);
  q->add_option("--classifier-time-column", s.classifier_data.time_column, "--study: its timestamp column")
      ->capture_default_str();
  q->add_option("--classifier-validation-days", s.classifier_data.validation_days,
                "--study: the classifier's validation days (as in its training)")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  q->add_option("--classifier-test-days", s.classifier_data.test_days, "--study: the classifier's test days (as in its training)")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  q->add_option("--costs", s.costs_path, "--study: instruction counts per step (bench/mcu/cost_table.py --csv)")
      ->capture_default_str();
  q->add_option("--report", s.report_dir, "--study: directory for quantization.md and its plots");
}

void QuantizeCommand::run() {
  if (study_ && integer_) throw InputError("quantize: choose one of --study and --integer");
  refuse_unless(study_, {"--classifier", "--classifier-data", "--classifier-time-column", "--classifier-validation-days",
                         "--classifier-test-days", "--costs", "--report"},
                "--study");
  refuse_unless(!study_ && !integer_, {"--bits", "--granularity"}, "writing a weight-only model (without --study or --integer)");
  refuse_unless(!integer_, {"--qat-epochs", "--qat-lr"}, "--study and --bits (the integer path is calibrated, not fine-tuned)");
  refuse_unless(!study_, {"--out"}, "--bits and --integer");
  if (!study_ && given("--qat-lr") && !given("--qat-epochs")) throw InputError("quantize: --qat-lr needs --qat-epochs");
  if (!out_.empty()) {
    check_output_file({"--out", out_}, {{"--model", model_path_}, {"--data", data_.path}});
  }
  if (study_ && !study_options_.report_dir.empty()) check_output_directory({"--report", study_options_.report_dir});
  if (study_) {
    if (data_.path.empty()) throw InputError("quantize --study needs --data");
    StudyOptions& s = study_options_;
    if (!s.classifier_path.empty() && s.classifier_data.path.empty()) throw InputError("--classifier needs --classifier-data");
    if (s.classifier_path.empty() && !s.classifier_data.path.empty()) throw InputError("--classifier-data needs --classifier");
    // The default counts file is optional (the study prints "-" without it); a given one must exist.
    if (::access(s.costs_path.c_str(), R_OK) != 0 && !given("--costs")) s.costs_path.clear();
    s.model_path = model_path_;
    s.data = data_;
    run_quantization_study(s);
  } else if (integer_) {
    write_integer();
  } else {
    write_quantized();
  }
}

void QuantizeCommand::write_integer() {
  if (out_.empty() || data_.path.empty()) throw InputError("quantize --integer needs --data and --out");
  const ModelFile model = load_model(model_path_);
  const ModelData loaded = load_model_data(data_, model);
  const Split& split = loaded.split;
  IntegerRanges ranges;
  const IntegerCalibration calibration = calibrate_integer(model, loaded.series, split, &ranges);
  const ModelFile integer = to_integer_model(model, calibration);
  save_model(integer, out_);
  std::printf("calibrated on %zu training windows: max |input| %.3f -> input scale %.3g; max |c|", split.train.size(),
              ranges.input, static_cast<double>(calibration.input_scale));
  for (std::size_t l = 0; l < model.spec.num_layers; ++l) {
    std::printf(" %.3f (Q%d)", ranges.cell[l], static_cast<int>(calibration.cell_fraction_bits[l]));
  }
  std::printf("\nwrote %s: int8 weights with the full-integer path, %zu bytes (%zu on a device; float file %zu)\n",
              out_.c_str(), serialize_model(integer).size(), integer_device_bytes(model.spec), serialize_model(model).size());
}

void QuantizeCommand::write_quantized() {
  if (out_.empty()) throw InputError("quantize: give --out FILE (or --study)");
  const ModelFile original = load_model(model_path_);
  if (original.format != WeightFormat::kFloat32) throw InputError(model_path_ + ": already quantized");
  ModelFile model = original;
  model.format = bits_ == 16 ? WeightFormat::kInt16 : bits_ == 8 ? WeightFormat::kInt8 : WeightFormat::kInt4;
  model.granularity = granularity_ == "row" ? ScaleGranularity::kRow : ScaleGranularity::kTensor;
  if (given("--qat-epochs") && study_options_.qat_epochs > 0) {
    // Quantization-aware fine-tuning on --data's training span (the model's split), then quantization.
    if (data_.path.empty()) throw InputError("quantize --qat-epochs needs --data (the model's training data)");
    const TrainOptions tuning =
        fine_tuning_options(TrainOptions{}, original, FakeQuantization{model.format, model.granularity},
                            study_options_.qat_learning_rate, study_options_.qat_epochs);
    const bool classifier = original.spec.task == Task::kClassification;
    const auto progress = [classifier, &tuning](const EpochReport& r) {
      std::printf("qat epoch %3d  loss %.5f  quantized network's validation %s %s%s  %.1f s\n", r.epoch, r.train_loss,
                  classifier ? "error" : score_name(tuning.early_stopping),
                  format_fixed(r.validation_error, decimals_for(r.validation_error)).c_str(), classifier ? "%" : "",
                  r.seconds);
      std::fflush(stdout);
    };
    ModelFile tuned;
    if (classifier) {
      const ClassifierData loaded = load_classifier_data(data_, original);
      tuned = train_classifier(loaded.classes, original.spec.window, loaded.split, tuning, progress);
    } else {
      const ModelData loaded = load_model_data(data_, original);
      tuned = train_forecaster(loaded.series, features_of(original), loaded.split, tuning, progress);
    }
    if (tuned.parameters == original.parameters) {
      std::printf("no epoch improved the quantized network's validation error: the weights stay the float model's\n");
    }
    tuned.format = model.format;
    tuned.granularity = model.granularity;
    model = tuned;
  }
  save_model(model, out_);
  std::printf("wrote %s: %s weights, one scale per %s, %zu bytes (float file: %zu bytes)\n", out_.c_str(),
              format_name(model.format), granularity_.c_str(), serialize_model(model).size(), serialize_model(original).size());
}

}  // namespace

std::unique_ptr<Command> make_quantize_command(CLI::App& app) { return std::make_unique<QuantizeCommand>(app); }

}  // namespace edgelstm::cli
