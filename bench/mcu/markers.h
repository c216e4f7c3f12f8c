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
#else
#define EDGELSTM_MARK_BEGIN() ((void)0)
#define EDGELSTM_MARK_END() ((void)0)
#endif
