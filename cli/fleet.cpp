// `edgelstm fleet`: the same meters through both platforms (self-learning meters, then the
// gateway platform) on a real broker, and the comparison report (fleet.md and SVG plots);
// `--scale` instead measures how far one broker and one gateway go on this machine.
#include <cstdio>
#include <unistd.h>

#include "cli/command.h"
#include "fleet/fleet_report.h"
#include "fleet/fleet_run.h"
#include "fleet/scale_run.h"
#include "host/child_process.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/output_file.h"

namespace edgelstm::cli {
namespace {

class FleetCommand : public Command {
 public:
  explicit FleetCommand(CLI::App& app)
      : Command(app.add_subcommand("fleet", "run the same meters through self-learning meters and a gateway platform "
                                            "on a real broker, and compare them (report with plots)")) {
    CLI::App* c = app_;
    c->add_option("--data", data_path_, "CSV: a timestamp column, then one column of kWh per half-hour per meter")
        ->capture_default_str()->check(CLI::ExistingFile);
    c->add_option("--report", report_dir_, "directory for fleet.md and its SVG plots (gnuplot)")->required();
    c->add_option("--work-dir", work_dir_, "broker, flash, database and log files (default: <report>/fleet_run)");
    c->add_option("--meters", meters_, "meters (0: every column; more than the file has reuses them, shifted by days)")
        ->capture_default_str()->check(CLI::Range(0, 100000));
    c->add_option("--days", days_, "days of readings (0: all)")->capture_default_str()->check(CLI::Range(0, 3650));
    c->add_option("--platform", platform_, "both, self-learning or gateway")
        ->capture_default_str()->check(CLI::IsMember({"both", "self-learning", "gateway"}));
    c->add_flag("--no-tls", no_tls_, "meters connect in the clear (default: TLS with certificates made for the run)");
    c->add_option("--outage-day", outage_day_, "a gateway outage on this day (1-based; 0: none)")
        ->capture_default_str()->check(CLI::Range(0, 3650));
    c->add_option("--outage-hours", outage_hours_, "its length, from noon")->capture_default_str()->check(CLI::Range(0.5, 240.0));
    c->add_flag("--outage-crash", outage_crash_, "kill the gateway (SIGKILL) instead of stopping it (then its last "
                                                 "counters are lost and the $SYS cross-check cannot be exact)");
    c->add_option("--evaluation-days", evaluation_days_, "the last days the headline comparison is on")
        ->capture_default_str()->check(CLI::Range(1, 3650));
    c->add_option("--meter-costs", costs_path_, "instruction counts of the meter (bench/mcu/meter_costs.py --csv)")
        ->capture_default_str()->check(CLI::ExistingFile);
    c->add_option("--gateway-hidden", options_.central.hidden, "hidden units of the gateway's LSTM")->capture_default_str()
        ->check(CLI::Range(1, 256));
    c->add_option("--gateway-epochs", options_.central.epochs, "epochs of each nightly training")->capture_default_str()
        ->check(CLI::Range(1, 100));
    c->add_option("--gateway-history-days", options_.central.history_days, "days each nightly training uses")
        ->capture_default_str()->check(CLI::Range(1, 3650));
    c->add_flag("--scale", scale_, "instead: the scale benchmark (gateway platform, open loop at rising rates)");
    c->add_option("--scale-rates", scale_rates_, "readings per second offered in the scale benchmark, comma-separated")
        ->capture_default_str()->delimiter(',')->check(CLI::Range(1e-3, 1e7));
  }

