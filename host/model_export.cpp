#include "host/model_export.h"

#include <cctype>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "host/csv_reader.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/quantized_forecaster.h"

namespace edgelstm::host {

namespace {

// Refuses a prefix that would not make valid C and C++ names (the header declares <prefix>Spec,
// <prefix>Parameters, ...): a C identifier, not a keyword, not reserved (leading _ + capital or __).
void check_c_identifier(const std::string& prefix) {
  static const char* const kKeywords[] = {
      "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class", "const",
      "constexpr", "continue", "decltype", "default", "delete", "do", "double", "else", "enum", "explicit", "export",
      "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
      "noexcept", "not", "nullptr", "operator", "or", "private", "protected", "public", "register", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
      "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor"};
  bool valid = !prefix.empty() && prefix.size() <= 64 && !std::isdigit(static_cast<unsigned char>(prefix[0])) &&
               prefix.compare(0, 2, "__") != 0 &&
               !(prefix[0] == '_' && prefix.size() > 1 && std::isupper(static_cast<unsigned char>(prefix[1])));
  for (char c : prefix) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_') && (c & 0x80) == 0;
  for (const char* keyword : kKeywords) valid = valid && prefix != keyword;
  if (!valid) {
    throw InputError("--name " + excerpt(prefix) +
                     ": expected a C identifier of at most 64 characters (letters, digits, _; not starting with a "
                     "digit; not a keyword or a reserved name), e.g. kModel");
  }
}

// Text from the file inside a // comment: control characters (a newline would end the comment
// and start code) and a final backslash (it would continue the comment onto the next line) go.
std::string comment_text(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  while (!text.empty() && (text.back() == '\\' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

void export_model_bytes(const std::string& model_path, const std::string& out_path, const std::string& prefix,
                            const DataOptions& replay_data, int replay_steps) {
  check_c_identifier(prefix);
  const ModelFile model = load_model(model_path);
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  std::ostringstream out;
  out << "// Exported by `edgelstm export --format model-bytes` from " << comment_text(model_path) << "; do not edit.\n"
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
    out << "\n// Replay: " << replay_steps << " readings from the start of the test span of " << comment_text(replay_data.path)
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
  write_file_atomically(out_path, out.str());
  std::printf("wrote %s (%zu model bytes)\n", out_path.c_str(), bytes.size());
}

namespace {

// "lstm.weight_ih_l0" -> "<prefix>LstmWeightIhL0": a C++ identifier from a tensor name. A name
// from the file that makes no C name (anything but ASCII letters, digits, . and _) is refused.
std::string identifier_of(const std::string& prefix, const std::string& name) {
  std::string identifier = prefix;
  bool upper = true;
  for (char c : name) {
    if (c == '.' || c == '_') {
      upper = true;
    } else if (std::isalnum(static_cast<unsigned char>(c)) && (c & 0x80) == 0) {
      identifier += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      throw InputError("the tensor name " + excerpt(name) + " makes no C name (letters, digits, . and _)");
    }
  }
  return identifier;
}

void float_array(std::ostringstream& out, const std::string& name, const float* values, std::size_t count) {
  out << "alignas(4) inline constexpr float " << name << "[" << count << "] = {";
  char number[32];
  for (std::size_t k = 0; k < count; ++k) {
    std::snprintf(number, sizeof number, "%.9ef", static_cast<double>(values[k]));  // exact, a valid float literal
    out << (k % 8 == 0 ? "\n    " : " ") << number << ",";
  }
  out << "\n};\n";
}

const char* format_enum(WeightFormat format) {
  switch (format) {
    case WeightFormat::kInt16: return "edgelstm::WeightFormat::kInt16";
    case WeightFormat::kInt8: return "edgelstm::WeightFormat::kInt8";
    case WeightFormat::kInt4: return "edgelstm::WeightFormat::kInt4";
    case WeightFormat::kFloat32: break;
  }
  return "edgelstm::WeightFormat::kFloat32";
}

// A quantized matrix of the file as its integer bytes and scales, and the QuantizedMatrix that
// HybridNetwork binds to them ("{format, granularity, data, scales, rows, cols}").
std::string quantized_matrix_export(std::ostringstream& out, const std::string& prefix, const ModelView& view,
                                    const char* name) {
  QuantizedMatrix m;
  if (view.quantized_matrix(name, &m) != Status::kOk) throw InputError(std::string("cannot read the quantized tensor ") + name);
  const std::string id = identifier_of(prefix, name);
  const std::size_t bytes = m.rows * quantized_row_bytes(m.format, m.cols);
  append_c_array(out, "std::uint8_t", id, std::vector<std::uint8_t>(m.data, m.data + bytes));
  float_array(out, id + "Scale", m.scales, scale_count(m.granularity, m.rows));
  return std::string("{") + format_enum(m.format) + ", " +
         (m.granularity == ScaleGranularity::kRow ? "edgelstm::ScaleGranularity::kRow" : "edgelstm::ScaleGranularity::kTensor") +
         ", " + id + ", " + id + "Scale, " + std::to_string(m.rows) + ", " + std::to_string(m.cols) + "}";
}

// The quantized weights (and, for an integer model, the full-integer constants) as arrays, and
// the layer tables HybridNetwork::bind / IntegerNetwork::bind take.
void quantized_export(std::ostringstream& out, const std::string& prefix, const ModelFile& model) {
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  std::vector<std::uint32_t> aligned((bytes.size() + 3) / 4);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  ModelView view;
  if (read_model(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(aligned.data()), bytes.size()), &view) !=
      Status::kOk) {
    throw InputError("cannot re-read the quantized model");
  }
  const LstmSpec& s = model.spec;
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  (void)detail::parameter_tensors(s, model.format, names);  // weight_ih, weight_hh, fused bias per layer; head
  std::vector<std::string> layers;
  for (std::size_t l = 0; l < s.num_layers; ++l) {
    std::string layer = "    {";
    for (std::size_t k = 0; k < 3; ++k) layer += (k ? ", " : "") + quantized_matrix_export(out, prefix, view, names[3 * l + k].name);
    layers.push_back(layer + "},");
  }
  const std::string head = quantized_matrix_export(out, prefix, view, "head.weight");
  ModelTensor head_bias;
  if (view.tensor("head.bias", &head_bias) != Status::kOk) throw InputError("the quantized model has no head.bias");
  float_array(out, prefix + "HeadBias", static_cast<const float*>(head_bias.data), head_bias.count);
  out << "\n// HybridNetwork::bind(" << prefix << "Spec, {" << prefix << "Layers, " << int(s.num_layers) << "}, " << prefix
      << "Head, " << prefix << "HeadBias, arena), arena of inference_in_place_bytes(" << prefix << "Spec) bytes.\n"
      << "inline constexpr edgelstm::HybridLayer " << prefix << "Layers[" << int(s.num_layers) << "] = {\n";
  for (const std::string& layer : layers) out << layer << "\n";
  out << "};\ninline constexpr edgelstm::QuantizedMatrix " << prefix << "Head = " << head << ";\n";
  if (!has_integer_path(model)) return;

  // The full-integer path: int8 weights (the same bytes as above), the int32 constants and the
  // configuration (cell formats, shifts) IntegerNetwork::bind(ModelView) reads from the file.
  const std::vector<std::int32_t>& config = model.ints.at("int.config");
  out << "\n// Full-integer path: IntegerNetwork::bind(" << prefix << "Spec, {" << prefix << "IntegerLayers, "
      << int(s.num_layers) << "}, " << prefix << "IntegerHead, arena), arena of integer_inference_bytes(" << prefix
      << "Spec) bytes.\n// Inputs: x_q = round(x / " << prefix
      << "InputScale) as int16 (x: the normalized feature); output y = y_q / 2^16.\n";
  out << "inline constexpr float " << prefix << "InputScale = ";
  char number[32];
  std::snprintf(number, sizeof number, "%.9ef", static_cast<double>(model.floats.at("int.input_scale").at(0)));
  out << number << ";\n";
  for (std::size_t l = 0; l < s.num_layers; ++l) {
    append_c_array(out, "std::int32_t", prefix + "IntegerGatesL" + std::to_string(l), model.ints.at("int.l" + std::to_string(l) + ".gates"));
  }
  append_c_array(out, "std::int32_t", prefix + "IntegerHeadRows", model.ints.at("int.head"));
  // const, not constexpr: the int8 view of the weight bytes above takes a reinterpret_cast (a few
  // pointers set at start-up; the weights themselves stay in flash).
  out << "inline const edgelstm::IntegerLayer " << prefix << "IntegerLayers[" << int(s.num_layers) << "] = {\n";
  for (std::size_t l = 0; l < s.num_layers; ++l) {
    const std::string ih = identifier_of(prefix, names[3 * l].name), hh = identifier_of(prefix, names[3 * l + 1].name);
    out << "    {reinterpret_cast<const std::int8_t*>(" << ih << "), reinterpret_cast<const std::int8_t*>(" << hh
        << "), " << prefix << "IntegerGatesL" << l << ", " << config[2 + kMaxLayers + l] << ", "
        << config[2 + 2 * kMaxLayers + l] << ", " << config[1 + l] << "},\n";
  }
  out << "};\ninline const edgelstm::IntegerHead " << prefix << "IntegerHead = {reinterpret_cast<const std::int8_t*>("
      << identifier_of(prefix, "head.weight") << "), " << prefix << "IntegerHeadRows};\n";
}

}  // namespace

void export_c_header(const std::string& model_path, const std::string& out_path, const std::string& prefix) {
  check_c_identifier(prefix);
  const ModelFile model = load_model(model_path);
  const edgelstm::LstmSpec& s = model.spec;
  const bool quantized = model.format != WeightFormat::kFloat32;
  std::ostringstream out;
  out << "// Exported by `edgelstm export --format c-header` from " << comment_text(model_path) << "; do not edit.\n";
  if (!quantized) {
    out << "// Bind with Network::bind_inference_in_place(" << prefix << "Spec, " << prefix
        << "Parameters, arena) and an arena of inference_in_place_bytes(" << prefix << "Spec).\n";
  } else {
    out << "// " << format_name(model.format) << " weights as the model file stores them, with their scales: bind "
        << "HybridNetwork" << (has_integer_path(model) ? " (or IntegerNetwork, below)" : "") << " to them.\n";
  }
  out << "#pragma once\n\n#include <cstdint>\n\n#include \"edgelstm/edgelstm.h\"\n\n"
      << "inline constexpr edgelstm::LstmSpec " << prefix << "Spec = [] {\n"
      << "  auto spec = edgelstm::make_spec(" << s.input_size << ", " << s.hidden_size[0] << ", " << int(s.num_layers)
      << ", " << s.output_size << ", " << s.window << ", "
      << (s.task == edgelstm::Task::kRegression ? "edgelstm::Task::kRegression" : "edgelstm::Task::kClassification") << ", "
      << (s.output_mode == edgelstm::OutputMode::kLastStep ? "edgelstm::OutputMode::kLastStep" : "edgelstm::OutputMode::kEveryStep")
      << ");\n";
  for (std::size_t l = 1; l < s.num_layers; ++l) out << "  spec.hidden_size[" << l << "] = " << s.hidden_size[l] << ";\n";
  out << "  return spec;\n}();\n\n";
  if (model.texts.count("meta.features") != 0) {
    const FeatureConfig features = features_of(model);
    out << "// Inputs per window step, in order:";
    for (const std::string& name : features.input_names()) out << " " << name << ";";
    out << "\n// each normalized as the arrays below say (norm.*); see docs/forecasting.md.\n";
  }
  if (quantized) {
    quantized_export(out, prefix, model);
  } else {
    float_array(out, prefix + "Parameters", model.parameters.data(), model.parameters.size());
  }
  std::set<std::string> identifiers = {prefix + "Spec", prefix + "Parameters"};
  for (const auto& [name, values] : model.floats) {
    if (name.rfind("int.", 0) == 0) continue;  // exported with the integer path
    const std::string identifier = identifier_of(prefix, name);
    if (!identifiers.insert(identifier).second) {
      throw InputError(model_path + ": the tensor " + excerpt(name) + " would be a second " + identifier);
    }
    float_array(out, identifier, values.data(), values.size());
  }
  for (const auto& [name, text] : model.texts) out << "// " << comment_text(name) << ": " << comment_text(text) << "\n";
  write_file_atomically(out_path, out.str());
  std::printf("wrote %s (%s)\n", out_path.c_str(),
              !quantized ? "float parameters"
              : has_integer_path(model) ? "int8 weights and scales, with the full-integer path's constants"
                                        : "quantized weights and their scales");
}

}  // namespace edgelstm::host
