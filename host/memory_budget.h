// Refusing, before allocating, work that needs more memory than the machine has: a 100000-unit
// network must stop with its byte count, not with std::bad_alloc (or the kernel's OOM killer)
// after minutes of setup.
#pragma once

#include <cstddef>
#include <string>

namespace edgelstm::host {

// The memory this process may use: the machine's physical memory, or less where the process is
// limited (RLIMIT_AS, RLIMIT_DATA).
std::size_t usable_memory_bytes();

// Throws InputError "<what> needs N bytes (x GiB); this machine offers M bytes (y GiB)" when
// `bytes` exceeds `available` (by default usable_memory_bytes()).
void check_memory(std::size_t bytes, const std::string& what, std::size_t available = usable_memory_bytes());

// a + b and a * b, saturating at SIZE_MAX instead of wrapping (byte counts of huge requests).
std::size_t saturating_add(std::size_t a, std::size_t b);
std::size_t saturating_multiply(std::size_t a, std::size_t b);

}  // namespace edgelstm::host