  void run() override {
    refuse_unless(scale_, {"--scale-rates"}, "--scale");
    if (work_dir_.empty()) work_dir_ = report_dir_ + "/fleet_run";
    host::check_output_directory({"--report", report_dir_});
    host::check_output_directory({"--work-dir", work_dir_});
    const fleet::FleetData data = fleet::load_fleet_data(data_path_, meters_);
    options_.gateway_program = host::this_program("fleet", "to start the gateway");
    options_.meters = data.meter_ids.size();
    options_.steps = days_ == 0 ? 0 : static_cast<std::size_t>(days_) * (86400 / data.interval_seconds);
    options_.tls = !no_tls_;
    options_.progress = [](const std::string& line) {
      std::printf("  %s\n", line.c_str());
      std::fflush(stdout);
    };
    if (scale_) {
      run_scale(data);
      return;
    }
    const fleet::MeterCosts costs = fleet::read_meter_costs(costs_path_);
    const std::size_t per_day = 86400 / data.interval_seconds;
    const std::size_t steps = options_.steps == 0 ? data.steps() : std::min(options_.steps, data.steps());
    if (outage_day_ > 0) {
      const std::size_t start = (static_cast<std::size_t>(outage_day_) - 1) * per_day + per_day / 2;
      if (start >= steps) throw host::InputError("fleet: --outage-day " + std::to_string(outage_day_) + " is past the run");
      options_.outages.push_back({0, start, static_cast<std::size_t>(outage_hours_ * 2), outage_crash_});
    }
    fleet::FleetResult self_learning, gateway;
    fleet::ComparisonInput input;
    input.data = &data;
    input.options = &options_;
    input.costs = costs;
    input.costs_path = costs_path_;
    input.evaluation_days = static_cast<std::size_t>(evaluation_days_);
    if (platform_ != "gateway") {
      std::printf("fleet: %zu self-learning meters, %zu readings each\n", data.meter_ids.size(), steps);
      fleet::FleetOptions o = options_;
      o.platform = fleet::Platform::kSelfLearning;
      o.work_directory = work_dir_ + "/self_learning";
      self_learning = fleet::run_fleet(data, o);
      input.self_learning = &self_learning;
    }
    if (platform_ != "self-learning") {
      std::printf("fleet: %zu meters on the gateway platform, %zu readings each\n", data.meter_ids.size(), steps);
      fleet::FleetOptions o = options_;
      o.platform = fleet::Platform::kGateway;
      o.work_directory = work_dir_ + "/gateway";
      gateway = fleet::run_fleet(data, o);
      input.gateway = &gateway;
    }
    const fleet::ComparisonSummary summary = fleet::write_fleet_report(report_dir_, input);
    std::printf("\nforecast quality, the last %d days (median over occupied homes, kWh per half-hour):\n", evaluation_days_);
    for (const fleet::QualityRow& row : summary.quality) {
      std::printf("  %-42s MAE %.4f  RMSE %.4f  WAPE %.1f%%\n", row.name.c_str(), row.median_mae, row.median_rmse,
                  row.median_wape);
    }
    if (input.self_learning != nullptr && input.gateway != nullptr) {
      std::printf("self-learning / gateway MAE %.3f (target <= 1.15: %s); both below every baseline: %s\n",
                  summary.mae_ratio, summary.within_15_percent ? "met" : "NOT met",
                  summary.both_beat_every_baseline ? "yes" : "no");
    }
    std::printf("wrote %s/fleet.md\n", report_dir_.c_str());
  }

 private:
  void run_scale(const fleet::FleetData& data) {
    fleet::ScaleOptions scale;
    scale.fleet = options_;
    scale.fleet.platform = fleet::Platform::kGateway;
    scale.fleet.work_directory = work_dir_ + "/scale";
    scale.fleet.tls = false;
    scale.rates = scale_rates_;
    const fleet::ScaleResult result = fleet::run_scale(data, scale);
    fleet::write_scale_report(report_dir_, data, scale, result);
    std::printf("wrote %s/fleet_scale.md\n", report_dir_.c_str());
  }

  std::string data_path_ = "data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv";
  std::string report_dir_, work_dir_, costs_path_ = "bench/mcu/meter_costs.csv";
  std::size_t meters_ = 0;
  int days_ = 0;
  std::string platform_ = "both";
  bool no_tls_ = false, scale_ = false, outage_crash_ = false;
  int outage_day_ = 10;
  double outage_hours_ = 6;
  int evaluation_days_ = 28;
  std::vector<double> scale_rates_ = {2000, 5000, 10000, 20000};
  fleet::FleetOptions options_;
};

}  // namespace

std::unique_ptr<Command> make_fleet_command(CLI::App& app) { return std::make_unique<FleetCommand>(app); }

}  // namespace edgelstm::cli
