#pragma once
// RFC 4180 CSV records with the line each field starts on, so that readers built on it can name
// FILE:LINE in their errors. No dataset knowledge (header, column meaning) here.
#include <string>
#include <vector>

namespace attrib {

/// One CSV record: its fields and the line each field starts on (1-based).
struct CsvRecord {
  size_t line = 0;
  std::vector<std::string> fields;
  std::vector<size_t> field_lines;
};

/// RFC 4180 CSV: comma-separated, fields optionally quoted with ", "" inside quotes is a quote,
/// quoted fields may span lines, LF or CRLF line ends, a leading UTF-8 BOM is skipped and blank
/// lines are ignored. `file` names the source in error messages.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& file);

}  // namespace attrib
