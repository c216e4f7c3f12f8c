// What a cluster firmware needs of its board: serial lines to its peers and a millisecond clock.
// board_cortex_m.cpp implements it for the board kind chosen at build time (board_mps2_an386.h:
// Arm's MPS2 AN386; board_stm32f405.h: the STM32F405 of QEMU's netduinoplus2). Each port is one
// UART, wired point to point to one peer. Received bytes are taken by the UART's interrupt into a
// ring per port; waiting sleeps the core (WFI) until a frame has ended or the next wake-up tick
// arrives, it never spins on a status register.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cluster::board {

inline constexpr std::size_t kMaxSerialPorts = 3;  // peers of a board in a cluster of four

// Starts the timer, the UARTs (8N1, their receive interrupts), the wake-up tick, and enables
// interrupts.
void init();

// A short description for the start-up line: "mps2-an386 (Cortex-M4F, CMSDK APB UART0-2)".
const char* name();

// Queues `size` bytes for sending on `port`; returns once the UART has taken the last one
// (sleeping while its transmitter is busy).
void serial_write(std::size_t port, const std::uint8_t* bytes, std::size_t size);

// Moves up to `capacity` bytes received on `port` out of its ring, without waiting; returns how many.
std::size_t serial_read(std::size_t port, std::uint8_t* bytes, std::size_t capacity);

// Sleeps until a frame has ended on any port (a byte 0x00, the COBS delimiter, has been received
// and not yet read) or `deadline_ms` (milliseconds()) has passed, whichever is first; returns at
// once if a frame has already ended. Bytes arrive one interrupt at a time; waking the main loop
// only at a frame's end spares it a round of polling per byte.
void wait_for_frame(std::uint32_t deadline_ms);

// Milliseconds since init(), from the board's free-running timer (wraps after 49 days).
std::uint32_t milliseconds();

// Bytes the receive rings had to drop because they were full (a UART overrun on a real part).
std::uint32_t receive_overruns();

// The deepest the stack has reached since init(), in bytes below its top (init() fills the free RAM
// between the static data and the stack pointer with a pattern; this finds the last word changed).
std::size_t stack_high_water_bytes();

}  // namespace cluster::board
