#pragma once
// A NumPy .npz writer (a ZIP archive of .npy arrays, stored uncompressed, CRC-32 from zlib), so
// that exported attributions load with numpy.load and nothing else. No ZIP64: an archive over
// 4 GiB is refused with an error.
#include <cstdint>
#include <string>
#include <vector>

namespace attrib {

/// One array: its name in the archive (".npy" is appended), NumPy dtype descr ("<f4", "<i8",
/// "<U12"), shape and raw little-endian bytes.
struct NpyArray {
  std::string name;
  std::string descr;
  std::vector<int64_t> shape;
  std::string bytes;
};

/// The .npy file (format version 1.0) of `a`.
std::string npy_bytes(const NpyArray& a);

/// Writes `arrays` to `path` as an .npz archive (atomically: a temporary file renamed into
/// place). Throws attrib::Error naming the file.
void write_npz(const std::string& path, const std::vector<NpyArray>& arrays);

/// Strings as a NumPy unicode array's bytes ("<U{width}", UTF-32LE, zero padded); `width` is set
/// to the longest string's length in code points (at least 1). Invalid UTF-8 bytes become U+FFFD.
std::string utf32_array(const std::vector<std::string>& strings, int64_t& width);

}  // namespace attrib
