// board.h on a Cortex-M4F board: the UARTs and timer of the board kind chosen at build time
// (CLUSTER_BOARD_STM32F405: the STM32F405's USART1-3 and TIM2; otherwise the MPS2 AN386's CMSDK
// UART0-2 and timer 0), a SysTick that wakes the core for deadlines, interrupts, and the vector
// table that routes them (picolibc's own table stops at SysTick).
#include <cstdint>

#include "board.h"
#include "cortex_m.h"
#if defined(CLUSTER_BOARD_STM32F405)
#include "board_stm32f405.h"
#else
#include "board_mps2_an386.h"
#endif

namespace {

using cluster::BoardTimer;
using cluster::BoardUarts;
constexpr std::size_t kPorts = BoardUarts::kPorts;
static_assert(kPorts >= cluster::board::kMaxSerialPorts, "the board has fewer UARTs than a cluster needs");

// 1 KB a port: several frames of the largest kind; a full ring drops bytes (counted) rather than
// block.
cluster::cortex_m::ByteRing<1024> g_received[kPorts];

// Milliseconds from the timer's 32-bit ticks: each read adds the ticks since the last one (modulo
// 2^32) to a remainder and moves whole milliseconds out of it, with 32-bit arithmetic only. Correct
// as long as the clock is read at least once per wrap of the timer (172 s on the MPS2, 72 min on
// the STM32); any wait reads it at every 2 ms wake-up.
constexpr std::uint32_t kTicksPerMillisecond = BoardTimer::kTicksPerMicrosecond * 1000u;
std::uint32_t g_clock_last = 0, g_clock_remainder = 0, g_clock_milliseconds = 0;

std::uint32_t clock_milliseconds() {
  const std::uint32_t now = BoardTimer::ticks();
  const std::uint32_t elapsed = now - g_clock_last;
  g_clock_last = now;
  const std::uint32_t ticks = g_clock_remainder + elapsed;
  g_clock_milliseconds += ticks / kTicksPerMillisecond;
  g_clock_remainder = ticks % kTicksPerMillisecond;
  return g_clock_milliseconds;
}

template <std::size_t kPort>
void uart_isr() {
  BoardUarts::on_interrupt(kPort, g_received[kPort]);
}

bool any_frame_ended() {
  for (const auto& ring : g_received) {
    if (ring.frame_ended()) return true;
  }
  return false;
}

}  // namespace

extern "C" {

void cluster_systick_isr() {}  // its only purpose is to end a WFI

// From picolibc's start-up and interrupt code.
void _start();
void arm_nmi_isr();
void arm_hardfault_isr();
void arm_memmanage_isr();
void arm_busfault_isr();
void arm_usagefault_isr();
void arm_svc_isr();
void arm_debugmon_isr();
void arm_pendsv_isr();
void arm_ignore_isr();
extern char __stack[];
extern char __bss_end[];

}  // extern "C"

namespace {

using Handler = void (*)();
constexpr unsigned last_irq() {
  unsigned last = 0;
  for (std::size_t p = 0; p < kPorts; ++p) {
    last = BoardUarts::kReceiveIrq[p] > last ? BoardUarts::kReceiveIrq[p] : last;
    last = BoardUarts::kTransmitIrq[p] > last ? BoardUarts::kTransmitIrq[p] : last;
  }
  return last;
}
constexpr unsigned kLastIrq = last_irq();

// Initial stack pointer, the 15 system exception handlers, then external interrupts 0..kLastIrq.
struct VectorTable {
  char* initial_stack;
  Handler handlers[15 + kLastIrq + 1];
};

constexpr VectorTable make_vector_table() {
  VectorTable table{__stack, {}};
  const Handler system[15] = {_start,           arm_nmi_isr,   arm_hardfault_isr, arm_memmanage_isr,
                              arm_busfault_isr, arm_usagefault_isr, nullptr,     nullptr,
                              nullptr,          nullptr,       arm_svc_isr,       arm_debugmon_isr,
                              nullptr,          arm_pendsv_isr, cluster_systick_isr};
  for (unsigned k = 0; k < 15; ++k) table.handlers[k] = system[k];
  for (unsigned k = 0; k <= kLastIrq; ++k) table.handlers[15 + k] = arm_ignore_isr;
  const Handler uart[3] = {uart_isr<0>, uart_isr<1>, uart_isr<2>};
  static_assert(kPorts == 3, "one handler per port");
  for (std::size_t p = 0; p < kPorts; ++p) {
    table.handlers[15 + BoardUarts::kReceiveIrq[p]] = uart[p];
    table.handlers[15 + BoardUarts::kTransmitIrq[p]] = uart[p];
  }
  return table;
}

}  // namespace

