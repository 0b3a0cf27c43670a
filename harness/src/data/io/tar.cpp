#include "data/io/tar.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "attrib/error.h"
#include "data/io/gzip.h"

namespace attrib {

namespace {

/// Largest archive entry read into memory. The biggest ERASER document (evidence_inference's
/// full papers) is under 1 MiB; 256 MiB leaves ample room while refusing a corrupt or hostile
/// header (an 8 GiB claim) before it costs memory. Skipped entries are streamed, not bounded.
constexpr uint64_t kMaxTarEntry = uint64_t{256} << 20;

uint64_t tar_number(const char* p, size_t n) {
  if (static_cast<unsigned char>(p[0]) & 0x80) {  // GNU base-256
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7F;
    for (size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + (p[i] - '0');
  return v;
}

std::string tar_string(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

}  // namespace

std::map<std::string, std::string> read_tar_gz(
    const std::string& path, const std::function<bool(const std::string&)>& want) {
  gzFile gz = gzopen(path.c_str(), "rb");
  ATTRIB_CHECK(gz, path, ": expected a readable .tar.gz file, found none (", std::strerror(errno),
               ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, gzclose);
  auto read = [&](char* buf, size_t len) { return gz_read_upto(gz, buf, len, path); };
  std::map<std::string, std::string> out;
  char block[512];
  uint64_t offset = 0;
  std::string long_name, pax_path;
  for (;;) {
    const size_t got = read(block, 512);
    if (got == 0) break;
    if (got < 512)
      throw Error(path + ": tar header at byte " + std::to_string(offset) +
                  ": expected 512 bytes, found " + std::to_string(got) + " (truncated archive)");
    if (std::all_of(block, block + 512, [](char c) { return c == 0; })) break;  // end of archive
    uint64_t sum = 0;
    for (int k = 0; k < 512; ++k)
      sum += (k >= 148 && k < 156) ? ' ' : static_cast<unsigned char>(block[k]);
    const uint64_t stored = tar_number(block + 148, 8);
    if (sum != stored)
      throw Error(path + ": tar header at byte " + std::to_string(offset) + ": expected checksum " +
                  std::to_string(sum) + ", found " + std::to_string(stored) +
                  " (not a tar archive, or a corrupt one)");
    offset += 512;
    const uint64_t size = tar_number(block + 124, 12);
    const char type = block[156];
    std::string name = tar_string(block, 100);
    if (std::memcmp(block + 257, "ustar", 5) == 0) {
      const std::string prefix = tar_string(block + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) name = std::move(long_name), long_name.clear();
    if (!pax_path.empty()) name = std::move(pax_path), pax_path.clear();
    while (name.compare(0, 2, "./") == 0) name = name.substr(2);
    const bool regular = type == '0' || type == '\0' || type == '7';
    const bool keep = type == 'L' || type == 'x' || (regular && (!want || want(name)));
    // A header is not trusted with memory: a kept entry is bounded and read in chunks as it
    // arrives, so neither a huge claim nor a truncated archive allocates what the header says.
    if (size > kMaxTarEntry && (keep || size > (uint64_t{1} << 62)))
      throw Error(path + ": entry '" + name + "': expected at most " +
                  std::to_string(kMaxTarEntry) + " bytes (256 MiB), found a header claiming " +
                  std::to_string(size));
    const uint64_t padded = (size + 511) / 512 * 512;
    std::string data;
    char chunk[1 << 16];
    for (uint64_t done = 0; done < padded;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(padded - done, sizeof chunk));
      if (read(chunk, n) != n)
        throw Error(path + ": entry '" + name + "': expected " + std::to_string(size) +
                    " bytes, found end of archive (truncated)");
      if (keep && done < size)
        data.append(chunk, static_cast<size_t>(std::min<uint64_t>(n, size - done)));
      done += n;
    }
    offset += padded;
    if (type == 'L') {
      long_name = data.substr(0, strnlen(data.data(), data.size()));
    } else if (type == 'x') {  // pax records "LEN key=value\n"
      for (size_t k = 0; k < data.size();) {
        const size_t sp = data.find(' ', k);
        if (sp == std::string::npos || !std::isdigit(static_cast<unsigned char>(data[k]))) break;
        // LEN counts the whole record, its digits, the space and the '\n' included. Checked
        // without overflow: a LEN of "-1" once wrapped k around and looped forever.
        char* end = nullptr;
        const unsigned long long len = std::strtoull(data.c_str() + k, &end, 10);
        if (end != data.c_str() + sp || len < sp - k + 2 || len > data.size() - k) break;
        const std::string rec = data.substr(sp + 1, k + len - sp - 2);
        if (rec.compare(0, 5, "path=") == 0) pax_path = rec.substr(5);
        k += len;
      }
    } else if (keep) {
      out[name] = std::move(data);
    }
  }
  return out;
}

}  // namespace attrib
