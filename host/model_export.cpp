#include "host/model_export.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "host/csv_reader.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"

namespace edgelstm::host {

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary);
    file << text;
    if (!file) {
      std::remove(temporary.c_str());
      throw InputError(path + ": cannot write");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw InputError(path + ": cannot write");
  }
}

void export_model_bytes(const std::string& model_path, const std::string& out_path, const std::string& prefix,
                            const DataOptions& replay_data, int replay_steps) {
  const ModelFile model = load_model(model_path);
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  std::ostringstream out;
  out << "// Exported by `edgelstm export --format model-bytes` from " << model_path << "; do not edit.\n"
      << "// The model file itself: read_model(" << prefix << ", &view), then bind the network to the view.\n"
      << "#pragma once\n\n#include <cstdint>\n\n";
  append_c_array(out, "std::uint8_t", prefix, bytes);
  if (!replay_data.path.empty()) {
    if (!has_integer_path(model)) throw InputError(model_path + ": --replay-data needs a model with the integer path");
    IntegerForecaster forecaster(model);
    FeatureConfig one_step = features_of(model);
    if (one_step.base != Base::kNone || !one_step.covariates.empty()) {
      throw InputError(model_path + ": --replay-data carries the readings only; this model also needs " +
                       (one_step.base != Base::kNone ? "its Holt-Winters base forecasts" : "covariate columns") +
                       " (replay a model trained with --base none and no --feature-columns)");
    }
    const ModelData loaded = load_model_data(replay_data, model);
    const Series& series = loaded.series;
    const Split& split = loaded.split;
    if (replay_steps <= 0 || static_cast<std::size_t>(replay_steps) > split.test.size()) {
      throw InputError("--replay-steps: expected 1.." + std::to_string(split.test.size()));
    }
    one_step.window = 1;
    const Normalization norm = normalization_of(model);
    IntegerForecaster::FloatAdapter& adapter = forecaster.adapter();
    adapter.reset_state();
    std::vector<float> x(static_cast<std::size_t>(one_step.features()));
    std::vector<std::int16_t> inputs;
    std::vector<std::int32_t> outputs;
    std::vector<std::int32_t> actual;
    for (std::size_t k = 0; k < static_cast<std::size_t>(replay_steps); ++k) {
      const std::size_t t = split.test[k];
      build_window(series, one_step, norm, t, x.data());
      for (float v : x) inputs.push_back(adapter.net.quantize_input(v));
      std::int32_t y = 0;
      if (adapter.net.step(Span<const std::int16_t>(inputs.data() + inputs.size() - x.size(), x.size()), Span<std::int32_t>(&y, 1)) !=
          Status::kOk) {
        throw InputError("replay: the integer network refused a step");
      }
      outputs.push_back(y);
      actual.push_back(static_cast<std::int32_t>(std::lround(series.values[t])));
    }
    out << "\n// Replay: " << replay_steps << " readings from the start of the test span of " << replay_data.path
        << ", as int16 features (" << x.size() << " per reading), the Q16 outputs the host computed, and the actual\n"
        << "// values (rounded). In integers, a forecast in the value's units is\n"
        << "//   NormMean + (y * NormScaleQ8) / 2^24   (y: Q16 output, NormScaleQ8: the normalization scale * 256).\n";
    out << "inline constexpr unsigned " << prefix << "ReplaySteps = " << replay_steps << ", " << prefix
        << "ReplayFeatures = " << x.size() << ";\n";
    out << "inline constexpr std::int32_t " << prefix << "NormMean = " << std::lround(norm.mean) << ", " << prefix
        << "NormScaleQ8 = " << std::lround(norm.scale * 256.0) << ";\n";
    append_c_array(out, "std::int16_t", prefix + "ReplayInputs", inputs);
    append_c_array(out, "std::int32_t", prefix + "ReplayOutputs", outputs);
    append_c_array(out, "std::int32_t", prefix + "ReplayActual", actual);
  }
  write_text_atomically(out_path, out.str());
  std::printf("wrote %s (%zu model bytes)\n", out_path.c_str(), bytes.size());
}

void export_c_header(const std::string& model_path, const std::string& out_path, const std::string& prefix) {
  const ModelFile model = load_model(model_path);
  const edgelstm::LstmSpec& s = model.spec;
  std::ostringstream out;
  out << "// Exported by `edgelstm export --format c-header` from " << model_path << "; do not edit.\n"
      << "// Bind with Network::bind_inference_in_place(" << prefix << "Spec, " << prefix
      << "Parameters, arena) and an arena of inference_in_place_bytes(" << prefix << "Spec).\n"
      << "#pragma once\n\n#include \"edgelstm/edgelstm.h\"\n\n"
      << "inline constexpr edgelstm::LstmSpec " << prefix << "Spec = [] {\n"
      << "  auto spec = edgelstm::make_spec(" << s.input_size << ", " << s.hidden_size[0] << ", " << int(s.num_layers)
      << ", " << s.output_size << ", " << s.window << ", "
      << (s.task == edgelstm::Task::kRegression ? "edgelstm::Task::kRegression" : "edgelstm::Task::kClassification") << ", "
      << (s.output_mode == edgelstm::OutputMode::kLastStep ? "edgelstm::OutputMode::kLastStep" : "edgelstm::OutputMode::kEveryStep")
      << ");\n";
  for (std::size_t l = 1; l < s.num_layers; ++l) out << "  spec.hidden_size[" << l << "] = " << s.hidden_size[l] << ";\n";
  out << "  return spec;\n}();\n\n";
  auto array = [&](const std::string& name, const std::vector<float>& values) {
    out << "inline constexpr float " << name << "[" << values.size() << "] = {";
    char number[32];
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::snprintf(number, sizeof number, "%.8ef", static_cast<double>(values[k]));  // always a valid float literal
      out << (k % 8 == 0 ? "\n    " : " ") << number << ",";
    }
    out << "\n};\n";
  };
  array(prefix + "Parameters", model.parameters);
  for (const auto& [name, values] : model.floats) {
    std::string identifier = prefix;
    bool upper = true;
    for (char c : name) {
      if (c == '.' || c == '_') {
        upper = true;
      } else {
        identifier += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
      }
    }
    array(identifier, values);
  }
  for (const auto& [name, text] : model.texts) out << "// " << name << ": " << text << "\n";
  write_text_atomically(out_path, out.str());
  std::printf("wrote %s\n", out_path.c_str());
}

}  // namespace edgelstm::host
