#include "data/io/text_errors.h"

#include <cstdio>

namespace attrib {

std::string file_line(const std::string& file, size_t line) {
  return file + ":" + std::to_string(line) + ": ";
}

std::string describe_char(const std::string& s, size_t pos) {
  if (pos >= s.size()) return "end of text";
  const unsigned char c = s[pos];
  if (c == '\n') return "a line break";
  if (c < 0x20 || c == 0x7f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }
  size_t n = 1;
  if (c >= 0x80)
    while (pos + n < s.size() && n < 4 && (static_cast<unsigned char>(s[pos + n]) & 0xC0) == 0x80)
      ++n;
  return "'" + s.substr(pos, n) + "'";
}

}  // namespace attrib
