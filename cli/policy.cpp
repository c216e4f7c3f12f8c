// `edgelstm policy`: home battery control from a meter's own readings. Runs the study of issue 17
// on one household of a wide meter CSV (one column per meter, kWh per half-hour): the optimiser's
// actions (GLPK), the LSTM policy trained on them (float and full integer) against tabular
// Q-learning, the rule and MPC references, each in closed loop on the test span, with and without
// sensor noise. --report DIR writes policy.md and SVG plots; --out and --integer-out the policies.
#include <cstdio>

#include "cli/command.h"
#include "host/csv_reader.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "host/output_file.h"
#include "policy/firmware_export.h"
#include "policy/home.h"
#include "policy/number_text.h"
#include "policy/policy_report.h"
#include "policy/policy_study.h"
#include "policy/sensor_noise.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::policy;

class PolicyCommand : public Command {
 public:
  explicit PolicyCommand(CLI::App& app)
      : Command(app.add_subcommand("policy", "home battery control: an LSTM policy trained on the optimiser's actions "
                                             "against tabular Q-learning, in closed loop on the test span")) {
    CLI::App* c = app_;
    c->add_option("--data", path_, "wide meter CSV: a timestamp column and one column of kWh per interval for each meter")
        ->required()->check(CLI::ExistingFile);
    c->add_option("--time-column", time_column_, "name of the timestamp column")->capture_default_str();
    c->add_option("--meter", meter_, "the meter (column) whose home is studied")->capture_default_str();
    // The battery.
    BatteryConfig& b = options_.battery;
    c->add_option("--capacity-kwh", b.capacity_kwh, "battery capacity")->capture_default_str();
    c->add_option("--power-kw", b.power_kw, "grid-side power limit when charging (inverter rating)")->capture_default_str();
    c->add_option("--efficiency", b.round_trip_efficiency, "round-trip efficiency, (0, 1]")->capture_default_str();
    c->add_option("--soc-min", b.soc_min, "lowest state of charge, fraction of the capacity")->capture_default_str();
    c->add_option("--soc-max", b.soc_max, "highest state of charge")->capture_default_str();
    c->add_option("--soc-initial", b.soc_initial, "state of charge at the start of each span")->capture_default_str();
    c->add_option("--levels", b.levels, "action levels each way (2 L + 1 actions)")->capture_default_str();
    // The tariff.
    c->add_option("--peak-price", tariff_.peak_price, "AUD/kWh, 14:00-20:00 working weekdays")->capture_default_str();
    c->add_option("--shoulder-price", tariff_.shoulder_price, "AUD/kWh")->capture_default_str();
    c->add_option("--off-peak-price", tariff_.off_peak_price, "AUD/kWh, 22:00-07:00")->capture_default_str();
    c->add_option("--feed-in-price", tariff_.feed_in_price, "AUD/kWh exported")->capture_default_str();
    // The LSTM policy.
    c->add_option("--hidden", options_.lstm.hidden, "LSTM hidden units")->capture_default_str()->check(CLI::Range(1, 1024));
    c->add_option("--window", options_.lstm.window, "decision times per input window")->capture_default_str()->check(CLI::Range(1, 1024));
    c->add_option("--epochs", options_.lstm.epochs, "training epochs (fixed: no model is chosen on the test span)")
        ->capture_default_str()->check(CLI::Range(1, 100000));
    c->add_option("--lr", options_.lstm.learning_rate, "Adam learning rate (falls linearly to a tenth)")
        ->capture_default_str()->check(CLI::PositiveNumber);
    c->add_option("--seed", options_.lstm.seed, "seed of the initial weights and the example order")->capture_default_str();
    c->add_flag("--no-cloning", no_cloning_, "skip the LSTM trained on the optimum's path only");
    // Q-learning.
    c->add_option("--q-episodes", options_.q.episodes, "Q-learning episodes over the training span")
        ->capture_default_str()->check(CLI::Range(1, 1000000));
    c->add_option("--q-alpha", options_.q.alpha, "Q-learning step size")->capture_default_str();
    c->add_option("--q-gamma", options_.q.gamma, "Q-learning discount per step")->capture_default_str();
    c->add_option("--q-bins", options_.q.demand_bins, "bins of the last reading in Q-learning's state")->capture_default_str();
    c->add_option("--q-epsilon-decay", options_.q.epsilon_decay, "epsilon factor per episode")->capture_default_str();
    c->add_option("--q-seed", options_.q.seed, "seed of Q-learning's exploration")->capture_default_str();
    c->add_flag("--no-q-grid", no_q_grid_, "skip Q-learning's alpha x bins sensitivity grid");
    // Noise.
    c->add_option("--noise-kwh", options_.noise_kwh, "sensor noise of the second condition: standard deviation per reading")
        ->capture_default_str();
    c->add_option("--noise-seed", options_.noise_seed, "seed of the sensor noise")->capture_default_str();
    // Outputs.
    c->add_option("--report", report_, "directory for policy.md and the SVG plots (gnuplot)");
    c->add_option("--out", out_, "write the trained LSTM policy (no noise) here");
    c->add_option("--integer-out", integer_out_, "write its full-integer variant here");
    c->add_option("--export-firmware", firmware_, "write the integer policy and a replay of its first test decisions as a C++ header");
    c->add_option("--replay-decisions", replay_decisions_, "decisions the firmware header replays")->capture_default_str();
  }

