#include "fleet/energy_model.h"

namespace edgelstm::fleet {

std::vector<ChipFigures> datasheet_chips() {
  ChipFigures esp32;
  esp32.name = "ESP32 (240 MHz)";
  esp32.cost_target = "rv32imafc";
  esp32.clock_hz = 240e6;
  esp32.cpu_ma = 68;          // modem-sleep, CPU at 240 MHz: 30-68 mA (the upper end: both cores busy)
  esp32.tx_ma = 240;          // 802.11b, 1 Mbps, POUT = +19.5 dBm
  esp32.rx_ma = 100;          // 802.11b/g/n: 95-100 mA
  esp32.light_sleep_ma = 0.8;
  esp32.source =
      "ESP32 Series Datasheet (Espressif): RF power-consumption specifications (TX 240 mA, RX 95-100 mA; "
      "3.3 V, 25 C, TX at 50% duty cycle) and power consumption by power modes (modem-sleep 240 MHz 30-68 mA, "
      "light-sleep 0.8 mA)";
  ChipFigures c3;
  c3.name = "ESP32-C3 (160 MHz)";
  c3.cost_target = "rv32imc";
  c3.clock_hz = 160e6;
  c3.cpu_ma = 28;             // CPU running at 160 MHz, RF off
  c3.tx_ma = 335;             // 802.11b, 1 Mbps, @21 dBm
  c3.rx_ma = 84;              // 802.11b/g/n HT20
  c3.light_sleep_ma = 0.13;
  c3.source =
      "ESP32-C3 Series Datasheet (Espressif): current consumption depending on RF modes (TX 802.11b 1 Mbps "
      "@21 dBm 335 mA, RX HT20 84 mA) and on work modes (CPU at 160 MHz ~28 mA, light-sleep 130 uA)";
  return {esp32, c3};
}

EnergyDay energy_per_day(const ChipFigures& chip, const RadioTiming& timing, const MeterDay& day,
                         bool radio_off_between) {
  constexpr double kPreambleSeconds = 192e-6;  // 802.11b long preamble and PLCP header
  constexpr double kHeaderBytes = 94;          // 802.11 MAC 34 + LLC/SNAP 8 + IPv4 20 + TCP with timestamps 32
  constexpr double kSecondsPerByte = 8e-6;     // 1 Mbps
  const double amps_to_joules = chip.volts * 1e-3;  // mA x s -> J
  EnergyDay e;
  const double tx_seconds = day.segments_up * (kPreambleSeconds + kHeaderBytes * kSecondsPerByte) +
                            day.bytes_up * kSecondsPerByte;
  e.radio_on_seconds = day.sessions * (timing.wake_seconds + timing.rtt_seconds) + tx_seconds;
  // Receiving the whole time the radio is on, transmitting (at the higher current) for t_tx of it.
  e.radio_joules = amps_to_joules * (chip.rx_ma * (e.radio_on_seconds - tx_seconds) + chip.tx_ma * tx_seconds);
  if (radio_off_between) e.connect_joules = amps_to_joules * chip.rx_ma * day.sessions * timing.connect_seconds;
  e.cpu_seconds = day.instructions * timing.cpi / chip.clock_hz;
  e.cpu_joules = amps_to_joules * chip.cpu_ma * e.cpu_seconds;
  return e;
}

double standby_joules_per_day(const ChipFigures& chip) { return chip.volts * 1e-3 * chip.light_sleep_ma * 86400.0; }

}  // namespace edgelstm::fleet
