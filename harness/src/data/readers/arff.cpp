// arff:FILE — Weka ARFF (@attribute numeric|real|integer|string|{nominal}, @data rows, ?
// missing); nominal attributes keep their declared order. Encoded by encode_table.
#include <algorithm>
#include <filesystem>

#include "data/io/gzip.h"
#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"
#include "data/readers/tabular.h"

namespace attrib::readers {

using nlohmann::json;

namespace {

/// ARFF values of one line: comma-separated, '...' or "..." quoted with backslash escapes,
/// blanks around values ignored; an unquoted ? is missing.
std::vector<Cell> arff_values(const std::string& s, const std::string& where, size_t& pos,
                              char stop) {
  std::vector<Cell> out;
  const size_t n = s.size();
  for (;;) {
    while (pos < n && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    Cell c;
    if (pos < n && (s[pos] == '\'' || s[pos] == '"')) {
      const char q = s[pos++];
      for (;;) {
        if (pos >= n)
          throw Error(where + "expected a closing " + std::string(1, q) + ", found end of line");
        if (s[pos] == '\\' && pos + 1 < n) {
          c.text += s[pos + 1];
          pos += 2;
          continue;
        }
        if (s[pos] == q) {
          ++pos;
          break;
        }
        c.text += s[pos++];
      }
    } else {
      while (pos < n && s[pos] != ',' && s[pos] != stop) c.text += s[pos++];
      c.text = trim(c.text);
      c.missing = c.text == "?";
    }
    while (pos < n && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    out.push_back(std::move(c));
    if (pos < n && s[pos] == ',') {
      ++pos;
      continue;
    }
    if (stop && (pos >= n || s[pos] != stop))
      throw Error(where + "expected ',' or '" + std::string(1, stop) + "', found " +
                  (pos >= n ? "end of line" : "'" + std::string(1, s[pos]) + "'"));
    if (!stop && pos < n)
      throw Error(where + "expected ',' or end of line, found '" + std::string(1, s[pos]) + "'");
    if (stop) ++pos;
    return out;
  }
}

}  // namespace

Dataset read_arff(const std::string& /*name*/, const std::string& path, const json& p,
                  json& report) {
  report = new_report("arff");
  const std::string text = read_maybe_gz(path);
  Table t;
  t.file = path;
  bool data = false;
  size_t line = 0, start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n') continue;
    if (i == text.size() && start == text.size()) break;  // no line after a final newline
    ++line;
    std::string s = text.substr(start, i - start);
    start = i + 1;
    if (line == 1 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) s = s.substr(3);
    s = trim(s);
    if (s.empty() || s[0] == '%') continue;
    const std::string where = file_line(path, line);
    if (!data) {
      if (s[0] != '@')
        throw Error(where + "expected @relation, @attribute or @data, found '" + s.substr(0, 40) +
                    "'");
      const size_t sp = s.find_first_of(" \t");
      const std::string kw = lower(s.substr(0, sp));
      const std::string rest = sp == std::string::npos ? "" : trim(s.substr(sp));
      if (kw == "@relation") {
        report["relation"] = rest;
      } else if (kw == "@data") {
        if (t.columns.empty())
          throw Error(where + "expected @attribute lines before @data, found none");
        data = true;
      } else if (kw == "@attribute") {
        size_t pos = 0;
        // The name: quoted, or up to the first blank.
        std::string name;
        if (!rest.empty() && (rest[0] == '\'' || rest[0] == '"')) {
          const size_t close = rest.find(rest[0], 1);
          if (close == std::string::npos)
            throw Error(where + "@attribute: expected a closing " + std::string(1, rest[0]) +
                        " after the name, found end of line");
          name = rest.substr(1, close - 1);
          pos = close + 1;
        } else {
          pos = rest.find_first_of(" \t{");
          name = rest.substr(0, pos);
        }
        if (name.empty() || pos == std::string::npos)
          throw Error(where + "@attribute: expected NAME TYPE, found '" + rest + "'");
        const std::string type = trim(rest.substr(pos));
        Column col{name, Column::kAuto, {}};
        if (!type.empty() && type[0] == '{') {
          size_t tp = 1;
          for (auto& c : arff_values(type, where + "@attribute " + name + ": ", tp, '}')) {
            if (c.text.empty() && !c.missing) continue;
            col.values.push_back(c.text);
          }
          if (tp != type.size())
            throw Error(where + "@attribute " + name + ": expected end of line after '}', found '" +
                        type.substr(tp) + "'");
          col.kind = Column::kNominal;
        } else {
          const std::string tl = lower(type);
          if (tl == "numeric" || tl == "real" || tl == "integer")
            col.kind = Column::kNumeric;
          else if (tl == "string")
            col.kind = Column::kAuto;
          else
            throw Error(
                where + "@attribute " + name +
                ": expected type numeric, real, integer, string or {nominal values}, found '" +
                type + "'");
        }
        for (const auto& c : t.columns)
          if (c.name == name)
            throw Error(where + "@attribute: expected distinct names, found '" + name + "' twice");
        t.columns.push_back(std::move(col));
        t.header_line = line;
      } else {
        throw Error(where + "expected @relation, @attribute or @data, found '" + kw + "'");
      }
      continue;
    }
    if (s[0] == '{')
      throw Error(where + "expected a dense data row, found a sparse one ('{...}', not supported)");
    size_t pos = 0;
    TableRow row;
    row.line = line;
    row.cells = arff_values(s, where, pos, '\0');
    if (row.cells.size() != t.columns.size())
      throw Error(where + "row: expected " + std::to_string(t.columns.size()) +
                  " values (one per @attribute), found " + std::to_string(row.cells.size()));
    for (size_t c = 0; c < row.cells.size(); ++c) {
      const Column& col = t.columns[c];
      const Cell& cell = row.cells[c];
      if (cell.missing) continue;
      if (col.kind == Column::kNominal &&
          std::find(col.values.begin(), col.values.end(), cell.text) == col.values.end())
        throw Error(where + "attribute '" + col.name + "': expected one of " +
                    json_text(col.values) + ", found '" + cell.text + "'");
      double v;
      if (col.kind == Column::kNumeric && !parse_number(cell.text, v) &&
          !non_finite_number(cell.text))  // nan/inf: a missing value, see encode_table
        throw Error(where + "attribute '" + col.name + "': expected a number, found '" + cell.text +
                    "'");
    }
    t.rows.push_back(std::move(row));
  }
  if (!data) throw Error(file_line(path, line) + "expected @data, found end of file");
  report["sources"]["all"] = path;
  return encode_table(t, p, report);
}

}  // namespace attrib::readers
