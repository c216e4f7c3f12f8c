// One home behind its meter: the half-hourly demand of one SGSC household (kWh per step), the
// import price of every step under a tariff, and the chronological split of its days into a
// training span (the first two thirds) and a test span (the rest).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/tariff.h"

namespace edgelstm::policy {

struct Home {
  std::string name;                   // "file: meter <id>", for messages and reports
  std::vector<double> demand_kwh;     // per step, >= 0
  std::vector<std::int64_t> times;    // local clock time of each step's start, seconds since 1970
  std::vector<double> price;          // import price of each step, AUD/kWh
  std::vector<TariffBand> band;       // its tariff band
  std::vector<bool> working;          // whether the step falls on a working day (the peak band applies)
  double peak_price = 0;              // the tariff's highest import price, AUD/kWh
  double feed_in_price = 0;           // AUD/kWh exported
  double interval_hours = 0.5;
  std::size_t steps_per_day = 48;
  std::size_t steps() const { return demand_kwh.size(); }
};

// A home from readings at regular intervals that divide a day, starting at midnight (throws
// host::InputError otherwise, or for a negative reading).
Home make_home(std::string name, std::vector<double> demand_kwh, std::vector<std::int64_t> times,
               const TimeOfUseTariff& tariff);

// The column `meter` of a wide meter CSV (one column per meter, energy per interval in kWh).
Home load_home(const std::string& path, const std::string& time_column, const std::string& meter,
               const TimeOfUseTariff& tariff);

// Steps [begin, end) of a home.
struct StepRange {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};

// The first two thirds of the whole days (rounded to the nearest day) and the rest.
struct HomeSplit {
  StepRange train, test;
};
HomeSplit split_home(const Home& home);

}  // namespace edgelstm::policy
