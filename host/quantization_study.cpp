#include "host/quantization_study.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

#include "host/classify.h"
#include "host/csv_reader.h"
#include "host/input_file.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "host/quantized_forecaster.h"
#include "host/report.h"

namespace edgelstm::host {
namespace {

// The weekday/weekend classifier of the daily profiles: one day (48 half-hours) per sample,
// validation and test spans in days, trained here with these settings.
constexpr std::size_t kDayTypeValidationDays = 14, kDayTypeTestDays = 28;

TrainOptions day_type_training() {
  TrainOptions options;
  options.hidden = 16;
  options.learning_rate = 5e-3f;
  options.epochs = 60;
  options.patience = 10;
  options.seed = 1;
  return options;
}

// Instruction counts per inference step from bench/mcu/cost_table.py --csv:
// key (target, input, hidden, outputs, kind).
using CostKey = std::tuple<std::string, int, int, int, std::string>;

std::map<CostKey, long long> read_costs(const std::string& path) {
  std::map<CostKey, long long> costs;
  if (path.empty()) return costs;
  std::istringstream in(read_input_file(path, kMaxCsvBytes, "instruction counts file"));
  std::string line;
  int number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      if (line != "target,input,hidden,outputs,kind,instructions") {
        throw InputError(path + ":" + std::to_string(number) +
                         ": expected the header 'target,input,hidden,outputs,kind,instructions'");
      }
      header = true;
      continue;
    }
    std::vector<std::string> fields;
    std::istringstream in_line(line);
    for (std::string field; std::getline(in_line, field, ',');) fields.push_back(field);
    // A whole positive number, nothing after it.
    const auto number_of = [&](const std::string& text) {
      std::size_t used = 0;
      const long long value = std::stoll(text, &used);
      if (used != text.size() || value <= 0) throw std::invalid_argument(text);
      return value;
    };
    try {
      if (fields.size() != 6) throw std::invalid_argument(line);
      costs[{fields[0], static_cast<int>(number_of(fields[1])), static_cast<int>(number_of(fields[2])),
             static_cast<int>(number_of(fields[3])), fields[4]}] = number_of(fields[5]);
    } catch (const std::logic_error&) {
      throw InputError(path + ":" + std::to_string(number) +
                       ": expected target,input,hidden,outputs,kind,instructions (positive whole numbers), found '" + line + "'");
    }
  }
  return costs;
}

std::string cost_kind(WeightFormat format, ScaleGranularity granularity) {
  if (format == WeightFormat::kFloat32) return "f32";
  return std::string(format_name(format)) + (granularity == ScaleGranularity::kRow ? "-row" : "-tensor");
}

const char* scales_name(ScaleGranularity granularity) {
  return granularity == ScaleGranularity::kRow ? "per row" : "per tensor";
}

// A classification task of the study: its model, data and test rows.
struct ClassTask {
  ModelFile model;
  ClassData data;
  Split split;
  int window = 0;
  TrainOptions training;
  ClassMetrics metrics(const ModelFile& m, WeightFormat format, ScaleGranularity granularity) const {
    std::vector<int> actual;
    for (std::size_t r : split.test) actual.push_back(data.labels[r]);
    return class_metrics(classify(m, data, split.test, format, granularity), actual, data.classes.size());
  }
};

}  // namespace

