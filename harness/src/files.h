#pragma once
// Whole-file reads and crash-safe writes, shared by the model cache and every output the harness
// writes (results, leaderboards, reports).
#include <string>

namespace attrib {

/// The whole content of a file (a model checkpoint: a few MB); throws attrib::Error if unreadable.
std::string file_bytes(const std::string& path);

/// Writes `bytes` to `path` through a temporary name in the same folder and a rename; throws
/// attrib::Error naming the path on any I/O error (full disk, read-only folder), leaving nothing.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace attrib
