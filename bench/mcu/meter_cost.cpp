// What the fleet's self-learning meter costs on a microcontroller, counted exactly under QEMU by
// tools/qemu-plugin/insn_count.c (bench/mcu/meter_costs.py runs it and writes meter_costs.csv,
// which `edgelstm fleet` reads for the meters' instructions per day and their energy):
//   observe:      one reading of the fleet's MeterForecaster (the shape fleet/meter.h uses: 16 units,
//                 window 6, 4 replayed windows): forecast scored, 1 + 4 training steps, the next
//                 forecast. Measured at reading 60, when the replay is active (its cost per
//                 reading does not depend on how far back the replayed targets lie)
//   checkpoint:   serializing the forecaster and writing it double-buffered to flash (here RAM
//                 standing for the flash: the program and erase calls, the read-back CRC)
//   restore:      at boot, finding the newest valid checkpoint and restoring it
//   encode_readings: the gateway platform's per-reading work: one readings frame
// The firmware's size (flash = text + rodata, RAM = data + bss, the arena and buffers included) is
// read from the ELF by the script.
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "markers.h"

namespace {

constexpr edgelstm::MeterForecasterSpec kSpec = {16, 6, 48, 7, 4, 336};
constexpr std::size_t kSector = 4096;
constexpr std::size_t kSlot = edgelstm::checkpoint_slot_bytes(edgelstm::meter_checkpoint_bytes(kSpec), kSector);
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::meter_forecaster_bytes(kSpec)];
alignas(4) std::uint8_t g_checkpoint[edgelstm::meter_checkpoint_bytes(kSpec)];
std::uint8_t g_flash[2 * kSlot];  // stands for the flash partition
std::uint32_t g_reading_wh[1] = {412};  // in RAM, as a measured reading would be
std::uint8_t g_frame[edgelstm::readings_frame_bytes(1)];
int g_region = 0;

// "region <index> 7 16 1 <kind>" (the format cost_table.py pairs with the plugin's counts; on the
// LX106 also the region's CCOUNT ticks, which it checks the counts against).
void announce(const char* kind) {
  std::printf("region %d 7 16 1 %s\n", g_region++, kind);
#if defined(__xtensa__)
  std::printf("ccount %d %u\n", g_region - 1, static_cast<unsigned>(edgelstm::bench::region_ccount_ticks()));
#endif
}

// A household-like day in kWh per half-hour (night, morning peak, evening peak), varying by day.
float reading(std::uint32_t n) {
  const std::uint32_t slot = n % 48, day = n / 48;
  float base = 0.12f + 0.02f * static_cast<float>((day * 7u) % 5u);
  if (slot >= 13 && slot < 17) base += 0.35f;
  if (slot >= 34 && slot < 44) base += 0.6f + 0.05f * static_cast<float>(day % 3u);
  return base;
}

}  // namespace

int main() {
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  std::printf("region %d 0 0 0 empty\n", g_region++);
#if defined(__xtensa__)
  std::printf("ccount 0 %u\n", static_cast<unsigned>(edgelstm::bench::region_ccount_ticks()));
#endif
  edgelstm::MeterForecaster meter;
  if (meter.bind(kSpec, edgelstm::MeterForecasterConfig{}, g_arena) != edgelstm::Status::kOk) return 1;
  constexpr std::uint32_t kStart = 1365984000u;  // a Monday, 00:00
  edgelstm::MeterObservation o;
  std::uint32_t n = 0;
  for (; n < 60; ++n) {
    if (meter.observe(kStart + 1800u * n, reading(n), &o) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status observed = meter.observe(kStart + 1800u * n, reading(n), &o);
  EDGELSTM_MARK_END();
  if (observed != edgelstm::Status::kOk || o.trained != 1 + kSpec.replay || !o.has_forecast) return 1;
  announce("observe");
  ++n;

  edgelstm::RamFlash flash(g_flash, kSector);
  flash.erase_all();
  edgelstm::DoubleBufferedCheckpoint slots;
  if (slots.bind(flash, 0, kSlot) != edgelstm::Status::kOk) return 1;
  EDGELSTM_MARK_BEGIN();
  edgelstm::Status saved = meter.save(g_checkpoint);
  if (saved == edgelstm::Status::kOk) saved = slots.save(g_checkpoint);
  EDGELSTM_MARK_END();
  if (saved != edgelstm::Status::kOk) return 1;
  announce("checkpoint");

  edgelstm::MeterForecaster rebooted;
  if (rebooted.bind(kSpec, edgelstm::MeterForecasterConfig{}, g_arena) != edgelstm::Status::kOk) return 1;
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  EDGELSTM_MARK_BEGIN();
  edgelstm::Status restored = slots.load(g_checkpoint, &size, &sequence);
  if (restored == edgelstm::Status::kOk) restored = rebooted.restore(edgelstm::Span<const std::uint8_t>(g_checkpoint, size));
  EDGELSTM_MARK_END();
  if (restored != edgelstm::Status::kOk || rebooted.readings() != n) return 1;
  announce("restore");

  std::size_t written = 0;
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status encoded = edgelstm::encode_readings(kStart + 1800u * n, 1800, g_reading_wh, g_frame, &written);
  EDGELSTM_MARK_END();
  if (encoded != edgelstm::Status::kOk || written != sizeof g_frame || g_frame[12] != 412 % 256) return 1;
  announce("encode_readings");
  std::printf("arena %u checkpoint %u slot %u\n", static_cast<unsigned>(sizeof g_arena),
              static_cast<unsigned>(sizeof g_checkpoint), static_cast<unsigned>(kSlot));
  return 0;
}
