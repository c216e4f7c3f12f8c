// Marker instructions around a measured region, recognized by tools/qemu-plugin/insn_count.c.
// They are architectural no-ops; on a real chip they cost one instruction each.
#pragma once

#if defined(__arm__) || defined(__thumb__)
#define EDGELSTM_MARK_BEGIN() __asm__ volatile("mov r10, r10" ::: "memory")
#define EDGELSTM_MARK_END() __asm__ volatile("mov r11, r11" ::: "memory")
#elif defined(__riscv)
// .option norvc keeps the 32-bit encodings the plugin looks for.
#define EDGELSTM_MARK_BEGIN() \
  __asm__ volatile(".option push\n.option norvc\naddi x0, x0, 1\n.option pop" ::: "memory")
#define EDGELSTM_MARK_END() \
  __asm__ volatile(".option push\n.option norvc\naddi x0, x0, 2\n.option pop" ::: "memory")
#elif defined(__xtensa__)
// or a10, a10, a10 / or a11, a11, a11; the leading underscore keeps the assembler from turning
// them into the 2-byte nop.n. Outside them the core's cycle counter CCOUNT is read too: under QEMU
// with -icount shift=0 it advances once per 25 instructions (the LX106 model's 40 MHz clock, one
// instruction per nanosecond), a coarse count taken inside the guest that bench/mcu/cost_table.py
// checks the plugin's exact count against (region_ccount_ticks()).
#include <cstdint>
namespace edgelstm::bench {
inline std::uint32_t g_ccount_begin, g_ccount_end;
inline std::uint32_t read_ccount() {
  std::uint32_t ticks;
  __asm__ volatile("rsr.ccount %0" : "=r"(ticks)::"memory");
  return ticks;
}
inline std::uint32_t region_ccount_ticks() { return g_ccount_end - g_ccount_begin; }
}  // namespace edgelstm::bench
#define EDGELSTM_MARK_BEGIN()                                    \
  do {                                                           \
    edgelstm::bench::g_ccount_begin = edgelstm::bench::read_ccount(); \
    __asm__ volatile("_or a10, a10, a10" ::: "memory");          \
  } while (0)
#define EDGELSTM_MARK_END()                                      \
  do {                                                           \
    __asm__ volatile("_or a11, a11, a11" ::: "memory");          \
    edgelstm::bench::g_ccount_end = edgelstm::bench::read_ccount(); \
  } while (0)
#else
#define EDGELSTM_MARK_BEGIN() ((void)0)
#define EDGELSTM_MARK_END() ((void)0)
#endif
