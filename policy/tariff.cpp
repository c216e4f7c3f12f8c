#include "policy/tariff.h"

#include <algorithm>
#include <cmath>

#include "host/csv_reader.h"
#include "policy/number_text.h"

namespace edgelstm::policy {
namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t day_of(std::int64_t local_seconds) {
  return local_seconds >= 0 ? local_seconds / kDay : (local_seconds - (kDay - 1)) / kDay;
}

void require_price(double value, const char* name) {
  if (!std::isfinite(value) || value < 0) {
    throw host::InputError(std::string("tariff: ") + name + " must be a finite price >= 0 AUD/kWh, found " +
                           number_text(value));
  }
}

}  // namespace

const char* band_name(TariffBand band) {
  switch (band) {
    case TariffBand::kOffPeak: return "off-peak";
    case TariffBand::kShoulder: return "shoulder";
    case TariffBand::kPeak: return "peak";
  }
  return "?";
}

int weekday_of(std::int64_t local_seconds) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((day_of(local_seconds) + 3) % 7 + 7) % 7);
}

std::int64_t seconds_of_day(std::int64_t local_seconds) { return local_seconds - day_of(local_seconds) * kDay; }

std::vector<std::int64_t> TimeOfUseTariff::nsw_holidays_2013() {
  // Days since 1970-01-01: 2013-01-01 is day 15706.
  const std::int64_t jan1 = 15706;
  const int day_of_year[] = {1, 28, 88, 89, 91, 115, 161, 280, 359, 360};  // Jan 1, Jan 28, Mar 29, 30, Apr 1,
                                                                          // Apr 25, Jun 10, Oct 7, Dec 25, 26
  std::vector<std::int64_t> days;
  for (int d : day_of_year) days.push_back(jan1 + d - 1);
  return days;
}

void TimeOfUseTariff::validate() const {
  require_price(peak_price, "the peak price");
  require_price(shoulder_price, "the shoulder price");
  require_price(off_peak_price, "the off-peak price");
  require_price(feed_in_price, "the feed-in price");
  if (!(peak_price > 0)) throw host::InputError("tariff: the peak price must be > 0 AUD/kWh");
  if (!(off_peak_price <= shoulder_price && shoulder_price <= peak_price)) {
    throw host::InputError("tariff: expected off-peak <= shoulder <= peak prices, found " + number_text(off_peak_price) +
                           ", " + number_text(shoulder_price) + ", " + number_text(peak_price) + " AUD/kWh");
  }
  if (feed_in_price > off_peak_price) {
    throw host::InputError("tariff: the feed-in price (" + number_text(feed_in_price) +
                           " AUD/kWh) exceeds the off-peak import price (" + number_text(off_peak_price) +
                           "): importing to export would pay, which this home battery model does not represent");
  }
}

bool TimeOfUseTariff::working_day(std::int64_t local_seconds) const {
  if (weekday_of(local_seconds) >= 5) return false;
  return std::find(holidays.begin(), holidays.end(), day_of(local_seconds)) == holidays.end();
}

TariffBand TimeOfUseTariff::band(std::int64_t local_seconds) const {
  const std::int64_t hour = seconds_of_day(local_seconds) / 3600;
  if (hour < 7 || hour >= 22) return TariffBand::kOffPeak;
  if (working_day(local_seconds) && hour >= 14 && hour < 20) return TariffBand::kPeak;
  return TariffBand::kShoulder;
}

double TimeOfUseTariff::band_price(TariffBand b) const {
  switch (b) {
    case TariffBand::kOffPeak: return off_peak_price;
    case TariffBand::kShoulder: return shoulder_price;
    case TariffBand::kPeak: return peak_price;
  }
  return peak_price;
}

double TimeOfUseTariff::price(std::int64_t local_seconds) const { return band_price(band(local_seconds)); }

}  // namespace edgelstm::policy
