// The STM32F405 (RM0090) as QEMU's netduinoplus2 models it: USART1, USART2 and USART3 (section
// 30; QEMU's first three -serial devices; interrupts 37, 38, 39) and timer TIM2 (section 18).
// On the chip USART1 sits on APB2 (84 MHz with the core at 168 MHz), USART2 and USART3 on APB1
// (42 MHz); their pins are PA9/PA10, PA2/PA3 and PB10/PB11, alternate function 7. QEMU models the
// USARTs but neither clocks nor pins (those writes land on its placeholders). This file is written
// for the emulator: it enables the peripherals' clocks and muxes the pins as the chip needs, but
// it does not start the PLL (RM0090 section 6.3: HSE, PLLM/N/P, flash wait states, APB
// prescalers). A real chip leaves reset on its 16 MHz HSI, where the baud divisors below (made for
// 84 and 42 MHz buses) are wrong; a port to a board adds that clock set-up first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cortex_m.h"

namespace cluster {

struct BoardUarts {
  static constexpr const char* kName = "netduinoplus2 (STM32F405, Cortex-M4F, USART1-3)";
  static constexpr std::uint32_t kCoreClockHz = 168000000;
  static constexpr std::size_t kPorts = 3;
  static constexpr std::uintptr_t kBase[kPorts] = {0x40011000, 0x40004400, 0x40004800};
  static constexpr unsigned kReceiveIrq[kPorts] = {37, 38, 39};
  static constexpr unsigned kTransmitIrq[kPorts] = {37, 38, 39};  // one interrupt per USART
  // 115,200 baud: BRR = bus clock / (16 x 115,200) as mantissa.fraction/16.
  static constexpr std::uint32_t kBaudRate[kPorts] = {(45u << 4) | 9u, (22u << 4) | 13u, (22u << 4) | 13u};
  // Clock enables: RCC_APB2ENR bit 4 (USART1), RCC_APB1ENR bits 17 and 18 (USART2, USART3).
  static constexpr std::uintptr_t kClockEnable[kPorts] = {0x40023844, 0x40023840, 0x40023840};
  static constexpr std::uint32_t kClockBit[kPorts] = {1u << 4, 1u << 17, 1u << 18};
  // Pins: GPIO port base (GPIOA, GPIOA, GPIOB), its RCC_AHB1ENR bit, and the TX pin (RX is next).
  static constexpr std::uintptr_t kGpio[kPorts] = {0x40020000, 0x40020000, 0x40020400};
  static constexpr std::uint32_t kGpioClockBit[kPorts] = {1u << 0, 1u << 0, 1u << 1};
  static constexpr unsigned kTxPin[kPorts] = {9, 2, 10};
  static constexpr std::uintptr_t kRccAhb1Enable = 0x40023830;

  static constexpr std::uintptr_t kStatus = 0x00;  // bit5 RXNE, bit7 TXE
  static constexpr std::uintptr_t kData = 0x04;
  static constexpr std::uintptr_t kBaud = 0x08;
  static constexpr std::uintptr_t kControl1 = 0x0C;  // bit13 UE, bit7 TXEIE, bit5 RXNEIE, bit3 TE, bit2 RE
  static constexpr std::uint32_t kRxNotEmpty = 1u << 5, kTxEmpty = 1u << 7;
  static constexpr std::uint32_t kEnable = 1u << 13, kTxEmptyInterrupt = 1u << 7, kRxInterrupt = 1u << 5,
                                 kTxEnable = 1u << 3, kRxEnable = 1u << 2;

  static volatile std::uint32_t& reg(std::size_t port, std::uintptr_t offset) {
    return cortex_m::reg(kBase[port] + offset);
  }

  static void start(std::size_t port) {
    using cortex_m::reg;
    reg(kRccAhb1Enable) = reg(kRccAhb1Enable) | kGpioClockBit[port];
    reg(kClockEnable[port]) = reg(kClockEnable[port]) | kClockBit[port];
    // TX and RX pins (two consecutive pins) to alternate function 7.
    const unsigned pin = kTxPin[port];
    volatile std::uint32_t& mode = reg(kGpio[port] + 0x00);
    mode = (mode & ~(0xFu << (2 * pin))) | (0xAu << (2 * pin));
    for (unsigned p = pin; p <= pin + 1; ++p) {
      volatile std::uint32_t& alternate = reg(kGpio[port] + (p < 8 ? 0x20 : 0x24));
      alternate = (alternate & ~(0xFu << (4 * (p % 8)))) | (7u << (4 * (p % 8)));
    }
    reg(kBase[port] + kBaud) = kBaudRate[port];
    // Until UE and RE are set the USART drops what arrives: the peers resend.
    reg(kBase[port] + kControl1) = kEnable | kTxEnable | kRxEnable | kRxInterrupt;
    cortex_m::enable_irq(kReceiveIrq[port]);
  }

  static bool transmit_ready(std::size_t port) { return (reg(port, kStatus) & kTxEmpty) != 0; }
  static void transmit(std::size_t port, std::uint8_t byte) { reg(port, kData) = byte; }
  static void wake_on_transmit_ready(std::size_t port, bool on) {
    reg(port, kControl1) = on ? (reg(port, kControl1) | kTxEmptyInterrupt) : (reg(port, kControl1) & ~kTxEmptyInterrupt);
  }

  // Reading the data register clears RXNE (and with it the interrupt). TXE stays set while the
  // transmitter is idle, so its interrupt is switched off here once it has woken the core.
  template <typename Ring>
  static void on_interrupt(std::size_t port, Ring& ring) {
    if (reg(port, kStatus) & kTxEmpty) reg(port, kControl1) = reg(port, kControl1) & ~kTxEmptyInterrupt;
    while (reg(port, kStatus) & kRxNotEmpty) ring.push(static_cast<std::uint8_t>(reg(port, kData)));
  }
};

// Time: TIM2, a 32-bit up-counter, prescaled to 1 MHz and read when asked (it wraps every 72 min;
// BoardClock extends it). Reading a counter stays exact when interrupts are late; counting tick
// interrupts does not (under QEMU a busy core lost two ticks in three).
struct BoardTimer {
  // TIM2's input clock: QEMU models timers 2-5 at 1 GHz; on the chip it is twice APB1, 84 MHz.
  static constexpr std::uint32_t kInputHz = 1000000000;
  static constexpr std::uint32_t kTicksPerMicrosecond = 1;
  static constexpr std::uintptr_t kRccApb1Enable = 0x40023840;  // bit0 TIM2
  static constexpr std::uintptr_t kBase = 0x40000000;
  static constexpr std::uintptr_t kControl1 = kBase + 0x00, kEvent = kBase + 0x14, kCount = kBase + 0x24,
                                  kPrescaler = kBase + 0x28, kAutoReload = kBase + 0x2C;

  static void start() {
    using cortex_m::reg;
    reg(kRccApb1Enable) = reg(kRccApb1Enable) | 1u;
    reg(kPrescaler) = kInputHz / 1000000 - 1;
    reg(kAutoReload) = 0xFFFFFFFFu;
    reg(kEvent) = 1u;      // update event: loads the prescaler
    reg(kControl1) = 1u;   // count
  }
  static std::uint32_t ticks() { return cortex_m::reg(kCount); }
};

}  // namespace cluster
