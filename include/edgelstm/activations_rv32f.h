// Math<float>'s activations for the LSTM cell's loops on 32-bit RISC-V cores with a
// single-precision FPU (RV32F). GCC keeps Math<float>'s constants as constant-pool loads and, in
// the tanh loops (more constants than the 20 caller-saved float registers), reloads 5 to 8 of them
// inside the loop for every unit (LUI + FLW each) rather than use the 12 callee-saved ones. Here
// tanh gets the same constants read once and handed to the compiler through an empty asm, which it
// cannot see through: values in registers, no longer constants it can rematerialize (1,521
// instructions fewer in the H = 100 forward step). The sigmoid loops keep Math<float>'s literal
// constants: GCC holds those in registers already, and with laundered ones it scheduled the
// sigmoid worse (about 4 instructions more per unit). The arithmetic is Math<float>'s own
// (detail::exp_with and friends, activations.h), so the results are bit for bit the same.
// Included by lstm_cell.h when EDGELSTM_HAVE_RV32F_ASM.
#pragma once

#include "activations.h"
#include "simd.h"

#if EDGELSTM_HAVE_RV32F_ASM

namespace edgelstm {
namespace detail {

// The activation policy of lstm_cell_finish_units on RV32F (lstm_cell.h), which copies it into a
// local before its loops. The empty asm statements take the constants in registers and "return"
// them unchanged as far as the compiler can tell.
struct RegisterActivations {
  FloatActivationConstants constants;

  RegisterActivations() {
    FloatActivationConstants& c = constants;
    __asm__("" : "+f"(c.magic), "+f"(c.log2e), "+f"(c.ln2_high), "+f"(c.ln2_low), "+f"(c.exp_p0), "+f"(c.exp_p1),
                 "+f"(c.exp_p2), "+f"(c.exp_p3), "+f"(c.exp_p4), "+f"(c.exp_p5));
    __asm__("" : "+f"(c.one), "+f"(c.two), "+f"(c.tanh_small), "+f"(c.tanh_t0), "+f"(c.tanh_t1), "+f"(c.tanh_t2),
                 "+f"(c.tanh_t3), "+f"(c.tanh_t4), "+r"(c.lowest), "+r"(c.range), "+r"(c.bias));
  }
  float sigmoid(float x) const { return Math<float>::sigmoid(x); }  // literal constants: see above
  float tanh(float x) const { return tanh_with(x, constants); }
};

}  // namespace detail
}  // namespace edgelstm

#endif  // EDGELSTM_HAVE_RV32F_ASM