  void run() override {
    options_.behavioural_cloning = !no_cloning_;
    if (no_q_grid_) {
      options_.q_alphas.clear();
      options_.q_bins.clear();
    }
    refuse_unless(!firmware_.empty(), {"--replay-decisions"}, "--export-firmware");
    check_outputs();
    (void)add_sensor_noise({}, options_.noise_kwh, options_.noise_seed);  // refuses a bad --noise-kwh before any work
    const Home home = load_home(path_, time_column_, meter_, tariff_);
    const Battery battery(options_.battery, home.interval_hours);  // refuses a bad configuration before any work
    options_.progress = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
    const StudyResult study = run_policy_study(home, options_);
    std::printf("\n%s: training %zu steps, test %zu steps; optimum on the test span %.2f AUD (no battery %.2f AUD); "
                "GLPK and the dynamic program agree on %zu of %zu training actions\n\n",
                study.home.c_str(), study.split.train.size(), study.split.test.size(), study.test.milp_cost,
                study.test.no_battery_cost, study.train.equal_actions, study.split.train.size());
    std::printf("%s%s", results_tables(study).c_str(), target_verdict(study).c_str());
    if (!report_.empty()) {
      write_policy_report(study, options_, tariff_, home, report_);
      std::printf("wrote %s/policy.md\n", report_.c_str());
    }
    // A policy that saves nothing on the test span has not learned: no model file for it.
    const PolicyScore& lstm = study.clean.find(kLstm)->score;
    if (!(lstm.saving_share > 0) && (!out_.empty() || !integer_out_.empty() || !firmware_.empty())) {
      throw host::InputError("the LSTM policy did not learn: it saves " + number_text(100 * lstm.saving_share) +
                             "% of the optimal saving on the test span (no battery saves 0%); no policy written "
                             "(train longer: --epochs, --lr)");
    }
    if (!out_.empty()) host::save_model(study.clean.lstm_model, out_);
    if (!integer_out_.empty()) host::save_model(study.clean.integer_model, integer_out_);
    if (!firmware_.empty()) {
      const Readings readings = readings_of(home.demand_kwh, study.split.train);
      export_policy_firmware(study.clean.integer_model, home, battery, readings, study.split.test, replay_decisions_, firmware_);
    }
  }

 private:
  // Every output is checked before the study (minutes of training), not after it: none is the
  // data, none is another output, each can be written.
  void check_outputs() const {
    const std::vector<host::NamedPath> inputs = {{"--data", path_}};
    std::vector<host::NamedPath> outputs;
    for (const host::NamedPath& output : {host::NamedPath{"--out", out_}, host::NamedPath{"--integer-out", integer_out_},
                                          host::NamedPath{"--export-firmware", firmware_}}) {
      if (output.path.empty()) continue;
      host::check_output_file(output, inputs);
      for (const host::NamedPath& earlier : outputs) host::check_distinct_outputs(earlier, output);
      outputs.push_back(output);
    }
    if (!report_.empty()) host::check_output_directory({"--report", report_});
  }

  StudyOptions options_;
  TimeOfUseTariff tariff_;
  std::string path_, time_column_ = "timestamp", meter_ = "10006664";
  std::string report_, out_, integer_out_, firmware_;
  int replay_decisions_ = 48;
  bool no_cloning_ = false, no_q_grid_ = false;
};

}  // namespace

std::unique_ptr<Command> make_policy_command(CLI::App& app) { return std::make_unique<PolicyCommand>(app); }

}  // namespace edgelstm::cli
