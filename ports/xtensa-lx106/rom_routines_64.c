/*
 * The four 64-bit integer helpers among the libgcc routines that Debian's LX106 libgcc.a leaves out
 * (on an ESP8266 the boot ROM provides them). The other twenty (soft-float, 32-bit division) are
 * assembled from GCC's own sources at configure time (runtime.cmake); these four live in
 * libgcc2.c, which needs GCC's build tree, so they are written here on top of the routines Debian
 * does ship (__udivmoddi4, __divmoddi4) and __umulsidi3 (assembled from lib1funcs.S).
 */
#include <stdint.h>

unsigned long long __umulsidi3(unsigned int a, unsigned int b);
unsigned long long __udivmoddi4(unsigned long long n, unsigned long long d, unsigned long long *remainder);
long long __divmoddi4(long long n, long long d, long long *remainder);

long long __muldi3(long long a, long long b);
unsigned long long __udivdi3(unsigned long long n, unsigned long long d);
unsigned long long __umoddi3(unsigned long long n, unsigned long long d);
long long __divdi3(long long n, long long d);

/* (ah 2^32 + al)(bh 2^32 + bl) mod 2^64 = al bl + 2^32 (al bh + ah bl). */
long long __muldi3(long long a, long long b) {
  const uint32_t a_low = (uint32_t)a, a_high = (uint32_t)((uint64_t)a >> 32);
  const uint32_t b_low = (uint32_t)b, b_high = (uint32_t)((uint64_t)b >> 32);
  const uint64_t low = __umulsidi3(a_low, b_low);
  const uint32_t high = (uint32_t)(low >> 32) + a_low * b_high + a_high * b_low;
  return (long long)(((uint64_t)high << 32) | (uint32_t)low);
}

unsigned long long __udivdi3(unsigned long long n, unsigned long long d) { return __udivmoddi4(n, d, 0); }

unsigned long long __umoddi3(unsigned long long n, unsigned long long d) {
  unsigned long long remainder;
  __udivmoddi4(n, d, &remainder);
  return remainder;
}

long long __divdi3(long long n, long long d) {
  long long remainder;
  return __divmoddi4(n, d, &remainder);
}
