#include "policy/home.h"

#include <cmath>

#include "host/csv_reader.h"
#include "policy/number_text.h"

namespace edgelstm::policy {

Home make_home(std::string name, std::vector<double> demand_kwh, std::vector<std::int64_t> times,
               const TimeOfUseTariff& tariff) {
  tariff.validate();
  if (demand_kwh.size() != times.size() || times.size() < 2) {
    throw host::InputError(name + ": expected at least two readings with one timestamp each");
  }
  const std::int64_t interval = times[1] - times[0];
  if (interval <= 0 || 86400 % interval != 0) {
    throw host::InputError(name + ": the reading interval (" + std::to_string(interval) + " s) does not divide a day");
  }
  for (std::size_t t = 1; t < times.size(); ++t) {
    if (times[t] - times[t - 1] != interval) throw host::InputError(name + ": the readings are not regular at step " + std::to_string(t));
  }
  if (seconds_of_day(times[0]) != 0) throw host::InputError(name + ": the readings must start at midnight");
  Home home;
  home.name = std::move(name);
  home.interval_hours = static_cast<double>(interval) / 3600.0;
  home.steps_per_day = static_cast<std::size_t>(86400 / interval);
  home.feed_in_price = tariff.feed_in_price;
  home.peak_price = tariff.peak_price;
  for (std::size_t t = 0; t < times.size(); ++t) {
    if (!(demand_kwh[t] >= 0) || !std::isfinite(demand_kwh[t])) {
      throw host::InputError(home.name + ": reading " + std::to_string(t) + " is " + number_text(demand_kwh[t]) +
                             ", expected an energy >= 0 kWh");
    }
    home.band.push_back(tariff.band(times[t]));
    home.working.push_back(tariff.working_day(times[t]));
    home.price.push_back(tariff.band_price(home.band.back()));
  }
  home.demand_kwh = std::move(demand_kwh);
  home.times = std::move(times);
  return home;
}

Home load_home(const std::string& path, const std::string& time_column, const std::string& meter,
               const TimeOfUseTariff& tariff) {
  host::Table table = host::read_table(path, time_column, {host::ColumnRequest{meter, true}}, true);
  for (std::size_t r = 0; r < table.rows(); ++r) {
    if (table.numbers[0][r] < 0) {
      throw host::InputError(path + ":" + std::to_string(table.lines[r]) + ": column '" + meter +
                             "': expected an energy >= 0 kWh, found " + number_text(table.numbers[0][r]));
    }
  }
  return make_home(path + ": meter " + meter, std::move(table.numbers[0]), std::move(table.times), tariff);
}

HomeSplit split_home(const Home& home) {
  const std::size_t days = home.steps() / home.steps_per_day;
  const std::size_t train_days = static_cast<std::size_t>(std::lround(2.0 * static_cast<double>(days) / 3.0));
  if (days < 3 || train_days == 0 || train_days >= days) {
    throw host::InputError(home.name + ": " + std::to_string(days) + " whole days; at least 3 are needed to train on two thirds and test on the rest");
  }
  HomeSplit split;
  split.train = {0, train_days * home.steps_per_day};
  split.test = {split.train.end, days * home.steps_per_day};
  return split;
}

}  // namespace edgelstm::policy
