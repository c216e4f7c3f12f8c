// The `edgelstm` command line: train, evaluate, forecast and stream a smart-meter series, inspect
// and export models. Every command has --help. Bad input stops with a message naming the file,
// the line and what was expected, and exit status 2.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "classify.h"
#include "cli_support.h"
#include "csv_reader.h"
#include "forecast.h"
#include "integer_forecaster.h"
#include "model_io.h"
#include "quantize_command.h"
#include "quantized_forecaster.h"
#include "report.h"
#include "torch_import.h"

using namespace edgelstm::cli;

int main(int argc, char** argv) {
  CLI::App app{"edgelstm: LSTM forecasting that can train on the device; host tools"};
  app.require_subcommand(1);

  // ---- train --------------------------------------------------------------------------------
  DataOptions train_data;
  TrainOptions train_options;
  FeatureConfig features;
  std::string train_model = "model.elstm", lags_text = "48,336", optimizer_name = "adam";
  bool no_calendar = false;
  std::string task = "forecast", feature_columns_text, label_column;
  CLI::App* train = app.add_subcommand("train", "train a forecaster (or a classifier); writes a model file");
  add_data_options(train, train_data);
  train->add_option("--task", task, "forecast: the next value of --value-column; classify: the class in --label-column "
                                    "from the previous --window rows of --feature-columns")
      ->capture_default_str()->check(CLI::IsMember({"forecast", "classify"}));
  train->add_option("--feature-columns", feature_columns_text, "classify: comma-separated numeric input columns");
  train->add_option("--label-column", label_column, "classify: the column of class labels");
  train->add_option("--model", train_model, "model file to write (atomically)")->capture_default_str();
  train->add_option("--hidden", train_options.hidden, "hidden units per layer")->capture_default_str()->check(CLI::Range(1, 1024));
  train->add_option("--layers", train_options.layers, "stacked LSTM layers")->capture_default_str()->check(CLI::Range(1, 4));
  train->add_option("--window", features.window, "steps per input window")->capture_default_str()->check(CLI::Range(1, 1024));
  train->add_option("--lags", lags_text, "lag features, in steps before the forecast step (e.g. 48,336)")->capture_default_str();
  train->add_flag("--no-calendar", no_calendar, "no time-of-day / day-of-week features");
  train->add_option("--optimizer", optimizer_name, "sgd, momentum or adam")
      ->capture_default_str()->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  train->add_option("--lr", train_options.learning_rate, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--epochs", train_options.epochs, "maximum epochs")->capture_default_str()->check(CLI::Range(1, 100000));
  train->add_option("--patience", train_options.patience, "stop after this many epochs without a better validation MAPE")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  train->add_option("--seed", train_options.seed, "seed for initialization and shuffling")->capture_default_str();
  std::string save_initial, export_dataset_dir;
  train->add_option("--save-initial", save_initial, "forecast: also write the untrained, initialized model here");
  train->add_option("--export-dataset", export_dataset_dir,
                    "forecast: write the normalized windows of every split here (for tools/torch_forecast_reference.py)");

  // ---- eval ---------------------------------------------------------------------------------
  DataOptions eval_data;
  std::string eval_model = "model.elstm", report_dir;
  CLI::App* eval = app.add_subcommand("eval", "MAE, RMSE, MAPE on the test span, beside the baselines");
  add_data_options(eval, eval_data);
  eval->add_option("--model", eval_model, "model file")->capture_default_str();
  eval->add_option("--report", report_dir, "directory for report.md and SVG plots (gnuplot)");
  double reference_mape = -1;
  eval->add_option("--reference-mape", reference_mape,
                   "test MAPE (%) of the same network trained by PyTorch (tools/torch_forecast_reference.py), for the table");

  // ---- predict ------------------------------------------------------------------------------
  DataOptions predict_data;
  std::string predict_model = "model.elstm", predict_out = "forecasts.csv";
  CLI::App* predict = app.add_subcommand("predict", "one-step forecasts of the test span to CSV");
  add_data_options(predict, predict_data);
  predict->add_option("--model", predict_model, "model file")->capture_default_str();
  predict->add_option("--out", predict_out, "CSV to write: timestamp,actual,forecast")->capture_default_str();

  // ---- online -------------------------------------------------------------------------------
  DataOptions online_data;
  std::string online_model, online_report;
  TrainOptions online_options;
  online_options.hidden = 16;
  float online_lr = 3e-3f;
  CLI::App* online = app.add_subcommand(
      "online", "stream the whole series reading by reading: forecast, then learn, as a meter on the device would");
  add_data_options(online, online_data);
  online->add_option("--model", online_model, "start from this trained model (default: from scratch)");
  online->add_option("--hidden", online_options.hidden, "hidden units when starting from scratch")->capture_default_str();
  online->add_option("--lr", online_lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  online->add_option("--report", online_report, "directory for the rolling-error plot (online.svg) and CSV");

  // ---- inspect ------------------------------------------------------------------------------
  std::string inspect_model = "model.elstm";
  CLI::App* inspect = app.add_subcommand("inspect", "shape, parameter count, bytes needed on a device");
  inspect->add_option("model", inspect_model, "model file")->required();

  // ---- export -------------------------------------------------------------------------------
  std::string export_model = "model.elstm", export_out = "model.h", export_format = "c-header", export_name = "kModel";
  CLI::App* export_cmd = app.add_subcommand("export", "the model as const arrays for flash");
  export_cmd->add_option("--model", export_model, "model file")->capture_default_str();
  export_cmd->add_option("--format", export_format,
                          "c-header: float parameters as arrays; model-bytes: the model file itself as a byte array "
                          "(read_model + bind in place; any weight format)")
      ->capture_default_str()->check(CLI::IsMember({"c-header", "model-bytes"}));
  export_cmd->add_option("--out", export_out, "header to write")->capture_default_str();
  export_cmd->add_option("--name", export_name, "C++ name prefix")->capture_default_str();
  DataOptions replay_data;
  int replay_steps = 336;
  export_cmd->add_option("--replay-data", replay_data.path,
                         "model-bytes of an integer model: also the quantized input stream of the test span's first "
                         "--replay-steps readings and the outputs the host computes for it")
      ->check(CLI::ExistingFile);
  export_cmd->add_option("--replay-steps", replay_steps, "readings in the replay")->capture_default_str();

  // ---- import-torch -------------------------------------------------------------------------
  std::string import_dump, import_out = "model.elstm", import_task = "forecast", import_features;
  int import_window = 12;
  bool import_every_step = false;
  double import_mean = 0, import_scale = 0;
  CLI::App* import_cmd = app.add_subcommand(
      "import-torch", "a PyTorch nn.LSTM + nn.Linear (dumped by tools/export_torch_state_dict.py) into a model file");
  import_cmd->add_option("--dump", import_dump, "the exporter's output")->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--out", import_out, "model file to write")->capture_default_str();
  import_cmd->add_option("--window", import_window, "time steps per window")->capture_default_str()->check(CLI::Range(1, 1024));
  import_cmd->add_option("--task", import_task, "forecast or classify")->capture_default_str()->check(CLI::IsMember({"forecast", "classify"}));
  import_cmd->add_flag("--every-step", import_every_step, "the head runs at every step (default: last step only)");
  import_cmd->add_option("--features", import_features,
                         "forecast: the feature settings the network was trained with, e.g. "
                         "'window=12;lags=48,336;calendar=1;interval=1800' (makes the model usable by eval/predict)");
  import_cmd->add_option("--norm-mean", import_mean, "forecast: the value normalization's mean");
  import_cmd->add_option("--norm-scale", import_scale, "forecast: the value normalization's scale (> 0)");

  // ---- quantize ---------------------------------------------------------------------------
  QuantizeCommand quantize(app);

  CLI11_PARSE(app, argc, argv);

  try {
    if (train->parsed() && task == "classify") {
      if (feature_columns_text.empty() || label_column.empty()) {
        throw InputError("--task classify needs --feature-columns and --label-column");
      }
      train_options.optimizer = parse_optimizer(optimizer_name);
      const ClassData data = read_class_data(train_data.path, train_data.time_column, parse_columns(feature_columns_text),
                                             label_column);
      const Split split = class_split_days(data, features.window, train_data);
      std::printf("train: classify %zu classes from %zu features over %d rows; %zu windows, validation %zu, test %zu\n",
                  data.classes.size(), data.feature_names.size(), features.window, split.train.size(),
                  split.validation.size(), split.test.size());
      const ModelFile model = train_classifier(data, features.window, split, train_options, [](const EpochReport& r) {
        std::printf("epoch %3d  loss %.4f  validation error %.2f%%  %.1f s\n", r.epoch, r.train_loss, r.validation_mape,
                    r.seconds);
        std::fflush(stdout);
      });
      save_model(model, train_model);
      std::printf("wrote %s\n", train_model.c_str());
    } else if (train->parsed()) {
      std::int64_t interval = 0;
      const Series series = load_series(train_data, &interval);
      features.lags = parse_lags(lags_text);
      features.calendar = !no_calendar;
      features.interval_seconds = interval;
      train_options.optimizer = parse_optimizer(optimizer_name);
      const std::size_t day = steps_per_day(interval);
      const Split split = chronological_split(series, features, train_data.validation_days * day, train_data.test_days * day);
      if (!export_dataset_dir.empty()) {
        ensure_directory(export_dataset_dir);
        export_dataset(series, features, split, fit_normalization(series, split), export_dataset_dir);
      }
      if (!save_initial.empty()) train_options.on_initialized = [&](const ModelFile& m) { save_model(m, save_initial); };
      std::printf("train: %zu windows, validation %zu, test %zu (held out); LSTM %d x %d, window %d, %d features\n",
                  split.train.size(), split.validation.size(), split.test.size(), train_options.layers,
                  train_options.hidden, features.window, features.features());
      const ModelFile model = train_forecaster(series, features, split, train_options, [](const EpochReport& r) {
        std::printf("epoch %3d  loss %.5f  validation MAPE %.3f%%  %.1f s\n", r.epoch, r.train_loss, r.validation_mape,
                    r.seconds);
        std::fflush(stdout);
      });
      save_model(model, train_model);
      std::printf("wrote %s\n", train_model.c_str());
    } else if (eval->parsed() && load_model(eval_model).spec.task == edgelstm::Task::kClassification) {
      const ModelFile model = load_model(eval_model);
      const ClassifierData loaded = load_classifier_data(eval_data, model);
      const ClassData& data = loaded.classes;
      const Split& split = loaded.split;
      std::vector<int> actual;
      for (std::size_t r : split.test) actual.push_back(data.labels[r]);
      const std::vector<int> predicted = classify(model, data, split.test);
      const std::vector<int> majority(actual.size(), majority_class(data, split.train));
      const std::string table = class_report(
          data.classes, {{"edgelstm LSTM", class_metrics(predicted, actual, data.classes.size())},
                         {"majority class (" + data.classes[static_cast<std::size_t>(majority.front())] + ")",
                          class_metrics(majority, actual, data.classes.size())}});
      std::printf("test span: last %d days, %zu rows\n%s", eval_data.test_days, split.test.size(), table.c_str());
      if (!report_dir.empty()) {
        ensure_directory(report_dir);
        std::ofstream md(report_dir + "/classification.md");
        md << "# edgelstm classification report\n\nData: `" << eval_data.path << "`, label `" << data.label_name
           << "`, test span: last " << eval_data.test_days << " days.\n\n" << table;
        std::printf("wrote %s/classification.md\n", report_dir.c_str());
      }
    } else if (eval->parsed() || predict->parsed()) {
      const DataOptions& data = eval->parsed() ? eval_data : predict_data;
      const ModelFile model = load_model(eval->parsed() ? eval_model : predict_model);
      // A file with the full-integer path runs it (as a device without FPU would); others run float.
      Forecaster forecaster(model);
      std::unique_ptr<IntegerForecaster> integer;
      if (has_integer_path(model)) integer = std::make_unique<IntegerForecaster>(model);
      const ModelData loaded = load_model_data(data, forecaster.features());
      const Series& series = loaded.series;
      const Split& split = loaded.split;
      const std::size_t day = loaded.day;
      std::vector<double> forecast, actual;
      for (std::size_t t : split.test) {
        forecast.push_back(integer ? integer->forecast(series, t) : forecaster.forecast(series, t));
        actual.push_back(series.values[t]);
      }
      if (predict->parsed()) {
        std::ofstream out(predict_out);
        out << "timestamp,actual,forecast\n";
        for (std::size_t k = 0; k < split.test.size(); ++k) {
          const std::time_t when = static_cast<std::time_t>(series.times[split.test[k]]);
          std::tm utc{};
          char stamp[32];
          std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime_r(&when, &utc));
          out << stamp << "," << actual[k] << "," << forecast[k] << "\n";
        }
        if (!out) throw InputError(predict_out + ": cannot write");
        std::printf("wrote %zu forecasts to %s\n", split.test.size(), predict_out.c_str());
        return 0;
      }
      const int week = static_cast<int>(7 * day);
      const std::vector<std::pair<std::string, Metrics>> rows = {
          {integer ? "edgelstm LSTM (full-integer path)" : "edgelstm LSTM", metrics_of(forecast, actual)},
          {"persistence x[t-1]", metrics_of(persistence(series, split.test), actual)},
          {"seasonal naive x[t-week]", metrics_of(seasonal_naive(series, split.test, week), actual)},
          {"persistence + last week's change", metrics_of(persistence_with_seasonal_change(series, split.test, week), actual)}};
      std::ostringstream table;
      table << "| forecaster (test span: last " << data.test_days << " days, " << split.test.size()
            << " one-step forecasts) | MAE | RMSE | MAPE |\n|---|---:|---:|---:|\n";
      for (const auto& [name, m] : rows) table << format_metrics_row(name, m) << "\n";
      if (reference_mape >= 0) {
        char line[160];
        std::snprintf(line, sizeof line, "| PyTorch: same network, data, split, initial weights, epochs | | | %.3f%% |\n",
                      reference_mape);
        table << line;
      }
      std::printf("%s", table.str().c_str());
      if (!report_dir.empty()) {
        ensure_directory(report_dir);
        PlotSeries a{"actual", {}, {}}, f{"edgelstm forecast", {}, {}};
        for (std::size_t k = 0; k < actual.size(); ++k) {
          const double days = static_cast<double>(k) / day;
          a.x.push_back(days);
          a.y.push_back(actual[k]);
          f.x.push_back(days);
          f.y.push_back(forecast[k]);
        }
        plot_lines(report_dir, "forecast", "One-step forecast over the test span", "days into the test span",
                   data.value_column, {a, f});
        PlotSeries loss{"training loss (normalized MSE)", {}, {}}, val{"validation MAPE (%)", {}, {}};
        const auto history = model.floats.find("train.history");
        if (history != model.floats.end()) {
          for (std::size_t k = 0; k + 2 < history->second.size(); k += 3) {
            loss.x.push_back(history->second[k]);
            loss.y.push_back(history->second[k + 1]);
            val.x.push_back(history->second[k]);
            val.y.push_back(history->second[k + 2]);
          }
        }
        plot_lines(report_dir, "learning_curve_loss", "Learning curve: training loss", "epoch", "loss", {loss});
        plot_lines(report_dir, "learning_curve_validation", "Learning curve: validation MAPE", "epoch", "MAPE %", {val});
        std::ofstream md(report_dir + "/report.md");
        md << "# edgelstm forecasting report\n\nData: `" << data.path << "`, column `" << data.value_column
           << "`. Model: " << static_cast<int>(model.spec.num_layers) << " x " << model.spec.hidden_size[0] << " LSTM, window "
           << model.spec.window << ", features `" << forecaster.features().encode() << "`.\n\n"
           << table.str() << "\n![forecast vs actual](forecast.svg)\n\n"
           << "![training loss](learning_curve_loss.svg)\n\n![validation MAPE](learning_curve_validation.svg)\n\n"
           << "Online learning (if `edgelstm online --report` wrote it): ![rolling error](online.svg)\n\n"
           << "Classification (if `edgelstm eval` of a classifier wrote it): [classification.md](classification.md)\n\n"
           << "Weight quantization (if `edgelstm quantize --study` wrote it): [quantization.md](quantization.md)\n";
        std::printf("wrote %s/report.md\n", report_dir.c_str());
      }
    } else if (online->parsed()) {
      std::int64_t interval = 0;
      const Series series = load_series(online_data, &interval);
      ModelFile model;
      FeatureConfig online_features;
      online_features.window = 6;
      online_features.interval_seconds = interval;
      Normalization norm;
      if (!online_model.empty()) {
        model = load_model(online_model);
        online_features = features_of(model);
        norm = normalization_of(model);
      } else {
        // A meter starting from scratch knows only its first day: scale by that day's readings.
        const std::size_t day = steps_per_day(interval);
        double sum = 0, squares = 0;
        for (std::size_t k = 0; k < day && k < series.values.size(); ++k) sum += series.values[k];
        norm.mean = sum / day;
        for (std::size_t k = 0; k < day && k < series.values.size(); ++k) squares += std::pow(series.values[k] - norm.mean, 2);
        norm.scale = std::max(1e-9, std::sqrt(squares / day));
        model.spec = edgelstm::make_spec(static_cast<std::uint16_t>(online_features.features()),
                                         static_cast<std::uint16_t>(online_options.hidden), 1, 1,
                                         static_cast<std::uint16_t>(online_features.window));
      }
      edgelstm::TrainConfig config;
      config.optimizer = edgelstm::OptimizerKind::kAdam;
      config.learning_rate = online_lr;
      config.clip_norm = 1.0f;
      std::vector<std::uint8_t> storage;
      edgelstm::Network net;
      edgelstm::Status status = net.bind_training(model.spec, config,
                                                  aligned_arena(storage, edgelstm::train_bytes(model.spec, config.optimizer)));
      if (status == edgelstm::Status::kOk) {
        if (online_model.empty()) {
          status = net.initialize(1, 1.0f);
        } else {
          std::copy(model.parameters.begin(), model.parameters.end(), net.parameters().begin());
        }
      }
      if (status != edgelstm::Status::kOk) throw InputError(std::string("cannot set up the network: ") + edgelstm::status_name(status));
      const std::size_t first = static_cast<std::size_t>(online_features.window - 1 + online_features.max_lag());
      const std::size_t week = 7 * steps_per_day(interval);
      std::vector<float> window(static_cast<std::size_t>(online_features.window * online_features.features()));
      PlotSeries lstm{"edgelstm online (weekly MAPE)", {}, {}}, pers{"persistence (weekly MAPE)", {}, {}};
      double sum = 0, sum_persistence = 0;
      std::size_t count = 0, refused = 0;
      std::printf("online: %s, %zu readings\n", online_model.empty() ? "from scratch" : online_model.c_str(), series.values.size());
      for (std::size_t t = first; t < series.values.size(); ++t) {
        build_window(series, online_features, norm, t, window.data());
        const float target = norm.apply(series.values[t]);
        const edgelstm::TrainResult r = net.train_step(edgelstm::Span<const float>(window.data(), window.size()),
                                                       edgelstm::Span<const float>(&target, 1), edgelstm::WindowStart::kZeroState);
        if (r.status != edgelstm::Status::kOk) {
          ++refused;
          continue;
        }
        const double actual = series.values[t];
        sum += 100.0 * std::fabs(norm.invert(net.window_outputs()[0]) - actual) / std::fabs(actual);
        sum_persistence += 100.0 * std::fabs(series.values[t - 1] - actual) / std::fabs(actual);
        if (++count == week || t + 1 == series.values.size()) {
          const double weeks = static_cast<double>(t + 1) / week;
          std::printf("week %5.1f  MAPE %.3f%%  (persistence %.3f%%)\n", weeks, sum / count, sum_persistence / count);
          lstm.x.push_back(weeks);
          lstm.y.push_back(sum / count);
          pers.x.push_back(weeks);
          pers.y.push_back(sum_persistence / count);
          sum = sum_persistence = 0;
          count = 0;
        }
      }
      std::printf("refused steps: %zu\n", refused);
      if (!online_report.empty()) {
        ensure_directory(online_report);
        plot_lines(online_report, "online", "Online learning, predict then learn at each reading", "week", "MAPE %",
                   {lstm, pers});
        std::printf("wrote %s/online.svg\n", online_report.c_str());
      }
    } else if (import_cmd->parsed()) {
      ModelFile model = import_torch_dump(import_dump, static_cast<std::uint16_t>(import_window),
                                          import_task == "classify" ? edgelstm::Task::kClassification : edgelstm::Task::kRegression,
                                          import_every_step ? edgelstm::OutputMode::kEveryStep : edgelstm::OutputMode::kLastStep);
      if (!import_features.empty()) {
        const FeatureConfig config = FeatureConfig::decode(import_features);
        if (config.features() != model.spec.input_size || config.window != import_window) {
          throw InputError("--features describe " + std::to_string(config.features()) + " inputs and a window of " +
                           std::to_string(config.window) + "; the network has " + std::to_string(model.spec.input_size) +
                           " inputs and --window " + std::to_string(import_window));
        }
        if (!(import_scale > 0)) throw InputError("--features needs --norm-mean and --norm-scale (> 0)");
        model.texts["meta.features"] = import_features;
        model.floats["norm.value"] = {static_cast<float>(import_mean), static_cast<float>(import_scale)};
      }
      save_model(model, import_out);
      std::printf("wrote %s (%zu parameters)\n", import_out.c_str(), model.parameters.size());
    } else if (quantize.parsed()) {
      quantize.run();
    } else if (inspect->parsed()) {
      const ModelFile model = load_model(inspect_model);
      const edgelstm::LstmSpec& s = model.spec;
      std::printf("%s: %s, input %u, %u layer(s) of", inspect_model.c_str(),
                  s.task == edgelstm::Task::kRegression ? "regression" : "classification", s.input_size, s.num_layers);
      for (std::size_t l = 0; l < s.num_layers; ++l) std::printf(" %u", s.hidden_size[l]);
      std::printf(" hidden, %u output(s) at the %s, window %u\n", s.output_size,
                  s.output_mode == edgelstm::OutputMode::kLastStep ? "last step" : "every step", s.window);
      std::printf("parameters: %zu (%zu bytes as float32)\n", edgelstm::parameter_count(s), edgelstm::parameter_count(s) * 4);
      std::printf("weights stored as %s%s; model file %zu bytes\n", format_name(model.format),
                  model.format == edgelstm::WeightFormat::kFloat32 ? ""
                  : model.granularity == edgelstm::ScaleGranularity::kRow ? " with one scale per row" : " with one scale per tensor",
                  serialize_model(model).size());
      std::printf("arena bytes on a device: inference %zu (weights in flash: %zu), training SGD %zu, momentum %zu, Adam %zu\n",
                  edgelstm::inference_bytes(s), edgelstm::inference_in_place_bytes(s),
                  edgelstm::train_bytes(s, edgelstm::OptimizerKind::kSgd), edgelstm::train_bytes(s, edgelstm::OptimizerKind::kMomentum),
                  edgelstm::train_bytes(s, edgelstm::OptimizerKind::kAdam));
      for (const auto& [name, text] : model.texts) std::printf("%s: %s\n", name.c_str(), text.c_str());
      for (const auto& [name, values] : model.floats) std::printf("%s: %zu values\n", name.c_str(), values.size());
      if (has_integer_path(model)) {
        std::printf("full-integer path: int8 weights, int16 activations; %zu bytes of weights and constants, arena %zu\n",
                    integer_device_bytes(s), edgelstm::integer_inference_bytes(s));
      }
    } else if (export_cmd->parsed() && export_format == "model-bytes") {
      run_export_model_bytes(export_model, export_out, export_name, replay_data, replay_steps);
    } else if (export_cmd->parsed()) {
      run_export_c_header(export_model, export_out, export_name);
    }
  } catch (const InputError& error) {
    std::fprintf(stderr, "edgelstm: %s\n", error.what());
    return 2;
  }
  return 0;
}
