// csv:FILE — a table as CSV (gzip allowed) with a header of column names, a scikit-learn header
// (N_SAMPLES,N_FEATURES,CLASS_NAMES...) or none; encoded by encode_table (readers/tabular.h).
#include "data/io/csv.h"

#include <algorithm>
#include <filesystem>

#include "data/io/gzip.h"
#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"
#include "data/readers/tabular.h"

namespace attrib::readers {

using nlohmann::json;

// The options of csv: beyond the tabular ones (a JSON object's members).
const char* const kCsvOnly = R"JSON(
  "header": {"type": "string", "default": "auto", "enum": ["auto", "names", "sklearn", "none"],
             "description": "names: the first line names the columns; sklearn: the first line is N_SAMPLES,N_FEATURES,CLASS_NAMES... (columns x0.. and label, last); none: columns x0..; auto: sklearn when the first line's counts match the file and class names follow them, names when it has a non-number, else none"},
  "na_values": {"type": "array", "default": ["", "?", "NA"],
                "description": "field texts (after trimming blanks) that mean a missing value"})JSON";

Dataset read_csv_dense(const std::string& /*name*/, const std::string& path, const json& p,
                       json& report) {
  report = new_report("csv");
  const std::vector<CsvRecord> recs = parse_csv(read_maybe_gz(path), path);
  ATTRIB_CHECK(!recs.empty(), file_line(path, 1),
               "expected a header line or data, found an empty file");
  std::string header = p["header"];
  const CsvRecord& first = recs[0];
  double v;
  if (header == "auto") {
    int64_t rows, feats;
    if (first.fields.size() >= 2 && parse_index(first.fields[0], rows) &&
        parse_index(first.fields[1], feats) && rows == static_cast<int64_t>(recs.size()) - 1 &&
        recs.size() > 1 && static_cast<int64_t>(recs[1].fields.size()) == feats + 1 &&
        first.fields.size() > 2 &&
        std::none_of(first.fields.begin() + 2, first.fields.end(),
                     [&](const std::string& s) { return parse_number(s, v); }))
      header = "sklearn";
    else if (std::any_of(first.fields.begin(), first.fields.end(), [&](const std::string& s) {
               return !parse_number(s, v) && !non_finite_number(s);
             }))
      header = "names";
    else
      header = "none";
  }
  report["header"] = header;
  Table t;
  t.file = path;
  t.header_line = first.line;
  size_t start = 1;
  if (header == "names") {
    std::set<std::string> seen;
    for (const auto& f : first.fields) {
      const std::string nm = trim(f);
      if (!seen.insert(nm).second)
        throw Error(file_line(path, first.line) +
                    "header: expected distinct column names, found '" + nm + "' twice");
      t.columns.push_back({nm, Column::kAuto, {}});
    }
  } else {
    size_t width;
    if (header == "sklearn") {
      int64_t rows, feats;
      if (first.fields.size() < 2 || !parse_index(first.fields[0], rows) ||
          !parse_index(first.fields[1], feats))
        throw Error(file_line(path, first.line) +
                    "header: expected N_SAMPLES,N_FEATURES,CLASS_NAMES..., found '" +
                    joined(first.fields) + "'");
      if (rows != static_cast<int64_t>(recs.size()) - 1)
        throw Error(file_line(path, first.line) + "header: expected " + std::to_string(rows) +
                    " data rows (N_SAMPLES), found " + std::to_string(recs.size() - 1));
      for (size_t k = 2; k < first.fields.size(); ++k)
        t.label_names.push_back(trim(first.fields[k]));
      width = static_cast<size_t>(feats) + 1;
      for (size_t k = 0; k + 1 < width; ++k)
        t.columns.push_back({"x" + std::to_string(k), Column::kAuto, {}});
      t.columns.push_back({"label", Column::kAuto, {}});
    } else {
      start = 0;
      width = first.fields.size();
      for (size_t k = 0; k < width; ++k)
        t.columns.push_back({"x" + std::to_string(k), Column::kAuto, {}});
    }
  }
  const auto na = string_list(p, "na_values");
  for (size_t r = start; r < recs.size(); ++r) {
    const CsvRecord& rec = recs[r];
    if (rec.fields.size() != t.columns.size())
      throw Error(file_line(path, rec.line) + "row: expected " + std::to_string(t.columns.size()) +
                  " fields (as in " + (header == "none" ? "the first row" : "the header") +
                  "), found " + std::to_string(rec.fields.size()));
    TableRow row;
    row.line = rec.line;
    for (const auto& f : rec.fields)
      row.cells.push_back({f, std::find(na.begin(), na.end(), trim(f)) != na.end()});
    t.rows.push_back(std::move(row));
  }
  report["sources"]["all"] = path;
  return encode_table(t, p, report);
}

}  // namespace attrib::readers
