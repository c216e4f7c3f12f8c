#include "cli_support.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "csv_reader.h"
#include "integer_forecaster.h"
#include "model_io.h"
#include "quantized_forecaster.h"
#include "report.h"

namespace edgelstm::cli {

void add_data_options(CLI::App* command, DataOptions& data) {
  command->add_option("--data", data.path, "CSV file with a header line")->required()->check(CLI::ExistingFile);
  command->add_option("--time-column", data.time_column, "name of the timestamp column")->capture_default_str();
  command->add_option("--value-column", data.value_column, "name of the column to forecast")->capture_default_str();
  command->add_option("--validation-days", data.validation_days, "days before the test span used for early stopping")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  command->add_option("--test-days", data.test_days, "days at the end held out for evaluation")
      ->capture_default_str()->check(CLI::Range(1, 3650));
}

Series load_series(const DataOptions& data, std::int64_t* interval) {
  const Table table = read_table(data.path, data.time_column, {ColumnRequest{data.value_column, true}}, true);
  if (table.rows() < 2) throw InputError(data.path + ": at least two readings are needed");
  Series series{table.numbers[0], table.times};
  *interval = series.times[1] - series.times[0];
  return series;
}

std::size_t steps_per_day(std::int64_t interval) {
  if (86400 % interval != 0) throw InputError("the series interval (" + std::to_string(interval) + " s) does not divide a day");
  return static_cast<std::size_t>(86400 / interval);
}

ModelData load_model_data(const DataOptions& data, const FeatureConfig& features) {
  ModelData out;
  std::int64_t interval = 0;
  out.series = load_series(data, &interval);
  if (interval != features.interval_seconds) {
    throw InputError(data.path + ": readings every " + std::to_string(interval) + " s, the model was trained on " +
                     std::to_string(features.interval_seconds) + " s");
  }
  out.day = steps_per_day(interval);
  out.split = chronological_split(out.series, features, data.validation_days * out.day, data.test_days * out.day);
  return out;
}

std::vector<int> parse_lags(const std::string& text) {
  std::vector<int> lags;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    try {
      const int lag = std::stoi(item);
      if (lag < 1) throw std::invalid_argument("");
      lags.push_back(lag);
    } catch (const std::logic_error&) {
      throw InputError("--lags: expected comma-separated positive numbers of steps, found '" + text + "'");
    }
  }
  return lags;
}

std::vector<std::string> parse_columns(const std::string& text) {
  std::vector<std::string> columns;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) columns.push_back(item);
  }
  if (columns.empty()) throw InputError("--feature-columns: expected comma-separated column names");
  return columns;
}

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "momentum") return OptimizerKind::kMomentum;
  return OptimizerKind::kAdam;
}

std::string format_metrics_row(const std::string& name, const Metrics& m) {
  char line[160];
  std::snprintf(line, sizeof line, "| %s | %.0f | %.0f | %.3f%% |", name.c_str(), m.mae, m.rmse, m.mape);
  return line;
}

void ensure_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw InputError(path + ": cannot create the directory");
}