// Replaces picolibc's weak table; its linker script puts this section at the start of flash.
extern "C" {
extern const VectorTable __interrupt_vector;
__attribute__((section(".data.init.enter"), used, aligned(512))) const VectorTable __interrupt_vector =
    make_vector_table();
}

namespace {

constexpr std::uint32_t kStackPaint = 0x5AC3A5C3u;

// Fills the free RAM between the end of the static data and a little below the current stack
// pointer with kStackPaint (always inlined into init(), whose caller's frame is main's).
__attribute__((always_inline)) inline void paint_stack() {
  std::uint32_t* word = reinterpret_cast<std::uint32_t*>((reinterpret_cast<std::uintptr_t>(__bss_end) + 3) & ~3u);
  char* stack_pointer;
  __asm__ volatile("mov %0, sp" : "=r"(stack_pointer));
  std::uint32_t* const end = reinterpret_cast<std::uint32_t*>(stack_pointer - 64);
  while (word < end) *word++ = kStackPaint;
}

}  // namespace

namespace cluster::board {

void init() {
  paint_stack();
  cortex_m::reg(cortex_m::kVectorTableOffset) = reinterpret_cast<std::uintptr_t>(&__interrupt_vector);
  BoardTimer::start();
  g_clock_last = BoardTimer::ticks();
  for (std::size_t port = 0; port < kPorts; ++port) BoardUarts::start(port);
  cortex_m::start_wake_up_tick(BoardUarts::kCoreClockHz);
  cortex_m::enable_interrupts();
}

const char* name() { return BoardUarts::kName; }

void serial_write(std::size_t port, const std::uint8_t* bytes, std::size_t size) {
  for (std::size_t k = 0; k < size; ++k) {
    if (!BoardUarts::transmit_ready(port)) {
      BoardUarts::wake_on_transmit_ready(port, true);
      while (!BoardUarts::transmit_ready(port)) {
        cortex_m::sleep_unless([port] { return BoardUarts::transmit_ready(port); });
      }
      BoardUarts::wake_on_transmit_ready(port, false);
    }
    BoardUarts::transmit(port, bytes[k]);
  }
}

std::size_t serial_read(std::size_t port, std::uint8_t* bytes, std::size_t capacity) {
  return g_received[port].pop(bytes, capacity);
}

std::uint32_t milliseconds() { return clock_milliseconds(); }

void wait_for_frame(std::uint32_t deadline_ms) {
  // Each wake-up (a byte, or the tick) re-checks; the signed difference survives the wrap.
  while (!any_frame_ended() && static_cast<std::int32_t>(milliseconds() - deadline_ms) < 0) {
    cortex_m::sleep_unless(any_frame_ended);
  }
}

std::size_t stack_high_water_bytes() {
  const std::uint32_t* word = reinterpret_cast<const std::uint32_t*>((reinterpret_cast<std::uintptr_t>(__bss_end) + 3) & ~3u);
  while (reinterpret_cast<const char*>(word) < __stack && *word == kStackPaint) ++word;
  return static_cast<std::size_t>(__stack - reinterpret_cast<const char*>(word));
}

std::uint32_t receive_overruns() {
  std::uint32_t dropped = 0;
  for (const auto& ring : g_received) dropped += ring.dropped();
  return dropped;
}

}  // namespace cluster::board
