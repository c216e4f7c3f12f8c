// Arm's MPS2 FPGA image AN386 (Cortex-M4F, 25 MHz), as QEMU's mps2-an386 models it: UART0-2 and
// timer 0, all CMSDK APB peripherals (Arm DDI 0479C). QEMU connects UART n to
// its n-th -serial device; UART n's receive interrupt is IRQ 2n, its transmit interrupt IRQ 2n + 1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cortex_m.h"

namespace cluster {

struct BoardUarts {
  static constexpr const char* kName = "mps2-an386 (Cortex-M4F, CMSDK APB UART0-2)";
  static constexpr std::uint32_t kCoreClockHz = 25000000;  // the FPGA image's 25 MHz system clock
  static constexpr std::size_t kPorts = 3;
  static constexpr std::uintptr_t kBase[kPorts] = {0x40004000, 0x40005000, 0x40006000};
  static constexpr unsigned kReceiveIrq[kPorts] = {0, 2, 4};
  static constexpr unsigned kTransmitIrq[kPorts] = {1, 3, 5};

  // Registers (offsets) and bits.
  static constexpr std::uintptr_t kData = 0x00;
  static constexpr std::uintptr_t kState = 0x04;      // bit0 TX buffer full, bit1 RX buffer full
  static constexpr std::uintptr_t kCtrl = 0x08;       // bit0 TX enable, bit1 RX enable, bit2 TX
                                                      // interrupt enable, bit3 RX interrupt enable
  static constexpr std::uintptr_t kIntStatus = 0x0C;  // write 1 to clear: bit0 TX, bit1 RX
  static constexpr std::uintptr_t kBaudDiv = 0x10;
  static constexpr std::uint32_t kTxFull = 1u << 0, kRxFull = 1u << 1;
  static constexpr std::uint32_t kTxEnable = 1u << 0, kRxEnable = 1u << 1, kTxInterrupt = 1u << 2,
                                 kRxInterrupt = 1u << 3;

  static volatile std::uint32_t& reg(std::size_t port, std::uintptr_t offset) {
    return cortex_m::reg(kBase[port] + offset);
  }

  static void start(std::size_t port) {
    reg(port, kBaudDiv) = kCoreClockHz / 115200;  // 217: 115,200 baud (QEMU ignores the rate)
    reg(port, kCtrl) = kTxEnable | kRxEnable | kRxInterrupt;
    cortex_m::enable_irq(kReceiveIrq[port]);
    cortex_m::enable_irq(kTransmitIrq[port]);
  }

  static bool transmit_ready(std::size_t port) { return (reg(port, kState) & kTxFull) == 0; }
  static void transmit(std::size_t port, std::uint8_t byte) { reg(port, kData) = byte; }
  // The transmit interrupt (raised when the buffer empties) is on only while the core sleeps
  // waiting for it, so sending does not cost one interrupt per byte.
  static void wake_on_transmit_ready(std::size_t port, bool on) {
    reg(port, kCtrl) = on ? (reg(port, kCtrl) | kTxInterrupt) : (reg(port, kCtrl) & ~kTxInterrupt);
  }

  // Both of a UART's interrupts. The status bits are cleared before the data register is drained,
  // so a byte arriving after the drain raises the interrupt again instead of waiting unseen.
  template <typename Ring>
  static void on_interrupt(std::size_t port, Ring& ring) {
    reg(port, kIntStatus) = 0x3;
    while (reg(port, kState) & kRxFull) ring.push(static_cast<std::uint8_t>(reg(port, kData)));
  }
};

// Time: timer 0 counting down from 0xFFFFFFFF at the 25 MHz peripheral clock, read when asked (it
// wraps every 172 s; BoardClock extends it). Reading a counter stays exact when interrupts are
// late; counting tick interrupts does not (under QEMU a busy core lost two ticks in three).
struct BoardTimer {
  static constexpr std::uint32_t kTicksPerMicrosecond = 25;
  static constexpr std::uintptr_t kCtrl = 0x40000000, kValue = 0x40000004, kReload = 0x40000008;

  static void start() {
    cortex_m::reg(kReload) = 0xFFFFFFFFu;
    cortex_m::reg(kValue) = 0xFFFFFFFFu;
    cortex_m::reg(kCtrl) = 1u;  // enable, no interrupt
  }
  // Ticks since start(), modulo 2^32.
  static std::uint32_t ticks() { return 0xFFFFFFFFu - cortex_m::reg(kValue); }
};

}  // namespace cluster