void run_quantize_study(const std::string& model_path, const DataOptions& data, const std::string& report_dir) {
  const ModelFile model = load_model(model_path);
  Forecaster reference(model);
  const ModelData loaded = load_model_data(data, reference.features());
  const Series& series = loaded.series;
  const Split& split = loaded.split;
  const std::size_t day = loaded.day;
  std::vector<double> actual;
  for (std::size_t t : split.test) actual.push_back(series.values[t]);
  std::ostringstream table;
  table << "| weights | scales | model bytes | of f32 | MAE | RMSE | MAPE | MAPE vs f32 |\n"
        << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  char line[200];
  // Test-span metrics of one forecaster (Forecaster, QuantizedForecaster or IntegerForecaster).
  const auto test_metrics = [&](auto& forecaster) {
    std::vector<double> forecast;
    for (std::size_t t : split.test) forecast.push_back(forecaster.forecast(series, t));
    return metrics_of(forecast, actual);
  };
  const Metrics f32 = test_metrics(reference);
  const std::size_t f32_bytes = 4 * model.parameters.size();
  std::snprintf(line, sizeof line, "| f32 | - | %zu | 100%% | %.0f | %.0f | %.3f%% | - |\n", f32_bytes, f32.mae, f32.rmse, f32.mape);
  table << line;
  const auto table_row = [&](const char* weights, const char* scales, std::size_t bytes, const Metrics& m) {
    std::snprintf(line, sizeof line, "| %s | %s | %zu | %.1f%% | %.0f | %.0f | %.3f%% | %+.1f%% |\n", weights, scales, bytes,
                  100.0 * bytes / f32_bytes, m.mae, m.rmse, m.mape, 100.0 * (m.mape - f32.mape) / f32.mape);
    table << line;
  };
  PlotSeries tensor{"per-tensor scale", {}, {}}, row{"per-row scales", {}, {}};
  for (edgelstm::WeightFormat format : {edgelstm::WeightFormat::kInt16, edgelstm::WeightFormat::kInt8, edgelstm::WeightFormat::kInt4}) {
    for (edgelstm::ScaleGranularity granularity : {edgelstm::ScaleGranularity::kTensor, edgelstm::ScaleGranularity::kRow}) {
      QuantizedForecaster quantized(model, format, granularity);
      const Metrics m = test_metrics(quantized);
      const bool per_row = granularity == edgelstm::ScaleGranularity::kRow;
      table_row(format_name(format), per_row ? "per row" : "per tensor", quantized.model_bytes(), m);
      const double bits = format == edgelstm::WeightFormat::kInt16 ? 16 : format == edgelstm::WeightFormat::kInt8 ? 8 : 4;
      (per_row ? row : tensor).x.push_back(bits);
      (per_row ? row : tensor).y.push_back(m.mape);
    }
  }
  // The full-integer path (int8 weights per row, int16 activations), calibrated on the training span.
  IntegerForecaster integer(to_integer_model(model, calibrate_integer(model, series, split)));
  table_row("int8, full integer (int16 activations)", "per row", integer_device_bytes(model.spec), test_metrics(integer));
  // Stateful streams: every variant and float run over the whole series one reading at a time,
  // state never reset; the weekly mean |quantized - float| shows whether quantization error
  // accumulates in the recurrent state.
  const std::size_t week = 7 * day, first = split.train.front();
  reference.reset_stream();
  std::vector<double> float_stream(series.values.size(), 0.0);
  for (std::size_t t = first; t < series.values.size(); ++t) float_stream[t] = reference.stream(series, t);
  std::ostringstream drift;
  drift << "| weights | scales |";
  const std::size_t weeks = (series.values.size() - first) / week;
  for (std::size_t w = 0; w < weeks; ++w) drift << " week " << w + 1 << " |";
  drift << "\n|---|---|";
  for (std::size_t w = 0; w < weeks; ++w) drift << "---:|";
  drift << "\n";
  std::vector<PlotSeries> drift_plot;
  // One row of the drift table and one line of its plot: weekly mean |variant - float|.
  const auto drift_row = [&](const std::string& weights, const char* scales, auto& variant) {
    drift << "| " << weights << " | " << scales << " |";
    PlotSeries line_series{weights + " " + scales, {}, {}};
    for (std::size_t w = 0; w < weeks; ++w) {
      double sum = 0;
      for (std::size_t t = first + w * week; t < first + (w + 1) * week; ++t) {
        sum += std::fabs(variant.stream(series, t) - float_stream[t]);
      }
      char cell[32];
      std::snprintf(cell, sizeof cell, " %.1f |", sum / week);
      drift << cell;
      line_series.x.push_back(static_cast<double>(w + 1));
      line_series.y.push_back(sum / week);
    }
    drift << "\n";
    drift_plot.push_back(line_series);
  };
  for (edgelstm::WeightFormat format : {edgelstm::WeightFormat::kInt16, edgelstm::WeightFormat::kInt8, edgelstm::WeightFormat::kInt4}) {
    for (edgelstm::ScaleGranularity granularity : {edgelstm::ScaleGranularity::kTensor, edgelstm::ScaleGranularity::kRow}) {
      QuantizedForecaster quantized(model, format, granularity);
      drift_row(format_name(format), granularity == edgelstm::ScaleGranularity::kRow ? "per row" : "per tensor", quantized);
    }
  }
  drift_row("int8, full integer", "per row", integer);
  std::printf("weight quantization of %s, test span: last %d days (%zu one-step forecasts)\n%s", model_path.c_str(),
              data.test_days, split.test.size(), table.str().c_str());
  std::printf("\nstateful stream over the whole series: weekly mean |quantized - float| forecast (%s)\n%s",
              data.value_column.c_str(), drift.str().c_str());
  if (!report_dir.empty()) {
    ensure_directory(report_dir);
    PlotSeries reference_line{"f32", {4, 16}, {f32.mape, f32.mape}};
    plot_lines(report_dir, "quantization", "Forecast MAPE with quantized weights (weight-only)", "bits per weight",
               "test MAPE %", {tensor, row, reference_line});
    plot_lines(report_dir, "quantization_drift", "Stateful stream: weekly mean |quantized - float|", "week",
               data.value_column, drift_plot);
    std::ofstream md(report_dir + "/quantization.md");
    md << "# Weight quantization study\n\nModel `" << model_path << "`, data `" << data.path
       << "`, last " << data.test_days << " days. Weight-only (hybrid) inference: weights int16/int8/int4"
       << " with one scale per tensor or per gate row, float activations. The full-integer row runs no float"
       << " operation in the network (int8 weights, int16 activations and cell state, int32 sums, table"
       << " sigmoid/tanh; input scale and cell formats calibrated on the training span); its bytes are what a"
       << " device holds (weights and int32 constants, no float scales or biases).\n\n" << table.str()
       << "\n![MAPE by bits per weight](quantization.svg)\n\n"
       << "Stateful streams over the whole series (state never reset): weekly mean |quantized - float| forecast, "
       << "in the units of `" << data.value_column << "`. A row that stays level shows no drift.\n\n"
       << drift.str() << "\n![drift](quantization_drift.svg)\n";
    std::printf("wrote %s/quantization.md\n", report_dir.c_str());
  }
}