void run_quantization_study(const StudyOptions& options) {
  const ModelFile model = load_model(options.model_path);
  Forecaster reference(model);
  const ModelData loaded = load_model_data(options.data, model);
  const Series& series = loaded.series;
  const Split& split = loaded.split;
  const std::size_t day = loaded.day;
  std::vector<double> actual;
  for (std::size_t t : split.test) actual.push_back(series.values[t]);
  const std::map<CostKey, long long> costs = read_costs(options.costs_path);
  const LstmSpec& spec = model.spec;

  // The classification tasks: the given classifier, and weekday/weekend of the series' days.
  std::vector<std::pair<std::string, ClassTask>> tasks;
  if (!options.classifier_path.empty()) {
    ClassTask task;
    task.model = load_model(options.classifier_path);
    if (task.model.spec.task != Task::kClassification) throw InputError(options.classifier_path + ": not a classifier");
    ClassifierData loaded = load_classifier_data(options.classifier_data, task.model);
    task.data = std::move(loaded.classes);
    task.split = std::move(loaded.split);
    task.window = task.model.spec.window;
    task.training.learning_rate = options.qat_learning_rate;
    std::string name = options.classifier_path.substr(options.classifier_path.find_last_of('/') + 1);
    name = name.substr(0, name.find('.'));
    tasks.emplace_back(name, std::move(task));
  }
  {
    ClassTask task;
    task.data = day_type_data(series);
    task.window = static_cast<int>(day);
    task.split = day_type_split(task.data, day, kDayTypeValidationDays, kDayTypeTestDays);
    task.training = day_type_training();
    task.model = train_classifier(task.data, task.window, task.split, task.training, nullptr);
    task.training.learning_rate = options.qat_learning_rate;
    tasks.emplace_back("weekday/weekend", std::move(task));
  }

  // Fine-tuning a float model: quantization-aware for an integer format, plain for kFloat32 (the
  // control: what the same extra epochs do without quantization).
  const auto qat_options = [&](const ModelFile& start, WeightFormat format, ScaleGranularity granularity, TrainOptions base) {
    return fine_tuning_options(base, start, FakeQuantization{format, granularity}, options.qat_learning_rate,
                               options.qat_epochs);
  };

  std::ostringstream table;
  // MAE and RMSE with the decimals the data's scale needs; MAPE where the test span has no zero
  // reading, sMAPE otherwise (the percentage column and its "vs f32" change).
  const bool zero_safe = [&] {
    for (double v : actual) {
      if (v == 0) return true;
    }
    return false;
  }();
  const char* percent_name = zero_safe ? "sMAPE" : "MAPE";
  const auto percent = [zero_safe](const Metrics& m) { return zero_safe || !m.mape ? m.smape : *m.mape; };
  table << "| weights | scales | training | model bytes | of f32 | MAE | RMSE | " << percent_name << " | " << percent_name
        << " vs its f32 |";
  for (const auto& task : tasks) table << " " << task.first << " accuracy | macro-F1 |";
  table << " cortex-m4f instr./step | rv32imc instr./step |\n|---|---|---|---:|---:|---:|---:|---:|---:|";
  for (std::size_t k = 0; k < tasks.size(); ++k) table << "---:|---:|";
  table << "---:|---:|\n";
  char cell[160];
  const auto test_metrics = [&](auto& forecaster) {
    std::vector<double> forecast;
    for (std::size_t t : split.test) forecast.push_back(forecaster.forecast(series, t));
    return metrics_of(forecast, actual);
  };
  const Metrics f32 = test_metrics(reference);
  const int decimals = decimals_for(f32.mae), percent_decimals = decimals_for(percent(f32));
  const std::size_t f32_bytes = 4 * model.parameters.size();
  const auto cost_cells = [&](const std::string& kind) {
    std::string out;
    for (const char* target : {"cortex-m4f", "rv32imc"}) {
      const auto found = spec.num_layers == 1 ? costs.find({target, spec.input_size, spec.hidden(0), spec.output_size, kind})
                                              : costs.end();
      out += found == costs.end() ? " - |" : " " + std::to_string(found->second) + " |";
    }
    return out;
  };
  // One row: the forecaster's metrics, each classification task's (or "-"), the step costs.
  // MAPE vs f32: against the float model for PTQ rows, against the float model fine-tuned for as
  // many epochs (no quantization) for QAT rows, so the gain of the extra epochs is not counted.
  Metrics f32_tuned = f32;
  const auto table_row = [&](const std::string& weights, const std::string& scales, const char* training, std::size_t bytes,
                             const Metrics& m, const std::vector<const ClassMetrics*>& classes, const std::string& kind) {
    const double base = percent(std::string(training) == "QAT" ? f32_tuned : f32);
    std::snprintf(cell, sizeof cell, "| %s | %s | %s | %zu | %.1f%% | %.*f | %.*f | %.*f%% | %+.1f%% |", weights.c_str(),
                  scales.c_str(), training, bytes, 100.0 * bytes / f32_bytes, decimals, m.mae, decimals, m.rmse,
                  percent_decimals, percent(m), 100.0 * (percent(m) - base) / base);
    table << cell;
    for (std::size_t k = 0; k < tasks.size(); ++k) {
      if (k < classes.size() && classes[k] != nullptr) {
        std::snprintf(cell, sizeof cell, " %.3f | %.3f |", classes[k]->accuracy, classes[k]->macro_f1);
        table << cell;
      } else {
        table << " - | - |";
      }
    }
    table << cost_cells(kind) << "\n";
  };
  std::vector<ClassMetrics> float_classes;
  std::vector<const ClassMetrics*> float_pointers;
  for (const auto& task : tasks) float_classes.push_back(task.second.metrics(task.second.model, WeightFormat::kFloat32, ScaleGranularity::kRow));
  for (const ClassMetrics& m : float_classes) float_pointers.push_back(&m);
  table_row("f32", "-", "-", f32_bytes, f32, float_pointers, "f32");
  if (options.qat_epochs > 0) {
    Forecaster tuned(train_forecaster(series, reference.features(), split,
                                      qat_options(model, WeightFormat::kFloat32, ScaleGranularity::kRow, TrainOptions{}), nullptr));
    std::vector<ClassMetrics> tuned_classes;
    for (const auto& task : tasks) {
      const ClassTask& t = task.second;
      tuned_classes.push_back(t.metrics(train_classifier(t.data, t.window, t.split,
                                                         qat_options(t.model, WeightFormat::kFloat32, ScaleGranularity::kRow, t.training),
                                                         nullptr),
                                        WeightFormat::kFloat32, ScaleGranularity::kRow));
    }
    std::vector<const ClassMetrics*> pointers;
    for (const ClassMetrics& m : tuned_classes) pointers.push_back(&m);
    f32_tuned = test_metrics(tuned);
    table_row("f32", "-", "fine-tuned", f32_bytes, f32_tuned, pointers, "f32");
  }

  // PTQ and QAT for each format and granularity; the QAT models are kept for the drift table.
  struct Variant {
    WeightFormat format;
    ScaleGranularity granularity;
    bool qat;
    ModelFile forecaster;
    Metrics metrics;
  };
  std::vector<Variant> variants;
  std::map<std::string, PlotSeries> mape_lines;
  for (WeightFormat format : {WeightFormat::kInt16, WeightFormat::kInt8, WeightFormat::kInt4}) {
    for (ScaleGranularity granularity : {ScaleGranularity::kTensor, ScaleGranularity::kRow}) {
      for (bool qat : {false, true}) {
        if (qat && options.qat_epochs <= 0) continue;
        Variant v{format, granularity, qat, model, {}};
        if (qat) v.forecaster = train_forecaster(series, reference.features(), split, qat_options(model, format, granularity, TrainOptions{}), nullptr);
        QuantizedForecaster quantized(v.forecaster, format, granularity);
        v.metrics = test_metrics(quantized);
        std::vector<ClassMetrics> class_results;
        for (const auto& task : tasks) {
          const ClassTask& t = task.second;
          const ModelFile tuned = qat ? train_classifier(t.data, t.window, t.split, qat_options(t.model, format, granularity, t.training), nullptr)
                                      : t.model;
          class_results.push_back(t.metrics(tuned, format, granularity));
        }
        std::vector<const ClassMetrics*> pointers;
        for (const ClassMetrics& m : class_results) pointers.push_back(&m);
        table_row(format_name(format), scales_name(granularity), qat ? "QAT" : "PTQ", quantized.model_bytes(), v.metrics, pointers,
                  cost_kind(format, granularity));
        PlotSeries& line = mape_lines[std::string(scales_name(granularity)) + (qat ? ", QAT" : ", PTQ")];
        line.title = std::string(scales_name(granularity)) + (qat ? ", quantization-aware" : ", post-training");
        line.x.push_back(format == WeightFormat::kInt16 ? 16 : format == WeightFormat::kInt8 ? 8 : 4);
        line.y.push_back(percent(v.metrics));
        variants.push_back(std::move(v));
      }
    }
  }
  // The full-integer path (int8 weights per row, int16 activations), calibrated on the training span.
  IntegerForecaster integer(to_integer_model(model, calibrate_integer(model, series, split)));
  table_row("int8, full integer (int16 activations)", "per row", "PTQ", integer_device_bytes(spec), test_metrics(integer), {},
            "int8-row-integer");

  // Stateful streams: float and every variant run over the whole series one reading at a time,
  // state never reset. Two weekly measures: the MAE against the readings (does a variant's error
  // grow over time next to float's?) and the mean |quantized - float| of the same weights (does
  // quantization error accumulate in the recurrent state?); for QAT rows "float" is the
  // fine-tuned model's own float weights.
  const std::size_t week = 7 * day, first = split.train.front();
  const std::size_t weeks = (series.values.size() - first) / week;
  const auto stream_of = [&](auto& forecaster) {
    forecaster.reset_stream();
    std::vector<double> out(series.values.size(), 0.0);
    for (std::size_t t = first; t < series.values.size(); ++t) out[t] = forecaster.stream(series, t);
    return out;
  };
  const std::vector<double> float_stream = stream_of(reference);
  const auto weekly_mean = [&](const std::vector<double>& stream, const std::vector<double>& against) {
    std::vector<double> means;
    for (std::size_t w = 0; w < weeks; ++w) {
      double sum = 0;
      for (std::size_t t = first + w * week; t < first + (w + 1) * week; ++t) sum += std::fabs(stream[t] - against[t]);
      means.push_back(sum / week);
    }
    return means;
  };
  std::ostringstream error_table, drift;
  for (std::ostringstream* out : {&error_table, &drift}) {
    *out << "| weights | scales | training |";
    for (std::size_t w = 0; w < weeks; ++w) *out << " week " << w + 1 << " |";
    *out << "\n|---|---|---|";
    for (std::size_t w = 0; w < weeks; ++w) *out << "---:|";
    *out << "\n";
  }
  std::vector<PlotSeries> drift_plot;
  const auto weekly_row = [&](std::ostringstream& out, const std::string& label, const std::vector<double>& means) {
    out << label;
    for (double m : means) {
      std::snprintf(cell, sizeof cell, " %.*f |", decimals + 1, m);
      out << cell;
    }
    out << "\n";
  };
  const auto stream_rows = [&](const std::string& weights, const char* scales, const char* training, auto& variant,
                               const std::vector<double>& own_float) {
    const std::vector<double> stream = stream_of(variant);
    const std::string label = "| " + weights + " | " + scales + " | " + training + " |";
    weekly_row(error_table, label, weekly_mean(stream, series.values));
    const std::vector<double> gap = weekly_mean(stream, own_float);
    weekly_row(drift, label, gap);
    PlotSeries line{weights + " " + scales + " " + training, {}, gap};
    for (std::size_t w = 0; w < weeks; ++w) line.x.push_back(static_cast<double>(w + 1));
    drift_plot.push_back(line);
  };
  weekly_row(error_table, "| f32 | - | - |", weekly_mean(float_stream, series.values));
  for (const Variant& v : variants) {
    QuantizedForecaster quantized(v.forecaster, v.format, v.granularity);
    if (v.qat) {
      Forecaster own(v.forecaster);
      stream_rows(format_name(v.format), scales_name(v.granularity), "QAT", quantized, stream_of(own));
    } else {
      stream_rows(format_name(v.format), scales_name(v.granularity), "PTQ", quantized, float_stream);
    }
  }
  stream_rows("int8, full integer", "per row", "PTQ", integer, float_stream);

  std::ostringstream about;
  about << "Forecaster `" << options.model_path << "` on `" << options.data.path << "`: last " << options.data.test_days
        << " days (" << split.test.size() << " one-step forecasts).";
  for (const auto& task : tasks) {
    about << " " << (task.first == "weekday/weekend" ? "Weekday/weekend of the series' daily profiles (one day of "
                                                      "readings per sample; trained here: " +
                                                          std::to_string(task.second.training.hidden) + " units, seed 1)"
                                                    : "Classifier `" + options.classifier_path + "` (" + task.first +
                                                          ") on `" + options.classifier_data.path + "`")
          << ": " << task.second.split.test.size() << " test samples, " << task.second.split.train.size() << " training.";
  }
  about << " QAT: " << options.qat_epochs << " epochs at most of quantization-aware fine-tuning from the float model"
        << " (Adam, lr " << options.qat_learning_rate << ", early stopping on the quantized network's validation error).";
  if (!costs.empty()) {
    about << " Instructions per inference step of the forecaster's shape (" << spec.input_size << " inputs, "
          << spec.hidden(0) << " units, " << spec.output_size << " output) from `" << options.costs_path << "`.";
  }
  std::printf("weight quantization study\n%s\n\n%s", about.str().c_str(), table.str().c_str());
  std::printf("\nstateful stream over the whole series: weekly MAE against the readings (%s)\n%s",
              options.data.value_column.c_str(), error_table.str().c_str());
  std::printf("\nthe same streams: weekly mean |quantized - float| forecast of the same weights (%s)\n%s",
              options.data.value_column.c_str(), drift.str().c_str());
  if (options.report_dir.empty()) return;
  const std::string& dir = options.report_dir;
  ensure_directory(dir);
  std::vector<PlotSeries> lines;
  for (const auto& entry : mape_lines) lines.push_back(entry.second);
  lines.push_back(PlotSeries{"f32", {4, 16}, {percent(f32), percent(f32)}});
  plot_lines(dir, "quantization", std::string("Forecast ") + percent_name + " with quantized weights (weight-only)",
             "bits per weight", std::string("test ") + percent_name + " %", lines);
  plot_lines(dir, "quantization_drift", "Stateful stream: weekly mean |quantized - float|", "week", options.data.value_column,
             drift_plot);
  std::ostringstream md;
  md << "# Weight quantization study\n\n" << about.str()
     << "\n\nWeight-only (hybrid) inference: weights int16/int8/int4 with one scale per tensor or per gate row, float"
     << " activations; model bytes are what the quantized model file holds for the network: weights, their scales, each"
     << " layer's two biases fused into one int16 vector, the head's float bias. PTQ: post-training"
     << " quantization of the float model; QAT: the same after quantization-aware fine-tuning; \"f32 fine-tuned\" is the"
     << " control, the float model fine-tuned for as many epochs without quantization, and QAT rows' \"" << percent_name << " vs its f32\""
     << " compares with it (PTQ rows: with the float model). The full-integer row runs"
     << " no float operation in the network (int8 weights, int16 activations and cell state, int32 sums, table"
     << " sigmoid/tanh; input scale and cell formats calibrated on the training span); its bytes are what a device"
     << " holds (weights and int32 constants).\n\n"
     << table.str() << "\n![MAPE by bits per weight](quantization.svg)\n\n"
     << "Stateful streams over the whole series (state never reset), in the units of `" << options.data.value_column
     << "`. Weekly MAE against the readings:\n\n" << error_table.str()
     << "\nWeekly mean |quantized - float| forecast of the same weights (for QAT: the fine-tuned float weights). A row that"
     << " stays level shows no drift.\n\n" << drift.str() << "\n![drift](quantization_drift.svg)\n";
  write_file_atomically(dir + "/quantization.md", md.str());
  std::printf("wrote %s/quantization.md\n", dir.c_str());
}

}  // namespace edgelstm::host
