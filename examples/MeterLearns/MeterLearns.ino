// MeterLearns: an Arduino sketch in which the board learns to forecast its own sensor.
// Every reading: forecast it from the previous 6, then learn from the error (one BPTT step),
// all in a static arena: no heap. Prints reading, forecast and the running error.
#include <Arduino.h>
#include <edgelstm.h>

namespace {
constexpr auto kSpec = edgelstm::make_spec(/*input*/ 1, /*hidden*/ 16, /*layers*/ 1, /*outputs*/ 1, /*window*/ 6);
alignas(edgelstm::kArenaAlignment) uint8_t g_arena[edgelstm::train_bytes(kSpec, edgelstm::OptimizerKind::kAdam)];
edgelstm::Network g_net;
float g_window[7];  // the last 6 readings and the new one
int g_seen = 0;
float g_error = 0;
}  // namespace

void setup() {
  Serial.begin(115200);
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.learning_rate = 3e-3f;
  if (g_net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk ||
      g_net.initialize(/*seed=*/1, /*forget_bias=*/1.0f) != edgelstm::Status::kOk) {
    Serial.println("edgelstm: cannot bind the network");
    while (true) {
    }
  }
}

void loop() {
  // Scale the 10-bit ADC reading to about [-1, 1].
  const float reading = (static_cast<float>(analogRead(A0)) - 512.0f) / 512.0f;
  for (int k = 0; k < 6; ++k) g_window[k] = g_window[k + 1];
  g_window[6] = reading;
  if (++g_seen > 6) {
    const edgelstm::TrainResult result = g_net.train_step(edgelstm::Span<const float>(g_window, 6),
                                                          edgelstm::Span<const float>(&g_window[6], 1),
                                                          edgelstm::WindowStart::kZeroState);
    if (result.status == edgelstm::Status::kOk) {
      const float forecast = g_net.window_outputs()[0];
      g_error = 0.99f * g_error + 0.01f * fabsf(forecast - reading);
      Serial.print(reading);
      Serial.print(' ');
      Serial.print(forecast);
      Serial.print(' ');
      Serial.println(g_error);
    } else {
      Serial.println(edgelstm::status_name(result.status));
    }
  }
  delay(100);
}