namespace {

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary);
    file << text;
    if (!file) throw InputError(path + ": cannot write");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) throw InputError(path + ": cannot write");
}

template <typename T>
void c_array(std::ostringstream& out, const char* type, const std::string& name, const std::vector<T>& values) {
  out << "alignas(4) inline constexpr " << type << " " << name << "[" << values.size() << "] = {";
  for (std::size_t k = 0; k < values.size(); ++k) out << (k % 16 == 0 ? "\n    " : " ") << +values[k] << ",";
  out << "\n};\n";
}

}  // namespace

void run_export_model_bytes(const std::string& model_path, const std::string& out_path, const std::string& prefix,
                            const DataOptions& replay_data, int replay_steps) {
  const ModelFile model = load_model(model_path);
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  std::ostringstream out;
  out << "// Exported by `edgelstm export --format model-bytes` from " << model_path << "; do not edit.\n"
      << "// The model file itself: read_model(" << prefix << ", &view), then bind the network to the view.\n"
      << "#pragma once\n\n#include <cstdint>\n\n";
  c_array(out, "std::uint8_t", prefix, bytes);
  if (!replay_data.path.empty()) {
    if (!has_integer_path(model)) throw InputError(model_path + ": --replay-data needs a model with the integer path");
    IntegerForecaster forecaster(model);
    FeatureConfig one_step = features_of(model);
    const ModelData loaded = load_model_data(replay_data, one_step);
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
    c_array(out, "std::int16_t", prefix + "ReplayInputs", inputs);
    c_array(out, "std::int32_t", prefix + "ReplayOutputs", outputs);
    c_array(out, "std::int32_t", prefix + "ReplayActual", actual);
  }
  write_atomically(out_path, out.str());
  std::printf("wrote %s (%zu model bytes)\n", out_path.c_str(), bytes.size());
}

void run_export_c_header(const std::string& model_path, const std::string& out_path, const std::string& prefix) {
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
  write_atomically(out_path, out.str());
  std::printf("wrote %s\n", out_path.c_str());
}

}  // namespace edgelstm::cli
