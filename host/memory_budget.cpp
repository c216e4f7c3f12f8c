#include "host/memory_budget.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "host/input_error.h"

namespace edgelstm::host {
namespace {

std::string bytes_text(std::size_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%zu bytes (%.2f GiB)", bytes, static_cast<double>(bytes) / (1u << 30));
  return text;
}

}  // namespace

std::size_t usable_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  std::size_t usable = pages > 0 && page > 0 ? saturating_multiply(static_cast<std::size_t>(pages), static_cast<std::size_t>(page))
                                             : SIZE_MAX;
  for (const int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit limit{};
    if (::getrlimit(resource, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < usable) {
      usable = static_cast<std::size_t>(limit.rlim_cur);
    }
  }
  return usable;
}

void check_memory(std::size_t bytes, const std::string& what, std::size_t available) {
  if (bytes > available) {
    throw InputError(what + " needs " + bytes_text(bytes) + "; this machine offers " + bytes_text(available));
  }
}

std::size_t saturating_add(std::size_t a, std::size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

std::size_t saturating_multiply(std::size_t a, std::size_t b) { return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

}  // namespace edgelstm::host
