// `edgelstm quantize`: a model file with integer weights (--bits, --granularity, optionally after
// quantization-aware fine-tuning: --qat-epochs), with the full-integer path (--integer), or the
// study of every variant (--study).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli_support.h"
#include "quantize_study.h"

namespace edgelstm::cli {

class QuantizeCommand {
 public:
  explicit QuantizeCommand(CLI::App& app);
  bool parsed() const { return command_->parsed(); }
  // Runs the chosen mode; InputError for bad input or options that do not apply to it.
  void run();

 private:
  bool given(const char* option) const { return command_->get_option(option)->count() > 0; }
  void refuse_unless(bool allowed, std::initializer_list<const char*> options, const char* mode) const;
  void write_quantized();
  void write_integer();

  CLI::App* command_ = nullptr;
  DataOptions data_;
  std::string model_path_ = "model.elstm", out_, granularity_ = "row";
  int bits_ = 8;
  bool study_ = false, integer_ = false;
  StudyOptions study_options_;
};

}  // namespace edgelstm::cli
