// Energy a meter spends per day on communication and learning, from measured counts (its messages,
// TCP bytes and segments, radio sessions; its instructions per reading under QEMU) and datasheet
// currents. docs/fleet.md ("Energy model") gives the sources and the reasoning; in short:
//
//   E = V x [ sessions x (I_rx x t_on + (I_tx - I_rx) x t_tx)            radio, one session per wake
//           + sessions x connect x (I_rx x t_connect)                    radio off between sessions only
//           + instructions x CPI / f_clk x I_cpu ]                       the learning (self-learning meters)
//   t_on  = t_wake + t_rtt + t_tx          the radio listens from waking until the answer is in
//   t_tx  = airtime of what the meter sent: per TCP segment the 802.11b long preamble (192 us) and
//           94 header bytes (802.11 MAC 34 + LLC/SNAP 8 + IPv4 20 + TCP 32), each byte 8 us at 1 Mbps
//
// Two ways to run the radio: kept associated in Wi-Fi power save between sessions (connect = 0;
// the association's own standby cost is the same for both platforms and not counted), or switched
// off between sessions (connect = 1: every session first associates, gets its address, opens TCP
// and resumes TLS, t_connect). The standby floor of the meter itself (light sleep all day) is given
// apart: it is the same for both platforms.
#pragma once

#include <string>
#include <vector>

namespace edgelstm::fleet {

struct ChipFigures {
  std::string name;
  std::string cost_target;  // the emulated target whose instruction counts stand for this chip
  double clock_hz = 0;
  double cpu_ma = 0, tx_ma = 0, rx_ma = 0, light_sleep_ma = 0;
  double volts = 3.3;
  std::string source;  // the datasheet tables the currents come from
};

// ESP32 (its Xtensa LX6 is not emulated here: rv32imafc, a single-issue 32-bit core with a
// single-precision FPU like it, stands in) and ESP32-C3 (RV32IMC, exactly the rv32imc target).
std::vector<ChipFigures> datasheet_chips();

struct RadioTiming {
  double wake_seconds = 0.002;    // from light sleep with the RF back on (ESP32: about 1 ms)
  double rtt_seconds = 0.030;     // a round trip from a home to the utility's broker over broadband
  double connect_seconds = 1.0;   // association + DHCP/ARP + TCP + TLS resumption + MQTT CONNECT
  double cpi = 1.0;               // cycles per instruction assumed for the counted instructions
};

// What one meter did in one day, on average (measured).
struct MeterDay {
  double sessions = 0;        // wakes with a transmission (a readings frame, a summary)
  double segments_up = 0;     // TCP segments it sent
  double bytes_up = 0;        // TCP payload bytes it sent (MQTT, or TLS records)
  double instructions = 0;    // the learning's instructions on the chip's cost target
};

struct EnergyDay {
  double radio_joules = 0, connect_joules = 0, cpu_joules = 0;
  double radio_on_seconds = 0, cpu_seconds = 0;
  double total_joules() const { return radio_joules + connect_joules + cpu_joules; }
};

EnergyDay energy_per_day(const ChipFigures& chip, const RadioTiming& timing, const MeterDay& day, bool radio_off_between);

// The standby floor: the chip in light sleep for a whole day (the same for both platforms).
double standby_joules_per_day(const ChipFigures& chip);

}  // namespace edgelstm::fleet
