// The few ARMv7-M core registers the cluster's boards use (NVIC, SysTick, SCB), the sleep idiom,
// and the receive ring the UART interrupt fills. Shared by the board files; no vendor headers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cluster::cortex_m {

template <typename T = std::uint32_t>
inline volatile T& reg(std::uintptr_t address) {
  return *reinterpret_cast<volatile T*>(address);
}

// System control space.
inline constexpr std::uintptr_t kSysTickCtrl = 0xE000E010;  // bit0 ENABLE, bit1 TICKINT, bit2 CLKSOURCE (core clock)
inline constexpr std::uintptr_t kSysTickLoad = 0xE000E014;
inline constexpr std::uintptr_t kSysTickValue = 0xE000E018;
inline constexpr std::uintptr_t kNvicEnable = 0xE000E100;  // ISER0..: one bit per external interrupt
inline constexpr std::uintptr_t kVectorTableOffset = 0xE000ED08;  // SCB->VTOR

inline void enable_irq(unsigned irq) { reg(kNvicEnable + 4 * (irq / 32)) = 1u << (irq % 32); }

// A SysTick every 2 ms from the core clock: its interrupt ends a WFI, so a wait for a deadline
// wakes to check the time (the time itself comes from the board's timer).
inline void start_wake_up_tick(std::uint32_t core_clock_hz) {
  reg(kSysTickLoad) = core_clock_hz / 500 - 1;
  reg(kSysTickValue) = 0;
  reg(kSysTickCtrl) = 0x7;
}

inline void disable_interrupts() { __asm__ volatile("cpsid i" ::: "memory"); }
inline void enable_interrupts() { __asm__ volatile("cpsie i" ::: "memory"); }

// Sleeps until an interrupt is pending unless `ready()` already holds. Interrupts are masked while
// `ready()` is checked, and WFI wakes on a pending interrupt even while masked (ARMv7-M), so an
// interrupt that arrives between the check and the WFI is not missed: it ends the WFI at once and
// runs when the mask is lifted.
template <typename Ready>
inline void sleep_unless(Ready&& ready) {
  disable_interrupts();
  if (!ready()) __asm__ volatile("dsb\n wfi" ::: "memory");
  enable_interrupts();
}

// Bytes from the UART's receive interrupt (the producer) to the main loop (the consumer). One
// writer and one reader on one core: each index is written by one side only, and 32-bit loads and
// stores are atomic on the M4, so no lock is needed. A full ring drops the byte and counts it (a
// real UART would overrun): the frame it belonged to then fails its check and is resent.
// The ring also counts the frame delimiters (0x00, the COBS framing's) that pass through it, so the
// main loop can sleep until a frame has ended instead of waking for every byte.
template <std::size_t kCapacity>
class ByteRing {
  static_assert((kCapacity & (kCapacity - 1)) == 0, "capacity must be a power of two");

 public:
  // Interrupt side.
  void push(std::uint8_t byte) {
    const std::uint32_t head = head_;
    if (head - tail_ == kCapacity) {
      ++dropped_;
      return;
    }
    bytes_[head % kCapacity] = byte;
    __asm__ volatile("" ::: "memory");  // the byte is stored before the index that publishes it
    head_ = head + 1;
    if (byte == 0) delimiters_in_ = delimiters_in_ + 1;
  }
  // Main-loop side.
  std::size_t pop(std::uint8_t* out, std::size_t capacity) {
    std::uint32_t tail = tail_;
    const std::uint32_t head = head_;
    std::size_t count = 0;
    std::uint32_t delimiters = 0;
    while (tail != head && count < capacity) {
      const std::uint8_t byte = bytes_[tail++ % kCapacity];
      delimiters += byte == 0 ? 1 : 0;
      out[count++] = byte;
    }
    __asm__ volatile("" ::: "memory");
    tail_ = tail;
    delimiters_out_ += delimiters;
    return count;
  }
  bool empty() const { return head_ == tail_; }
  // A delimiter is waiting in the ring (a frame has ended), or the ring is half full (a frame
  // longer than half the ring, or noise, must not fill it before the main loop looks).
  bool frame_ended() const { return delimiters_in_ != delimiters_out_ || head_ - tail_ >= kCapacity / 2; }
  std::uint32_t dropped() const { return dropped_; }

 private:
  std::uint8_t bytes_[kCapacity] = {};
  volatile std::uint32_t head_ = 0;
  volatile std::uint32_t tail_ = 0;
  volatile std::uint32_t dropped_ = 0;
  volatile std::uint32_t delimiters_in_ = 0;  // written by the interrupt
  std::uint32_t delimiters_out_ = 0;          // written by the main loop
};

}  // namespace cluster::cortex_m

