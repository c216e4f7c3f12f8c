// The double-buffered checkpoint in (emulated) NOR flash: a power cut after any number of erased or
// programmed bytes leaves either the previous or the new checkpoint readable, never neither and
// never a mixture; damaged slots are passed over; sequence numbers wrap.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

constexpr std::size_t kSector = 64;
constexpr std::size_t kPayload = 100;
constexpr std::size_t kSlot = edgelstm::checkpoint_slot_bytes(kPayload, kSector);  // 128
static_assert(kSlot == 128, "two sectors: header + 100 bytes do not fit one");

std::uint8_t g_memory[4 * kSlot];

void make_payload(std::uint8_t* out, std::uint8_t seed) {
  for (std::size_t k = 0; k < kPayload; ++k) out[k] = static_cast<std::uint8_t>(seed * 31 + k * 7);
}

// Loads and returns the sequence (0 when none), checking the payload equals `a` or `b`.
std::uint32_t load_sequence(edgelstm::DoubleBufferedCheckpoint& checkpoint, const std::uint8_t* a,
                            const std::uint8_t* b, bool* matches_a) {
  std::uint8_t out[kPayload];
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  const edgelstm::Status status = checkpoint.load(out, &size, &sequence);
  if (status == edgelstm::Status::kNotFound) return 0;
  if (status != edgelstm::Status::kOk || size != kPayload) return 0xFFFFFFFFu;
  *matches_a = std::memcmp(out, a, kPayload) == 0;
  if (!*matches_a && std::memcmp(out, b, kPayload) != 0) return 0xFFFFFFFEu;
  return sequence;
}

EDGELSTM_TEST(Checkpoint, FreshFlashHasNoneThenSavesAlternateSlots) {
  edgelstm::RamFlash flash(g_memory, kSector);
  flash.erase_all();
  edgelstm::DoubleBufferedCheckpoint checkpoint;
  ASSERT_OK(checkpoint.bind(flash, kSlot, kSlot));  // a region after an offset, as in a partition
  EXPECT_EQ_INT(checkpoint.capacity(), kSlot - edgelstm::kCheckpointHeaderBytes);
  std::uint8_t out[kPayload];
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  EXPECT_STATUS(checkpoint.load(out, &size, &sequence), edgelstm::Status::kNotFound);
  std::uint8_t first[kPayload], second[kPayload];
  make_payload(first, 1);
  make_payload(second, 2);
  ASSERT_OK(checkpoint.save(first));
  ASSERT_OK(checkpoint.load(out, &size, &sequence));
  EXPECT_EQ_INT(sequence, 1);
  EXPECT_TRUE(std::memcmp(out, first, kPayload) == 0);
  ASSERT_OK(checkpoint.save(second));
  ASSERT_OK(checkpoint.load(out, &size, &sequence));
  EXPECT_EQ_INT(sequence, 2);
  EXPECT_TRUE(std::memcmp(out, second, kPayload) == 0);
  // The slots alternate: the first slot still holds checkpoint 1 and the bytes before the region
  // (the first kSlot bytes) were never touched.
  EXPECT_TRUE(std::memcmp(g_memory + kSlot + edgelstm::kCheckpointHeaderBytes, first, kPayload) == 0);
  for (std::size_t k = 0; k < kSlot; ++k) EXPECT_TRUE(g_memory[k] == 0xFF);
  // Too large a payload is refused and changes nothing.
  std::uint8_t large[kSlot];
  std::memset(large, 0, sizeof large);
  EXPECT_STATUS(checkpoint.save(large), edgelstm::Status::kBufferTooSmall);
  ASSERT_OK(checkpoint.load(out, &size, &sequence));
  EXPECT_EQ_INT(sequence, 2);
}

EDGELSTM_TEST(Checkpoint, APowerCutAnywhereInASaveLeavesTheOldOrTheNew) {
  std::uint8_t old_payload[kPayload], new_payload[kPayload];
  make_payload(old_payload, 3);
  make_payload(new_payload, 4);
  // Bytes one save erases and programs: the slot, the payload, the header.
  const std::size_t total = kSlot + kPayload + edgelstm::kCheckpointHeaderBytes;
  int old_seen = 0, new_seen = 0;
  for (int saved_before = 1; saved_before <= 2; ++saved_before) {  // the new save goes to slot 1, then slot 0
    for (std::size_t budget = 0; budget <= total; ++budget) {
      edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(g_memory, 2 * kSlot), kSector);
      flash.erase_all();
      edgelstm::DoubleBufferedCheckpoint checkpoint;
      ASSERT_OK(checkpoint.bind(flash, 0, kSlot));
      for (int k = 0; k < saved_before; ++k) ASSERT_OK(checkpoint.save(old_payload));
      flash.cut_power_after(budget);
      const edgelstm::Status status = checkpoint.save(new_payload);
      EXPECT_TRUE((status == edgelstm::Status::kOk) == (budget == total));
      // After the reboot (power back): the previous checkpoint, or the new one once complete.
      flash.cut_power_after(edgelstm::RamFlash::kNoPowerCut);
      bool is_old = false;
      const std::uint32_t sequence = load_sequence(checkpoint, old_payload, new_payload, &is_old);
      if (budget < total) {
        EXPECT_TRUE(is_old);
        EXPECT_EQ_INT(sequence, static_cast<std::uint32_t>(saved_before));
        old_seen += is_old ? 1 : 0;
      } else {
        EXPECT_TRUE(!is_old);
        EXPECT_EQ_INT(sequence, static_cast<std::uint32_t>(saved_before + 1));
        new_seen += is_old ? 0 : 1;
      }
      // And the next save after such a cut works and becomes the newest.
      ASSERT_OK(checkpoint.save(new_payload));
      EXPECT_EQ_INT(load_sequence(checkpoint, old_payload, new_payload, &is_old), sequence + 1);
      EXPECT_TRUE(!is_old);
    }
  }
  EXPECT_EQ_INT(old_seen, 2 * static_cast<int>(total));
  EXPECT_EQ_INT(new_seen, 2);
}

