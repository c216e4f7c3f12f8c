// `edgelstm quantize --study`: what weight quantization costs in quality, bytes and instructions.
#pragma once

#include <string>

#include "host/data_loading.h"

namespace edgelstm::host {

struct StudyOptions {
  std::string model_path;  // a float forecaster (`edgelstm train`)
  DataOptions data;        // its series
  // Optional: a float classifier (`edgelstm train --task classify`) and its data; validation and
  // test days as in the classifier's training run.
  std::string classifier_path;
  DataOptions classifier_data;
  // Quantization-aware fine-tuning of every float model for every format: at most this many epochs
  // (0: post-training quantization only), Adam at `qat_learning_rate`.
  int qat_epochs = 10;
  float qat_learning_rate = 5e-4f;
  // Instruction counts per inference step (bench/mcu/cost_table.py --csv); empty: none.
  std::string costs_path;
  std::string report_dir;  // quantization.md and the plots; empty: print only
};

// For each of f32, int16, int8, int4 x per-tensor / per-row scales x post-training / quantization-
// aware: model bytes, forecast MAE/RMSE/MAPE on the forecaster's test span, accuracy and macro-F1
// of the classifier and of a weekday/weekend classifier of the forecaster series' daily profiles
// (trained here), instructions per step on the targets; the full-integer path; stateful streams
// over the whole series (drift). Prints the tables; writes quantization.md and plots.
void run_quantization_study(const StudyOptions& options);

}  // namespace edgelstm::host
