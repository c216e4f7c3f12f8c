// Runs the Arduino example sketch on the host with the stub Arduino.h: setup() once, loop() 2000
// times, and checks the sketch's running error fell (it learns its periodic input).
#include "../../../examples/MeterLearns/MeterLearns.ino"

int main() {
  setup();
  for (int k = 0; k < 300; ++k) loop();
  const float early = g_error;
  for (int k = 0; k < 1700; ++k) loop();
  std::printf("running error after 300 readings %.4f, after 2000 %.4f\n", static_cast<double>(early),
              static_cast<double>(g_error));
  return g_error < 0.5f * early ? 0 : 1;
}
