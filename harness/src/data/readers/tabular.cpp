#include "data/readers/tabular.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "attrib/error.h"
#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

// The options csv: and arff: share (a JSON object's members; readers/formats.cpp adds the braces).
const char* const kTabularCommon = R"JSON(
  "label": {"type": "string", "default": "",
            "description": "label column; empty = the column named \"label\" if any, else the last column"},
  "classes": {"type": "array", "default": [],
              "description": "label set in class-index order (labels are looked up by name, or by index when integers); empty = nominal order (ARFF), the header's class names (scikit-learn CSV), 0..max for integer labels, else the labels found, sorted"},
  "categorical": {"type": "array", "default": [],
                  "description": "columns to one-hot encode even if numeric (columns with any non-numeric value, and ARFF nominal attributes, are always one-hot)"},
  "numeric": {"type": "array", "default": [],
              "description": "columns that must be numeric (a non-number is an error)"},
  "ignore": {"type": "array", "default": [], "description": "columns to drop"},
  "standardize": {"type": "boolean", "default": true,
                  "description": "numeric features become (x - mean) / std with the train split's mean and population std (std 0 -> 1); one-hot features stay 0/1"},
  "missing": {"type": "string", "default": "error", "enum": ["error", "impute"],
              "description": "a missing value (an na_values cell, ARFF's ?, or a non-finite number such as nan or inf in a numeric column) is an error, or is imputed: numeric columns with the train mean, categorical columns with the train mode"},
  "split_column": {"type": "string", "default": "split",
                   "description": "column holding train/val/test per row; when absent, rows are split by the seeded fractions"},
  "id_column": {"type": "string", "default": "id",
                "description": "column holding example ids; when absent, ids are FILESTEM-LINE"},
  "val_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "test_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "seed": {"type": "integer", "default": 1, "minimum": 0,
           "description": "seed of the split by fractions (independent of the run seed)"})JSON";

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

bool parse_number(const std::string& s, double& v) {
  const std::string t = trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && std::isfinite(v) && errno != ERANGE;
}

bool non_finite_number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && !std::isfinite(v);
}

bool parse_index(const std::string& s, int64_t& v) {
  const std::string t = trim(s);
  if (t.empty() || t.size() > 18 || !std::all_of(t.begin(), t.end(), ::isdigit)) return false;
  v = std::stoll(t);
  return true;
}

std::string file_stem(const std::string& path) {
  fs::path p(path);
  if (p.extension() == ".gz") p = p.stem();
  return p.stem().string();
}

