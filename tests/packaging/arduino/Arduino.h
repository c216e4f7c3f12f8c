// The few Arduino APIs examples/MeterLearns uses, for compiling and running that sketch on the
// host in the tests: analogRead returns a periodic signal, Serial prints to stdout.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>

inline constexpr int A0 = 0;

inline int analogRead(int) {
  static int tick = 0;
  return static_cast<int>(512.0 + 400.0 * std::sin(0.3 * tick++));
}
inline void delay(unsigned long) {}

struct HostSerial {
  void begin(unsigned long) {}
  void print(float value) { std::printf("%.4f", static_cast<double>(value)); }
  void print(char value) { std::printf("%c", value); }
  void println(float value) { std::printf("%.4f\n", static_cast<double>(value)); }
  void println(const char* text) { std::printf("%s\n", text); }
};
inline HostSerial Serial;
