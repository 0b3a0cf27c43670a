#include "store/npz.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "attrib/error.h"
#include "files.h"

namespace attrib {

namespace {

void put16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

std::vector<uint32_t> decode_utf8(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc >> 6) == 2;
      cp = (cp << 6) | (cc & 0x3f);
    }
    out.push_back(ok ? cp : 0xfffd);
    i += ok ? n : 1;
  }
  return out;
}

}  // namespace

std::string npy_bytes(const NpyArray& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape +=
        std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  shape += ")";
  std::string header =
      "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and
  // ended by a newline, so that the data is aligned.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<uint32_t>(header.size()));
  return out + header + a.bytes;
}

std::string utf32_array(const std::vector<std::string>& strings, int64_t& width) {
  std::vector<std::vector<uint32_t>> decoded;
  width = 1;
  for (const std::string& s : strings) {
    decoded.push_back(decode_utf8(s));
    width = std::max<int64_t>(width, static_cast<int64_t>(decoded.back().size()));
  }
  std::string out;
  for (const auto& d : decoded)
    for (int64_t i = 0; i < width; ++i) put32(out, i < static_cast<int64_t>(d.size()) ? d[i] : 0);
  return out;
}

void write_npz(const std::string& path, const std::vector<NpyArray>& arrays) {
  std::string zip, central;
  for (const NpyArray& a : arrays) {
    const std::string name = a.name + ".npy";
    const std::string data = npy_bytes(a);
    ATTRIB_CHECK(
        zip.size() + data.size() < std::numeric_limits<uint32_t>::max() && name.size() < 0xffff,
        path,
        ": the export exceeds 4 GiB (a ZIP without ZIP64); export one method at a "
        "time with --method");
    const auto crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto offset = static_cast<uint32_t>(zip.size());
    // Local file header: version 2.0, no flags, method 0 (stored), no time stamp.
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, 0);
    put32(zip, 0);
    put32(zip, crc);
    put32(zip, static_cast<uint32_t>(data.size()));
    put32(zip, static_cast<uint32_t>(data.size()));
    put16(zip, static_cast<uint32_t>(name.size()));
    put16(zip, 0);
    zip += name;
    zip += data;
    // Its central directory entry.
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, crc);
    put32(central, static_cast<uint32_t>(data.size()));
    put32(central, static_cast<uint32_t>(data.size()));
    put16(central, static_cast<uint32_t>(name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, offset);
    central += name;
  }
  ATTRIB_CHECK(arrays.size() < 0xffff, path, ": too many arrays for a ZIP without ZIP64");
  const auto central_offset = static_cast<uint32_t>(zip.size());
  zip += central;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, static_cast<uint32_t>(arrays.size()));
  put16(zip, static_cast<uint32_t>(arrays.size()));
  put32(zip, static_cast<uint32_t>(central.size()));
  put32(zip, central_offset);
  put16(zip, 0);
  write_file_atomically(path, zip);
}

}  // namespace attrib
