// The positive control of the no-float check (cmake/check_no_float.cmake): one function per kind
// of instruction that touches the FPU without doing arithmetic — moves between core and FPU
// registers, loads and stores, push and pop, block transfers, conversions, compares, control
// register reads and writes — which the check must each flag; start-up code that only sets the
// control register, and integer code, which it must not. Compiled to an object for the targets
// with an FPU (cortex-m4f, rv32imafc), never linked. The test names the expected functions.
#define EDGELSTM_FPU_FUNCTION(name, body) \
  extern "C" __attribute__((naked, used)) void name() { asm volatile(body); }

#if defined(__arm__)
// The FPv4-SP instructions the first version of the check (mnemonics ending in .f32/.f64) missed,
// and one it caught.
EDGELSTM_FPU_FUNCTION(fpu_vmov_core_to_single, "vmov s0, r0\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vmov_single_to_core, "vmov r0, s1\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vmov_double_pair, "vmov r0, r1, d0\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vldr, "vldr s0, [r0]\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vstr, "vstr s0, [r0]\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vpush, "vpush {s16}\n vpop {s16}\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vldm, "vldmia r0, {s0-s3}\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vstm, "vstmia r0, {s0-s3}\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vcvt_to_integer, "vcvt.s32.f32 s0, s0\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vmrs_fpscr, "vmrs r0, fpscr\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vmrs_flags, "vmrs APSR_nzcv, fpscr\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vmsr_outside_startup, "vmsr fpscr, r0\n bx lr")
EDGELSTM_FPU_FUNCTION(fpu_vadd, "vadd.f32 s0, s0, s1\n bx lr")
// picolibc's crt0 sets FPSCR before main: allowed there.
EDGELSTM_FPU_FUNCTION(_start, "vmsr fpscr, r0\n bx lr")
EDGELSTM_FPU_FUNCTION(integer_only, "add r0, r0, r1\n bx lr")
#elif defined(__riscv) && defined(__riscv_flen)
EDGELSTM_FPU_FUNCTION(fpu_flw, "flw fa0, 0(a0)\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fsw, "fsw fa0, 0(a0)\n ret")
EDGELSTM_FPU_FUNCTION(fpu_compressed_flw, "c.flw fa0, 0(a0)\n ret")
EDGELSTM_FPU_FUNCTION(fpu_compressed_fswsp, "c.fswsp fa0, 0(sp)\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fmv_from_integer, "fmv.w.x fa0, a0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fmv_to_integer, "fmv.x.w a0, fa0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fsgnj, "fsgnj.s fa0, fa1, fa1\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fcvt, "fcvt.w.s a0, fa0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_feq, "feq.s a0, fa0, fa1\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fclass, "fclass.s a0, fa0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_frcsr, "frcsr a0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fsflags, "fsflags a0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_csrw_frm, "csrw frm, a0\n ret")
EDGELSTM_FPU_FUNCTION(fpu_fmadd, "fmadd.s fa0, fa0, fa1, fa2\n ret")
// picolibc's crt0 clears fcsr in _start and in its trap handler: allowed there, but only that.
EDGELSTM_FPU_FUNCTION(_start, "csrw fcsr, zero\n ret")
EDGELSTM_FPU_FUNCTION(_trap, "csrw fcsr, zero\n fadd.s fa0, fa0, fa1\n ret")
EDGELSTM_FPU_FUNCTION(integer_only, "add a0, a0, a1\n fence\n ret")
#else
#error "fpu_instructions.cpp is for targets with an FPU (cortex-m4f, rv32imafc)"
#endif
