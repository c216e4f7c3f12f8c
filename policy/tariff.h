// The price a home pays for each half-hour: a residential time-of-use tariff with three bands and
// a feed-in price for exported energy. The band structure is Ausgrid's residential time-of-use
// tariff (the network of the SGSC trial homes, Sydney/Newcastle) as it stood in 2013, before its
// 2018 seasonal reform:
//   peak      14:00-20:00 on working weekdays
//   shoulder  07:00-14:00 and 20:00-22:00 on working weekdays, 07:00-22:00 on weekends and public holidays
//   off-peak  22:00-07:00 every day
// The prices are representative of NSW retail time-of-use offers of that time (not one retailer's
// quoted offer); the feed-in price lies within IPART's benchmark range for NSW voluntary feed-in
// tariffs (7.7-12.9 c/kWh in 2012/13): see docs/policy.md. Times are the series' local clock
// times (no time zone).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgelstm::policy {

enum class TariffBand : std::uint8_t { kOffPeak, kShoulder, kPeak };

const char* band_name(TariffBand band);

struct TimeOfUseTariff {
  double peak_price = 0.50;      // AUD per kWh imported
  double shoulder_price = 0.20;  // AUD per kWh imported
  double off_peak_price = 0.12;  // AUD per kWh imported
  double feed_in_price = 0.08;   // AUD per kWh exported (0: exported energy earns nothing)
  // Public holidays (days since 1970-01-01 of the local date): no peak band, shoulder all day.
  // Default: the NSW public holidays of 2013 (New Year, Australia Day observed, Good Friday,
  // Easter Saturday and Monday, Anzac Day, Queen's Birthday, Labour Day, Christmas, Boxing Day).
  std::vector<std::int64_t> holidays = nsw_holidays_2013();

  // Throws host::InputError naming the field for a price that is negative, not finite, out of the
  // order off-peak <= shoulder <= peak, or a feed-in price above the off-peak price (exporting would
  // then pay more than importing costs: an arbitrage the battery model does not represent).
  void validate() const;

  TariffBand band(std::int64_t local_seconds) const;
  double price(std::int64_t local_seconds) const;
  double band_price(TariffBand band) const;
  bool working_day(std::int64_t local_seconds) const;  // Monday to Friday and not a holiday

  static std::vector<std::int64_t> nsw_holidays_2013();
};

// Day of the week of a local time, 0 = Monday .. 6 = Sunday.
int weekday_of(std::int64_t local_seconds);
// Seconds since local midnight.
std::int64_t seconds_of_day(std::int64_t local_seconds);

}  // namespace edgelstm::policy