Dataset encode_table(const Table& t, const json& p, json& report) {
  const size_t n_cols = t.columns.size();
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  auto find_col = [&](const std::string& nm) -> int64_t {
    for (size_t i = 0; i < n_cols; ++i)
      if (names[i] == nm) return static_cast<int64_t>(i);
    return -1;
  };
  auto need_col = [&](const std::string& nm, const std::string& param) -> size_t {
    const int64_t i = find_col(nm);
    if (i < 0)
      throw Error(file_line(t.file, t.header_line) + "params." + param + ": expected a column '" +
                  nm + "', found columns: " + joined(names));
    return static_cast<size_t>(i);
  };
  ATTRIB_CHECK(n_cols >= 2, file_line(t.file, t.header_line),
               "expected at least 2 columns (features and a label), found ", n_cols);

  // Roles of the columns.
  const std::string label_param = p["label"];
  size_t label_col = n_cols - 1;
  if (!label_param.empty())
    label_col = need_col(label_param, "label");
  else if (find_col("label") >= 0)
    label_col = static_cast<size_t>(find_col("label"));
  std::vector<int> role(n_cols, 0);  // 0 feature, 1 label, 2 split, 3 id, 4 ignored
  role[label_col] = 1;
  int64_t split_col = find_col(p["split_column"].get<std::string>());
  if (split_col < 0 && p["split_column"] != "split") need_col(p["split_column"], "split_column");
  if (split_col == static_cast<int64_t>(label_col)) split_col = -1;
  if (split_col >= 0) role[split_col] = 2;
  int64_t id_col = find_col(p["id_column"].get<std::string>());
  if (id_col < 0 && p["id_column"] != "id") need_col(p["id_column"], "id_column");
  if (id_col >= 0 && role[id_col] != 0) id_col = -1;
  if (id_col >= 0) role[id_col] = 3;
  for (const auto& nm : string_list(p, "ignore")) {
    const size_t i = need_col(nm, "ignore");
    ATTRIB_CHECK(role[i] != 1, file_line(t.file, t.header_line),
                 "params.ignore: expected feature columns, found the label column '", nm, "'");
    role[i] = 4;
  }
  std::vector<Column::Kind> kind(n_cols);
  for (size_t i = 0; i < n_cols; ++i) kind[i] = t.columns[i].kind;
  const auto forced_num = string_list(p, "numeric"), forced_cat = string_list(p, "categorical");
  for (const auto& nm : forced_num) kind[need_col(nm, "numeric")] = Column::kNumeric;
  for (const auto& nm : forced_cat) {
    const size_t i = need_col(nm, "categorical");
    ATTRIB_CHECK(std::find(forced_num.begin(), forced_num.end(), nm) == forced_num.end(),
                 "params.categorical and params.numeric: expected disjoint lists, found '", nm,
                 "' in both");
    kind[i] = Column::kNominal;
  }

  // Splits.
  const size_t n = t.rows.size();
  ATTRIB_CHECK(n > 0, t.file, ": expected data rows, found none");
  std::vector<int> split(n, 0);
  if (split_col >= 0) {
    for (size_t r = 0; r < n; ++r) {
      const std::string v = lower(trim(t.rows[r].cells[split_col].text));
      if (v == "train")
        split[r] = 0;
      else if (v == "val" || v == "valid" || v == "validation")
        split[r] = 1;
      else if (v == "test")
        split[r] = 2;
      else
        throw Error(file_line(t.file, t.rows[r].line) + "column '" + names[split_col] +
                    "': expected train, val or test, found '" + t.rows[r].cells[split_col].text +
                    "'");
    }
    report["notes"]["split_by"] = "column '" + names[split_col] + "'";
  } else {
    split = fraction_splits(n, p["val_fraction"], p["test_fraction"], p["seed"]);
    report["notes"]["split_by"] = "seeded fractions";
  }
  std::vector<size_t> stat_rows;  // rows whose statistics define scaling and imputation
  for (size_t r = 0; r < n; ++r)
    if (split[r] == 0) stat_rows.push_back(r);
  if (stat_rows.empty()) {
    for (size_t r = 0; r < n; ++r) stat_rows.push_back(r);
    report["notes"]["statistics_from"] = "all rows (the train split is empty)";
  }

  // Labels.
  const Column& lc = t.columns[label_col];
  const std::string& lname = lc.name;
  std::vector<std::string> classes = string_list(p, "classes");
  ATTRIB_CHECK(classes.size() <= kMaxClasses, "params.classes: expected at most ", kMaxClasses,
               " class names, found ", classes.size());
  const bool fixed = !classes.empty();
  std::vector<int64_t> labels(n, -1);
  for (size_t r = 0; r < n; ++r) {
    const Cell& cell = t.rows[r].cells[label_col];
    if (cell.missing)
      throw Error(file_line(t.file, t.rows[r].line) + "column '" + lname +
                  "': expected a label, found a missing value");
    // Limits of dataset_readers.h, checked before the label set is built.
    if (cell.text.size() > kMaxLabelBytes)
      throw Error(file_line(t.file, t.rows[r].line) + "column '" + lname +
                  "': expected a label of at most " + std::to_string(kMaxLabelBytes) +
                  " bytes, found " + std::to_string(cell.text.size()) + " bytes ('" +
                  cell.text.substr(0, 40) + "...')");
  }
  std::unordered_map<std::string, int64_t> class_of;  // a hash lookup: label sets may be large
  auto lookup = [&](size_t r, const std::string& v) -> int64_t {
    if (class_of.empty())  // built at the first lookup, once `classes` is final
      for (size_t c = 0; c < classes.size(); ++c) class_of.emplace(classes[c], c);
    auto it = class_of.find(v);
    if (it != class_of.end()) return it->second;
    int64_t k;
    if (!fixed || !parse_index(v, k) || k >= static_cast<int64_t>(classes.size()))
      throw Error(file_line(t.file, t.rows[r].line) + "column '" + lname +
                  "': expected a label in the label set " + json_text(classes) + ", found '" + v +
                  "'");
    return k;
  };
  if (!fixed && lc.kind == Column::kNominal) classes = lc.values;
  if (!fixed && classes.empty()) {
    bool integers = true;
    int64_t top = -1, k;
    size_t top_line = 0;
    for (const auto& row : t.rows) {
      if (!parse_index(row.cells[label_col].text, k)) {
        integers = false;
        break;
      }
      if (k > top) top = k, top_line = row.line;
    }
    // Integer labels make the label set 0..top: bound top before that set is built.
    if (integers && t.label_names.empty() && top >= static_cast<int64_t>(kMaxClasses))
      throw Error(file_line(t.file, top_line) + "column '" + lname +
                  "': expected a class index < " + std::to_string(kMaxClasses) + " (at most " +
                  std::to_string(kMaxClasses) + " classes), found " + std::to_string(top));
    if (integers && !t.label_names.empty()) {
      ATTRIB_CHECK(top < static_cast<int64_t>(t.label_names.size()),
                   file_line(t.file, t.header_line),
                   "header: expected a class name for every label index up to ", top, ", found ",
                   t.label_names.size(), " names");
      classes = t.label_names;
      for (size_t r = 0; r < n; ++r) parse_index(t.rows[r].cells[label_col].text, labels[r]);
    } else if (integers) {
      for (int64_t c = 0; c <= top; ++c) classes.push_back(std::to_string(c));
      for (size_t r = 0; r < n; ++r) parse_index(t.rows[r].cells[label_col].text, labels[r]);
    } else {
      std::set<std::string> found;
      for (const auto& row : t.rows)
        if (found.insert(trim(row.cells[label_col].text)).second && found.size() > kMaxClasses)
          throw Error(file_line(t.file, row.line) + "column '" + lname + "': expected at most " +
                      std::to_string(kMaxClasses) + " distinct labels, found one more, '" +
                      trim(row.cells[label_col].text) + "'");
      classes.assign(found.begin(), found.end());
    }
  }
  for (size_t r = 0; r < n; ++r)
    if (labels[r] < 0) labels[r] = lookup(r, trim(t.rows[r].cells[label_col].text));

  // Features.
  const bool impute = p["missing"] == "impute";
  const bool standardize = p["standardize"];
  Dataset d;
  d.class_names = classes;
  json columns = json::array();
  struct Enc {
    size_t col;
    bool numeric;
    std::vector<double> values;  // numeric: per row, NaN = missing
    std::vector<int64_t> index;  // categorical: per row, -1 = missing
    std::vector<std::string> categories;
    double fill = 0, mean = 0, scale = 1;
    int64_t fill_index = -1;
  };
  std::vector<Enc> encs;
  int64_t imputed = 0;
  if (!impute)  // report the first missing value in file order
    for (const auto& row : t.rows)
      for (size_t c = 0; c < n_cols; ++c)
        if (role[c] == 0 && row.cells[c].missing)
          throw Error(file_line(t.file, row.line) + "column '" + names[c] +
                      "': expected a value, found a missing value '" + row.cells[c].text +
                      "' (params.missing = \"impute\" fills it)");
  for (size_t c = 0; c < n_cols; ++c) {
    if (role[c] != 0) continue;
    Enc e;
    e.col = c;
    const std::string& cname = names[c];
    auto missing_at = [&](size_t) { ++imputed; };
    Column::Kind k = kind[c];
    if (k == Column::kAuto) {
      k = Column::kNumeric;
      double v;
      for (const auto& row : t.rows)
        if (!row.cells[c].missing && !parse_number(row.cells[c].text, v) &&
            !non_finite_number(row.cells[c].text)) {
          k = Column::kNominal;
          break;
        }
    }
    e.numeric = k == Column::kNumeric;
    if (e.numeric) {
      e.values.assign(n, NAN);
      for (size_t r = 0; r < n; ++r) {
        const Cell& cell = t.rows[r].cells[c];
        if (cell.missing) {
          missing_at(r);
          continue;
        }
        if (non_finite_number(cell.text)) {
          if (!impute)
            throw Error(file_line(t.file, t.rows[r].line) + "column '" + cname +
                        "': expected a finite number, found '" + trim(cell.text) +
                        "' (params.missing = \"impute\" fills it)");
          missing_at(r);
          continue;
        }
        if (!parse_number(cell.text, e.values[r]))
          throw Error(file_line(t.file, t.rows[r].line) + "column '" + cname +
                      "': expected a number, found '" + cell.text + "'");
      }
      double sum = 0, sq = 0;
      int64_t m = 0;
      for (size_t r : stat_rows)
        if (!std::isnan(e.values[r])) sum += e.values[r], ++m;
      ATTRIB_CHECK(m > 0, t.file, ": column '", cname,
                   "': expected at least one value in the train split, found none");
      e.mean = e.fill = sum / m;
      for (size_t r : stat_rows)
        if (!std::isnan(e.values[r])) sq += (e.values[r] - e.mean) * (e.values[r] - e.mean);
      const double sd = std::sqrt(sq / m);
      e.scale = sd > 0 ? sd : 1.0;
      json cj = {{"name", cname},
                 {"type", "numeric"},
                 {"mean", e.mean},
                 {"std", sd},
                 {"standardized", standardize}};
      if (impute) cj["impute"] = e.fill;
      columns.push_back(cj);
    } else {
      std::vector<std::string> cats = t.columns[c].values;
      if (cats.empty()) {
        std::set<std::string> found;
        for (const auto& row : t.rows)
          if (!row.cells[c].missing) found.insert(trim(row.cells[c].text));
        cats.assign(found.begin(), found.end());
      }
      e.categories = cats;
      e.index.assign(n, -1);
      for (size_t r = 0; r < n; ++r) {
        const Cell& cell = t.rows[r].cells[c];
        if (cell.missing) {
          missing_at(r);
          continue;
        }
        auto it = std::find(cats.begin(), cats.end(), trim(cell.text));
        if (it == cats.end())
          throw Error(file_line(t.file, t.rows[r].line) + "column '" + cname +
                      "': expected one of " + json_text(cats) + ", found '" + cell.text + "'");
        e.index[r] = it - cats.begin();
      }
      std::vector<int64_t> counts(cats.size(), 0);
      for (size_t r : stat_rows)
        if (e.index[r] >= 0) ++counts[e.index[r]];
      e.fill_index = std::max_element(counts.begin(), counts.end()) - counts.begin();
      json cj = {{"name", cname}, {"type", "categorical"}, {"categories", cats}};
      if (impute) cj["impute"] = cats.empty() ? json() : json(cats[e.fill_index]);
      columns.push_back(cj);
    }
    encs.push_back(std::move(e));
  }
  ATTRIB_CHECK(!encs.empty(), t.file, ": expected at least one feature column, found none");
  int64_t f = 0;
  for (size_t i = 0; i < encs.size(); ++i) {
    const Enc& e = encs[i];
    const int64_t width = e.numeric ? 1 : static_cast<int64_t>(e.categories.size());
    columns[i]["features"] = {f, f + width};
    if (e.numeric)
      d.feature_names.push_back(names[e.col]);
    else
      for (const auto& cat : e.categories) d.feature_names.push_back(names[e.col] + "=" + cat);
    f += width;
  }
  d.feature_shape = {f};
  d.encoding = {{"label", lname}, {"columns", columns}};
  if (imputed) report["notes"]["imputed_values"] = imputed;

  const std::string stem = file_stem(t.file);
  std::unordered_map<std::string, size_t> ids;
  for (size_t r = 0; r < n; ++r) {
    DenseExample ex;
    ex.id = id_col >= 0 ? trim(t.rows[r].cells[id_col].text)
                        : stem + "-" + std::to_string(t.rows[r].line);
    if (ex.id.empty())
      throw Error(file_line(t.file, t.rows[r].line) + "column '" + names[id_col] +
                  "': expected an example id, found an empty field");
    auto [it, fresh] = ids.emplace(ex.id, t.rows[r].line);
    if (!fresh)
      throw Error(file_line(t.file, t.rows[r].line) +
                  "id: expected ids unique across the dataset, found '" + ex.id +
                  "' again (first at line " + std::to_string(it->second) + ")");
    ex.label = labels[r];
    ex.x.reserve(f);
    for (const auto& e : encs) {
      if (e.numeric) {
        const double v = std::isnan(e.values[r]) ? e.fill : e.values[r];
        ex.x.push_back(static_cast<float>(standardize ? (v - e.mean) / e.scale : v));
      } else {
        const int64_t k = e.index[r] < 0 ? e.fill_index : e.index[r];
        for (size_t j = 0; j < e.categories.size(); ++j)
          ex.x.push_back(static_cast<int64_t>(j) == k ? 1.0f : 0.0f);
      }
    }
    dense_of(d, split[r]).push_back(std::move(ex));
  }
  return d;
}

}  // namespace attrib::readers
