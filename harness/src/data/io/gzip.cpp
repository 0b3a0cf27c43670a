#include "data/io/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "attrib/error.h"

namespace attrib {

namespace fs = std::filesystem;

size_t gz_read_upto(void* handle, char* buf, size_t len, const std::string& path) {
  gzFile gz = static_cast<gzFile>(handle);
  size_t got = 0;
  while (got < len) {
    const int r =
        gzread(gz, buf + got, static_cast<unsigned>(std::min<size_t>(len - got, 1 << 20)));
    if (r < 0) {
      int err = 0;
      throw Error(path + ": expected gzip or plain data, found an error (" + gzerror(gz, &err) +
                  ")");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

std::string read_maybe_gz(const std::string& path) {
  ATTRIB_CHECK(fs::is_regular_file(path), path, ": expected a readable file, found none");
  gzFile gz = gzopen(path.c_str(), "rb");
  ATTRIB_CHECK(gz, path, ": expected a readable file, found none (", std::strerror(errno), ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, gzclose);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int r = gzread(gz, buf, sizeof buf);
    if (r < 0) {
      int err = 0;
      throw Error(path + ": expected gzip or plain data, found an error (" + gzerror(gz, &err) +
                  ")");
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

}  // namespace attrib