EDGELSTM_TEST(Checkpoint, AHalfProgrammedHeaderNeverCostsTheOnlyGoodSlot) {
  // A cut inside the new header's CRC leaves a plausible header over a complete payload; the save
  // after the reboot must overwrite that slot, not the one holding the only valid checkpoint.
  std::uint8_t a[kPayload], b[kPayload], c[kPayload];
  make_payload(a, 5);
  make_payload(b, 6);
  make_payload(c, 7);
  edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(g_memory, 2 * kSlot), kSector);
  flash.erase_all();
  edgelstm::DoubleBufferedCheckpoint checkpoint;
  ASSERT_OK(checkpoint.bind(flash, 0, kSlot));
  ASSERT_OK(checkpoint.save(a));
  flash.cut_power_after(kSlot + kPayload + 13);  // magic, sequence, size and one CRC byte
  EXPECT_STATUS(checkpoint.save(b), edgelstm::Status::kFlashError);
  flash.cut_power_after(kSlot + 5);  // the next save dies just after its erase
  EXPECT_STATUS(checkpoint.save(c), edgelstm::Status::kFlashError);
  flash.cut_power_after(edgelstm::RamFlash::kNoPowerCut);
  bool is_a = false;
  EXPECT_EQ_INT(load_sequence(checkpoint, a, c, &is_a), 1);
  EXPECT_TRUE(is_a);
}

EDGELSTM_TEST(Checkpoint, DamagedSlotsArePassedOverAndSequencesWrap) {
  std::uint8_t a[kPayload], b[kPayload];
  make_payload(a, 8);
  make_payload(b, 9);
  edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(g_memory, 2 * kSlot), kSector);
  flash.erase_all();
  edgelstm::DoubleBufferedCheckpoint checkpoint;
  ASSERT_OK(checkpoint.bind(flash, 0, kSlot));
  ASSERT_OK(checkpoint.save(a));  // slot 0, sequence 1
  ASSERT_OK(checkpoint.save(b));  // slot 1, sequence 2
  // A bit flipped in the newest payload: the older checkpoint is the one loaded.
  g_memory[kSlot + edgelstm::kCheckpointHeaderBytes + 40] ^= 0x10;
  bool is_a = false;
  EXPECT_EQ_INT(load_sequence(checkpoint, a, b, &is_a), 1);
  EXPECT_TRUE(is_a);
  // Both damaged: none.
  g_memory[edgelstm::kCheckpointHeaderBytes + 3] ^= 0x01;
  std::uint8_t out[kPayload];
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  EXPECT_STATUS(checkpoint.load(out, &size, &sequence), edgelstm::Status::kNotFound);
  // A sequence number at the end of its range: 0xFFFFFFFF, then the save after it wraps to 0 and
  // still counts as the newer one.
  flash.erase_all();
  ASSERT_OK(checkpoint.save(a));
  std::uint8_t header[edgelstm::kCheckpointHeaderBytes];
  std::memcpy(header, g_memory, sizeof header);
  const std::uint32_t last = 0xFFFFFFFFu;
  for (int k = 0; k < 4; ++k) header[4 + k] = static_cast<std::uint8_t>(last >> (8 * k));
  // Re-seal the header with its CRC (magic, sequence, size, then payload), as save() would have.
  std::uint32_t crc = edgelstm::crc32_update(0, header, 12);
  crc = edgelstm::crc32_update(crc, a, kPayload);
  for (int k = 0; k < 4; ++k) header[12 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  std::memcpy(g_memory, header, sizeof header);
  EXPECT_EQ_INT(load_sequence(checkpoint, a, b, &is_a), last);
  ASSERT_OK(checkpoint.save(b));
  EXPECT_EQ_INT(load_sequence(checkpoint, a, b, &is_a), 0);
  EXPECT_TRUE(!is_a);
}

EDGELSTM_TEST(Checkpoint, BindRefusesRegionsThatDoNotFit) {
  edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(g_memory, 2 * kSlot), kSector);
  edgelstm::DoubleBufferedCheckpoint checkpoint;
  EXPECT_STATUS(checkpoint.bind(flash, 0, kSlot + 1), edgelstm::Status::kInvalidArgument);   // not sectors
  EXPECT_STATUS(checkpoint.bind(flash, kSector, kSlot), edgelstm::Status::kInvalidArgument); // past the end
  EXPECT_STATUS(checkpoint.bind(flash, 1, kSector), edgelstm::Status::kInvalidArgument);     // unaligned
  std::uint8_t out[4];
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  EXPECT_STATUS(checkpoint.load(out, &size, &sequence), edgelstm::Status::kNotBound);
}

}  // namespace
