// Reading an input file whole, safely: only a regular file (a FIFO with no writer would block
// forever, /dev/zero would never end), at most a stated number of bytes, and every failure an
// InputError naming the file and the reason.
#pragma once

#include <cstddef>
#include <string>

namespace edgelstm::host {

// The bytes of `path`. Refuses what is not a regular file (directory, FIFO, socket, device; the
// file is opened without blocking, so a FIFO is refused, not waited on) and a file of more than
// `max_bytes` bytes. `what` names the file's role in messages ("data file", "model file").
std::string read_input_file(const std::string& path, std::size_t max_bytes, const char* what);

// "a directory", "a FIFO (named pipe)", "a character device", ...: what a file that is not a
// regular one is, for messages (`mode` as struct stat's st_mode).
const char* file_type_name(unsigned mode);

// "256 MiB", "64 KiB", "1000 bytes": a byte count as --help and messages state it.
std::string byte_count_text(std::size_t bytes);

}  // namespace edgelstm::host
