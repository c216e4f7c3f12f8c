/*
 * The C half of the LX106 (ESP8266) test rig's start-up under QEMU's `sim` machine, and its I/O.
 *
 * picolibc's Xtensa build has no semihosting layer, so this file is one: stdin/stdout/stderr and
 * exit go through the Tensilica ISS `simcall` instruction, which QEMU implements when started with
 * -semihosting-config (cmake/qemu/run.sh). Without that option `simcall` is an illegal instruction.
 * It also clears .bss, runs constructors, fetches argv from QEMU, calls main, checks at exit that
 * the stack did not grow into .bss, and reports an exception (cause, pc, address) instead of
 * letting the guest spin until the run's timeout.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* simcall numbers and registers: a2 = call, a3..a5 = arguments; result in a2, errno in a3
 * (QEMU's target/xtensa/xtensa-semi.c). */
enum {
  kSimcallExit = 1,
  kSimcallRead = 3,
  kSimcallWrite = 4,
  kSimcallArgc = 1000,
  kSimcallArgvSize = 1001,
  kSimcallArgv = 1002,
};

static int simcall(int call, uintptr_t a, uintptr_t b, uintptr_t c) {
  register uintptr_t a2 __asm__("a2") = (uintptr_t)call;
  register uintptr_t a3 __asm__("a3") = a;
  register uintptr_t a4 __asm__("a4") = b;
  register uintptr_t a5 __asm__("a5") = c;
  __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
  return (int)a2;
}

static void write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    const int written = simcall(kSimcallWrite, (uintptr_t)fd, (uintptr_t)text, length);
    if (written <= 0) return;
    text += written;
    length -= (size_t)written;
  }
}

/* ---- stdio: one stream for stdin/stdout/stderr, written a line at a time (a simcall per
 * character would dominate a firmware that prints). */
static char g_line[128];
static size_t g_line_used;

static int flush_line(FILE *file) {
  (void)file;
  write_all(1, g_line, g_line_used);
  g_line_used = 0;
  return 0;
}

static int put_char(char c, FILE *file) {
  g_line[g_line_used++] = c;
  if (c == '\n' || g_line_used == sizeof g_line) flush_line(file);
  return (unsigned char)c;
}

static int get_char(FILE *file) {
  (void)file;
  unsigned char c;
  return simcall(kSimcallRead, 0, (uintptr_t)&c, 1) == 1 ? c : EOF;
}

static FILE g_console = FDEV_SETUP_STREAM(put_char, get_char, flush_line, _FDEV_SETUP_RW);
FILE *const stdin = &g_console;
FILE *const stdout = &g_console;
FILE *const stderr = &g_console;

/* ---- Stack guard: the stack is everything between __stack_limit (the end of .bss, lx106.ld) and
 * __stack (the top of RAM); its lowest kGuardWords are painted at start and must still hold the
 * paint at exit, or the stack has grown into .bss. */
extern char __bss_start[], __bss_end[], __stack_limit[];
enum { kGuardWords = 64 };
static const uint32_t kGuardPaint = 0x57ac6a2du;

static int stack_guard_intact(void) {
  const volatile uint32_t *guard = (const volatile uint32_t *)__stack_limit;
  for (int k = 0; k < kGuardWords; ++k) {
    if (guard[k] != kGuardPaint) return 0;
  }
  return 1;
}

void _exit(int status) {
  flush_line(stdout);
  if (!stack_guard_intact()) {
    static const char kMessage[] = "LX106 stack overflow: the stack grew below __stack_limit into .bss (lx106.ld)\n";
    write_all(2, kMessage, sizeof kMessage - 1);
    if (status == 0) status = 1;
  }
  for (;;) simcall(kSimcallExit, (uintptr_t)status, 0, 0);
}

/* picolibc's abort() raises SIGABRT through kill(getpid(), ...): one process, no signal handlers,
 * so a signal ends the program with 128 + its number (abort: 134), as on the other targets. */
pid_t getpid(void) { return 1; }

int kill(pid_t pid, int signal) {
  (void)pid;
  _exit(128 + signal);
}

/* ---- Exceptions: every vector (startup.S) ends here, on the top of the stack. */
static char *put_hex(char *out, uint32_t value) {
  for (int shift = 28; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(value >> shift) & 0xf];
  return out;
}

static char *put_text(char *out, const char *text) {
  while (*text) *out++ = *text++;
  return out;
}

static const char *cause_name(uint32_t cause) {
  switch (cause) {
    case 0: return "illegal instruction";
    case 2: return "instruction fetch error";
    case 3: return "load/store error";
    case 6: return "integer divide by zero";
    case 9: return "unaligned load or store";
    case 14: return "instruction fetch from an unmapped address";
    case 15: return "load or store at an unmapped address";
    case 20: return "instruction fetch prohibited";
    case 28: return "load prohibited";
    case 29: return "store prohibited";
    default: return "other";
  }
}

void edgelstm_lx106_fault(void) __attribute__((noreturn));
void edgelstm_lx106_fault(void) {
  uint32_t cause, pc, address;
  __asm__ volatile("rsr.exccause %0" : "=r"(cause));
  __asm__ volatile("rsr.epc1 %0" : "=r"(pc));
  __asm__ volatile("rsr.excvaddr %0" : "=r"(address));
  char text[160];
  char *out = put_text(text, "LX106 exception: cause 0x");
  out = put_hex(out, cause);
  out = put_text(out, " (");
  out = put_text(out, cause_name(cause));
  out = put_text(out, ") at pc 0x");
  out = put_hex(out, pc);
  out = put_text(out, ", address 0x");
  out = put_hex(out, address);
  *out++ = '\n';
  flush_line(stdout);
  write_all(2, text, (size_t)(out - text));
  for (;;) simcall(kSimcallExit, 1, 0, 0);
}

/* ---- Start-up, called by _start (startup.S) with the stack set. */
int main(int argc, char **argv);
void __libc_init_array(void);

void edgelstm_lx106_start(void) __attribute__((noreturn));
void edgelstm_lx106_start(void) {
  memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
  volatile uint32_t *guard = (volatile uint32_t *)__stack_limit;
  for (int k = 0; k < kGuardWords; ++k) guard[k] = kGuardPaint;
  __libc_init_array();
  /* QEMU hands over exactly its arg= list (cmake/qemu/run.sh puts the program's name first):
   * a table of argc + 1 pointers followed by the strings, copied into a buffer on the stack. */
  const int argc = simcall(kSimcallArgc, 0, 0, 0);
  const int size = simcall(kSimcallArgvSize, 0, 0, 0);
  uint32_t argv_buffer[(size + 3) / 4 + 1];
  simcall(kSimcallArgv, (uintptr_t)argv_buffer, 0, 0);
  exit(main(argc, (char **)argv_buffer));
}
