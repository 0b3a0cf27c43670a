// gzip-compressed tar archives (data/io/tar.h), as the eraser: reader reads docs.tar.gz. zlib
// passes plain data through, so an uncompressed archive is read the same way; for those the
// target first sets every header's checksum, which mutations would otherwise almost always break
// before the rest of the header is looked at.
#include <cstdio>
#include <cstring>
#include <string>

#include "data/io/tar.h"
#include "fuzz_common.h"

namespace {

// Walks the headers as the reader does (octal sizes only) and writes each one's checksum.
void fix_checksums(std::string& tar) {
  for (size_t at = 0; at + 512 <= tar.size();) {
    char* h = tar.data() + at;
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int k = 0; k < 512; ++k) sum += static_cast<unsigned char>(h[k]);
    char field[9];
    std::snprintf(field, sizeof field, "%06o", sum & 0777777);
    std::memcpy(h + 148, field, 7);  // six digits, NUL, then the space left by memset
    unsigned long long size = 0;
    for (int k = 124; k < 136 && h[k] >= '0' && h[k] <= '7'; ++k) size = size * 8 + (h[k] - '0');
    if (size > tar.size()) break;
    at += 512 + (size + 511) / 512 * 512;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  std::string archive(reinterpret_cast<const char*>(data), size);
  if (archive.compare(0, 2, "\x1f\x8b") != 0) fix_checksums(archive);
  fuzz::Scratch& scratch = fuzz::Scratch::get();
  scratch.reset({{"docs.tar.gz", archive}});
  return fuzz::run_one([&] {
    // Once keeping every entry, once through a filter on the name (as eraser: filters docids).
    read_tar_gz(scratch.path("docs.tar.gz"));
    read_tar_gz(scratch.path("docs.tar.gz"),
                [](const std::string& path) { return path.find('a') != std::string::npos; });
  });
}
