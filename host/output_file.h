// Every file the host tools write goes through here: models, exported headers, forecasts, reports,
// plot data. A file is written whole or not at all (a temporary beside it, flushed, then renamed
// over it), a failed write leaves the old file and no temporary, and the locations are checked
// before a long run, not after it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgelstm::host {

// Who may read a written file: everyone the umask lets (0644 before the umask), or its owner
// only (0600: passwords, access lists; the file is never readable by others, not even before the
// rename).
enum class FileAccess { kShared, kOwnerOnly };

// Writes `content` to `path` atomically: into <path>.tmp-<pid>-<random> in the same directory,
// flushed to disk, then renamed over `path`, so a crash leaves either the old file or the new
// one. On failure (full disk, file size limit, no permission) the temporary is removed and
// InputError names the path and the reason. Temporaries of `path` left by a killed run (their
// process no longer exists) are removed first; others are never touched. Refuses to replace
// something that is not a regular file (a directory, a device such as /dev/null, a FIFO).
void write_file_atomically(const std::string& path, std::string_view content, FileAccess access = FileAccess::kShared);

// An input of a command, by the option that named it (for messages).
struct NamedPath {
  std::string option;  // "--data"
  std::string path;
};

// Refuses, before any work is done (InputError naming the option): an output that is one of
// `inputs` (the same file, also through a symbolic or hard link or another spelling of its path),
// that exists and is not a regular file, or whose directory does not exist or takes no new file
// (probed by creating and removing a temporary there). `option` names the output ("--model").
void check_output_file(const NamedPath& output, const std::vector<NamedPath>& inputs);

// Refuses two outputs that name the same file (they need not exist yet: compared by their
// directories' real paths and their names).
void check_distinct_outputs(const NamedPath& first, const NamedPath& second);

// The same for an output directory (--report): created if missing, must be a directory, and must
// take a new file.
void check_output_directory(const NamedPath& directory);

}  // namespace edgelstm::host
