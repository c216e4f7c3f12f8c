// Math<float>'s sigmoid and tanh for the LSTM cell's loops on 32-bit RISC-V cores with a
// single-precision FPU (RV32F). GCC keeps Math<float>'s constants as constant-pool loads and, once
// a loop body holds more of them than the 20 caller-saved float registers, reloads them inside
// the loop (LUI + FLW each: in the tanh loops 5 to 8 instructions per unit) rather than use the 12
// callee-saved ones. Here the same constants are read once and handed to the compiler through an
// empty asm, which it cannot see through: they are values in registers, no longer constants it
// can rematerialize. The arithmetic is Math<float>'s own (detail::exp_with and friends), so the
// results are bit for bit the same. Included by lstm_cell.h when EDGELSTM_HAVE_RV32F_ASM.
#pragma once

#include "activations.h"
#include "simd.h"

#if EDGELSTM_HAVE_RV32F_ASM

namespace edgelstm {
namespace detail {

struct RegisterActivations {
  FloatActivationConstants constants;

  RegisterActivations() {
    FloatActivationConstants& c = constants;
    __asm__("" : "+f"(c.magic), "+f"(c.log2e), "+f"(c.ln2_high), "+f"(c.ln2_low), "+f"(c.exp_p0), "+f"(c.exp_p1),
                 "+f"(c.exp_p2), "+f"(c.exp_p3), "+f"(c.exp_p4), "+f"(c.exp_p5));
    __asm__("" : "+f"(c.one), "+f"(c.two), "+f"(c.tanh_small), "+f"(c.tanh_t0), "+f"(c.tanh_t1), "+f"(c.tanh_t2),
                 "+f"(c.tanh_t3), "+f"(c.tanh_t4), "+r"(c.lowest), "+r"(c.range), "+r"(c.bias));
  }
  float sigmoid(float x) const { return Math<float>::sigmoid(x); }
  float tanh(float x) const { return tanh_with(x, constants); }
};

}  // namespace detail
}  // namespace edgelstm

#endif  // EDGELSTM_HAVE_RV32F_ASM
