#include "data/io/csv.h"

#include "attrib/error.h"
#include "data/io/text_errors.h"

namespace attrib {

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& file) {
  std::vector<CsvRecord> out;
  const size_t n = text.size();
  size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  size_t line = 1;
  auto at_eol = [&](size_t k) {
    return k >= n || text[k] == '\n' || (text[k] == '\r' && (k + 1 == n || text[k + 1] == '\n'));
  };
  while (i < n) {
    if (at_eol(i)) {  // blank line
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    for (;;) {
      std::string f;
      const size_t fline = line;
      if (i < n && text[i] == '"') {
        ++i;
        for (;;) {
          if (i >= n)
            throw Error(file_line(file, fline) +
                        "quoted field: expected a closing '\"', found end of file");
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              f += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          f += text[i++];
        }
        if (i < n && text[i] != ',' && !at_eol(i))
          throw Error(file_line(file, line) +
                      "quoted field: expected ',' or end of line after the closing '\"', found " +
                      describe_char(text, i));
      } else {
        while (i < n && text[i] != ',' && !at_eol(i)) f += text[i++];
      }
      rec.fields.push_back(std::move(f));
      rec.field_lines.push_back(fline);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
      break;
    }
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace attrib
