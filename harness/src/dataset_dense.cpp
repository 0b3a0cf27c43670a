#include "dataset_dense.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "attrib/error.h"
#include "attrib/random.h"
#include "dataset_readers.h"
#include "image_io.h"

namespace attrib {

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kSplitNames[] = {"train", "val", "test"};

std::string at(const std::string& file, size_t line) {
  return file + ":" + std::to_string(line) + ": ";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

/// A whole file, gunzipped when it is gzip data (zlib reads plain files unchanged).
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

/// A finite number filling all of `s` (surrounding blanks allowed).
bool parse_number(const std::string& s, double& v) {
  const std::string t = trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && std::isfinite(v) && errno != ERANGE;
}

/// A number that is not finite: nan, inf, -Infinity, or one out of range such as 1e999. In a
/// numeric column such a cell is a missing value, not a category.
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

/// Sequential generator for the fixed parts of synthetic data (relevant features, weights).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return state_ = splitmix64(state_); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

/// Split of item i of n by seeded fractions: items are ordered by a hash of (seed, i); the first
/// round(test_fraction * n) go to test, the next round(val_fraction * n) to val, the rest to
/// train. Returns 0 train, 1 val, 2 test per item.
std::vector<int> fraction_splits(size_t n, double val_fraction, double test_fraction,
                                 uint64_t seed) {
  ATTRIB_CHECK(val_fraction + test_fraction < 1.0,
               "params.val_fraction + params.test_fraction: expected < 1, found ",
               val_fraction + test_fraction);
  std::vector<std::pair<uint64_t, size_t>> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = {splitmix64(splitmix64(seed ^ 0x73706c6974ULL) + i), i};
  std::sort(order.begin(), order.end());
  const size_t n_test = static_cast<size_t>(std::llround(test_fraction * n));
  const size_t n_val = std::min(n - n_test, static_cast<size_t>(std::llround(val_fraction * n)));
  std::vector<int> out(n, 0);
  for (size_t k = 0; k < n; ++k) out[order[k].second] = k < n_test ? 2 : k < n_test + n_val ? 1 : 0;
  return out;
}

std::vector<DenseExample>& dense_of(Dataset& d, int split) {
  return split == 0 ? d.dense_train : split == 1 ? d.dense_val : d.dense_test;
}

json new_report(const std::string& format) {
  json r = {{"format", format},
            {"sources", json::object()},
            {"splits", json::object()},
            {"notes", json::object()}};
  for (const char* s : kSplitNames) r["splits"][s] = {{"rows", 0}, {"dropped", json::object()}};
  return r;
}

void count_rows(json& report, const Dataset& d) {
  for (int s = 0; s < 3; ++s)
    report["splits"][kSplitNames[s]]["rows"] = dense_of(const_cast<Dataset&>(d), s).size();
}

std::vector<std::string> string_list(const json& p, const char* key) {
  std::vector<std::string> out;
  for (const auto& v : p.value(key, json::array())) {
    ATTRIB_CHECK(v.is_string(), "params.", key, ": expected an array of strings, found ",
                 p[key].dump());
    out.push_back(v.get<std::string>());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tables (csv:, arff:) and their encoding into features

const char* kTabularCommon = R"JSON(
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

const char* kCsvOnly = R"JSON(
  "header": {"type": "string", "default": "auto", "enum": ["auto", "names", "sklearn", "none"],
             "description": "names: the first line names the columns; sklearn: the first line is N_SAMPLES,N_FEATURES,CLASS_NAMES... (columns x0.. and label, last); none: columns x0..; auto: sklearn when the first line's counts match the file and class names follow them, names when it has a non-number, else none"},
  "na_values": {"type": "array", "default": ["", "?", "NA"],
                "description": "field texts (after trimming blanks) that mean a missing value"})JSON";

struct Cell {
  std::string text;
  bool missing = false;
};

struct TableRow {
  size_t line = 0;
  std::vector<Cell> cells;
};

struct Column {
  std::string name;
  enum Kind { kAuto, kNumeric, kNominal } kind = kAuto;
  std::vector<std::string> values;  ///< declared nominal values in order (ARFF)
};

struct Table {
  std::string file;
  size_t header_line = 1;
  std::vector<Column> columns;
  std::vector<TableRow> rows;
  std::vector<std::string> label_names;  ///< class names from a scikit-learn header
};

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
      throw Error(at(t.file, t.header_line) + "params." + param + ": expected a column '" + nm +
                  "', found columns: " + joined(names));
    return static_cast<size_t>(i);
  };
  ATTRIB_CHECK(n_cols >= 2, at(t.file, t.header_line),
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
    ATTRIB_CHECK(role[i] != 1, at(t.file, t.header_line),
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
        throw Error(at(t.file, t.rows[r].line) + "column '" + names[split_col] +
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
      throw Error(at(t.file, t.rows[r].line) + "column '" + lname +
                  "': expected a label, found a missing value");
    // Limits of dataset_readers.h, checked before the label set is built.
    if (cell.text.size() > kMaxLabelBytes)
      throw Error(at(t.file, t.rows[r].line) + "column '" + lname +
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
      throw Error(at(t.file, t.rows[r].line) + "column '" + lname +
                  "': expected a label in the label set " + json(classes).dump() + ", found '" + v +
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
      throw Error(at(t.file, top_line) + "column '" + lname + "': expected a class index < " +
                  std::to_string(kMaxClasses) + " (at most " + std::to_string(kMaxClasses) +
                  " classes), found " + std::to_string(top));
    if (integers && !t.label_names.empty()) {
      ATTRIB_CHECK(top < static_cast<int64_t>(t.label_names.size()), at(t.file, t.header_line),
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
          throw Error(at(t.file, row.line) + "column '" + lname + "': expected at most " +
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
          throw Error(at(t.file, row.line) + "column '" + names[c] +
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
            throw Error(at(t.file, t.rows[r].line) + "column '" + cname +
                        "': expected a finite number, found '" + trim(cell.text) +
                        "' (params.missing = \"impute\" fills it)");
          missing_at(r);
          continue;
        }
        if (!parse_number(cell.text, e.values[r]))
          throw Error(at(t.file, t.rows[r].line) + "column '" + cname +
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
          throw Error(at(t.file, t.rows[r].line) + "column '" + cname + "': expected one of " +
                      json(cats).dump() + ", found '" + cell.text + "'");
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
      throw Error(at(t.file, t.rows[r].line) + "column '" + names[id_col] +
                  "': expected an example id, found an empty field");
    auto [it, fresh] = ids.emplace(ex.id, t.rows[r].line);
    if (!fresh)
      throw Error(at(t.file, t.rows[r].line) +
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

// csv:FILE -------------------------------------------------------------------------------------

Dataset read_csv_dense(const std::string& path, const json& p, json& report) {
  const std::vector<CsvRecord> recs = parse_csv(read_maybe_gz(path), path);
  ATTRIB_CHECK(!recs.empty(), at(path, 1), "expected a header line or data, found an empty file");
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
        throw Error(at(path, first.line) + "header: expected distinct column names, found '" + nm +
                    "' twice");
      t.columns.push_back({nm, Column::kAuto, {}});
    }
  } else {
    size_t width;
    if (header == "sklearn") {
      int64_t rows, feats;
      if (first.fields.size() < 2 || !parse_index(first.fields[0], rows) ||
          !parse_index(first.fields[1], feats))
        throw Error(at(path, first.line) +
                    "header: expected N_SAMPLES,N_FEATURES,CLASS_NAMES..., found '" +
                    joined(first.fields) + "'");
      if (rows != static_cast<int64_t>(recs.size()) - 1)
        throw Error(at(path, first.line) + "header: expected " + std::to_string(rows) +
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
      throw Error(at(path, rec.line) + "row: expected " + std::to_string(t.columns.size()) +
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

// arff:FILE ------------------------------------------------------------------------------------

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

Dataset read_arff(const std::string& path, const json& p, json& report) {
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
    const std::string where = at(path, line);
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
                    json(col.values).dump() + ", found '" + cell.text + "'");
      double v;
      if (col.kind == Column::kNumeric && !parse_number(cell.text, v) &&
          !non_finite_number(cell.text))  // nan/inf: a missing value, see encode_table
        throw Error(where + "attribute '" + col.name + "': expected a number, found '" + cell.text +
                    "'");
    }
    t.rows.push_back(std::move(row));
  }
  if (!data) throw Error(at(path, line) + "expected @data, found end of file");
  report["sources"]["all"] = path;
  return encode_table(t, p, report);
}

// idx:DIR --------------------------------------------------------------------------------------

const char* kIdxSchema = R"JSON({
  "val_fraction": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 0.9,
                   "description": "fraction of the train file carved out (seeded) as the val split"},
  "seed": {"type": "integer", "default": 1, "minimum": 0},
  "max_train": {"type": "integer", "default": 0, "minimum": 0,
                "description": "use only the first N items of the train file (before the val carve); 0 = all"},
  "max_test": {"type": "integer", "default": 0, "minimum": 0,
               "description": "use only the first N items of the t10k file; 0 = all"},
  "classes": {"type": "array", "default": [],
              "description": "class names in label order; empty = the Fashion-MNIST names when DIR's path contains 'fashion', else 0..9"}
})JSON";

const char* const kFashionClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Idx {
  std::vector<int64_t> dims;
  std::string bytes;  ///< the data after the header
};

std::string find_idx(const std::string& dir, const std::string& base) {
  for (const std::string& f : {base, base + ".gz"}) {
    const fs::path p = fs::path(dir) / f;
    if (fs::is_regular_file(p)) return p.string();
  }
  throw Error("idx:" + dir + ": expected " + base + " or " + base + ".gz, found neither" +
              (dir == kFashionMnistDir ? " (apt-get install dataset-fashion-mnist)" : ""));
}

/// Most elements of one IDX item (the product of the dimensions after the first): an 8192 x 8192
/// image. Items become float vectors, so a header that is wrong cannot ask for more than 256 MiB
/// per item even when it claims zero items (and so zero data bytes).
constexpr uint64_t kMaxIdxItem = uint64_t{1} << 26;

/// The header and data of an IDX file, gzip or not. The data size the header claims is checked
/// against the file before anything that size is allocated: a plain file's size is known, and
/// gzip data are read incrementally, so a header claiming more than the file holds is an error,
/// not an allocation of what it claims.
Idx read_idx(const std::string& path, int ndims) {
  ATTRIB_CHECK(fs::is_regular_file(path), path, ": expected a readable file, found none");
  gzFile gz = gzopen(path.c_str(), "rb");
  ATTRIB_CHECK(gz, path, ": expected a readable file, found none (", std::strerror(errno), ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, gzclose);
  // Up to `len` bytes; fewer only at the end of the data.
  auto read = [&](char* buf, size_t len) { return gz_read_upto(gz, buf, len, path); };
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  std::string head(header, '\0');
  const size_t got_magic = read(head.data(), 4);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (got_magic < 4)
    throw Error(path + ": byte 0: expected a 4-byte IDX magic number, found " +
                std::to_string(got_magic) + " bytes");
  char buf[96];
  if (byte(0) != 0 || byte(1) != 0 || byte(2) != 0x08 || byte(3) != ndims) {
    std::snprintf(buf, sizeof buf,
                  "0x000008%02x (unsigned bytes, %d dimensions), found 0x%02x%02x%02x%02x", ndims,
                  ndims, byte(0), byte(1), byte(2), byte(3));
    throw Error(path + ": byte 0: expected IDX magic " + buf);
  }
  if (read(head.data() + 4, header - 4) < header - 4)
    throw Error(path + ": byte 4: expected " + std::to_string(ndims) +
                " dimension sizes, found end of file");
  Idx out;
  uint64_t total = 1, item = 1;  // overflow-checked: the dimensions are 32-bit each
  bool overflow = false;
  for (int k = 0; k < ndims; ++k) {
    const size_t o = 4 + 4 * k;
    const int64_t d =
        (int64_t(byte(o)) << 24) | (byte(o + 1) << 16) | (byte(o + 2) << 8) | byte(o + 3);
    out.dims.push_back(d);
    overflow |= __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total);
    if (k > 0) overflow |= __builtin_mul_overflow(item, static_cast<uint64_t>(d), &item);
  }
  if (overflow || item > kMaxIdxItem || (ndims > 1 && item == 0))
    throw Error(path + ": byte 4: expected dimensions of 1 to " + std::to_string(kMaxIdxItem) +
                " elements per item, found " + json(out.dims).dump());
  auto size_error = [&](uint64_t found) {
    return Error(path + ": byte " + std::to_string(header) + ": expected " + std::to_string(total) +
                 " data bytes (dimensions " + json(out.dims).dump() + "), found " +
                 std::to_string(found));
  };
  if (gzdirect(gz)) {  // plain file: its size says how much data follows the header
    const uint64_t size = fs::file_size(path);
    const uint64_t available = size > header ? size - header : 0;
    if (available != total) throw size_error(available);
    out.bytes.resize(total);
    const size_t got = read(out.bytes.data(), total);
    if (got != total) throw size_error(got);
    return out;
  }
  // gzip: the size is unknown until the end, so the data grow as they arrive.
  out.bytes.reserve(std::min<uint64_t>(total, 1 << 24));
  char chunk[1 << 16];
  uint64_t got = 0;
  for (size_t r; got < total && (r = read(chunk, std::min<uint64_t>(total - got, sizeof chunk)));
       got += r)
    out.bytes.append(chunk, r);
  if (got < total) throw size_error(got);
  for (size_t r; (r = read(chunk, sizeof chunk));) got += r;  // bytes after the data
  if (got != total) throw size_error(got);
  return out;
}

struct IdxSet {
  std::vector<int64_t> shape;  // {1, rows, cols}
  std::vector<std::string> classes;
  std::vector<DenseExample> train, test;  // file order
};

IdxSet load_idx(const std::string& dir, const json& p, json& report) {
  ATTRIB_CHECK(
      fs::is_directory(dir), "idx:", dir,
      ": expected a directory with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
      "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], found none",
      dir == kFashionMnistDir ? " (apt-get install dataset-fashion-mnist)" : "");
  IdxSet out;
  int64_t top = -1;
  for (const std::string part : {"train", "t10k"}) {
    const std::string ip = find_idx(dir, part + "-images-idx3-ubyte");
    const std::string lp = find_idx(dir, part + "-labels-idx1-ubyte");
    const Idx images = read_idx(ip, 3), labels = read_idx(lp, 1);
    if (images.dims[0] != labels.dims[0])
      throw Error(lp + ": expected " + std::to_string(images.dims[0]) +
                  " labels (one per image in " + ip + "), found " + std::to_string(labels.dims[0]));
    const std::vector<int64_t> shape = {1, images.dims[1], images.dims[2]};
    if (out.shape.empty()) out.shape = shape;
    if (shape != out.shape)
      throw Error(ip + ": expected images of " + json(out.shape).dump() +
                  " like the train file, found " + json(shape).dump());
    report["sources"][part == "train" ? "train" : "test"] = ip;
    int64_t n = images.dims[0];
    const int64_t limit = part == "train" ? p["max_train"] : p["max_test"];
    if (limit > 0) n = std::min(n, limit);
    const int64_t hw = images.dims[1] * images.dims[2];
    auto& dst = part == "train" ? out.train : out.test;
    dst.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      DenseExample& e = dst[i];
      e.id = part + "-" + std::to_string(i);
      e.label = static_cast<unsigned char>(labels.bytes[i]);
      top = std::max(top, e.label);
      e.x.resize(hw);
      const unsigned char* px =
          reinterpret_cast<const unsigned char*>(images.bytes.data()) + i * hw;
      for (int64_t k = 0; k < hw; ++k) e.x[k] = px[k] / 255.0f;
    }
  }
  out.classes = string_list(p, "classes");
  if (out.classes.empty()) {
    if (lower(dir).find("fashion") != std::string::npos && top <= 9)
      out.classes.assign(std::begin(kFashionClasses), std::end(kFashionClasses));
    else
      for (int64_t c = 0; c <= std::max<int64_t>(top, 9); ++c)
        out.classes.push_back(std::to_string(c));
  }
  if (top >= static_cast<int64_t>(out.classes.size()))
    throw Error("idx:" + dir + ": expected labels < " + std::to_string(out.classes.size()) +
                " (params.classes), found " + std::to_string(top));
  return out;
}

Dataset read_idx_dataset(const std::string& dir, const json& p, json& report) {
  IdxSet s = load_idx(dir, p, report);
  Dataset d;
  d.class_names = s.classes;
  d.feature_shape = s.shape;
  const auto split = fraction_splits(s.train.size(), p["val_fraction"], 0.0, p["seed"]);
  for (size_t i = 0; i < s.train.size(); ++i)
    dense_of(d, split[i]).push_back(std::move(s.train[i]));
  d.dense_test = std::move(s.test);
  d.encoding = {{"pixels", "value / 255"}, {"val", "seeded fraction of the train file"}};
  return d;
}

// images:DIR -----------------------------------------------------------------------------------

const char* kImagesSchema = R"JSON({
  "image_dir": {"type": "string", "default": "auto",
                "description": "folder of images inside DIR; auto = gray if present, else images. Subfolders of it, when present, are the classes (sorted by name)"},
  "mask_dir": {"type": "string", "default": "auto",
               "description": "folder of masks inside DIR, same file names (any of .png/.jpg/.jpeg) and subfolders as the images; auto = figure_ground if present, else masks if present, else none; none = no masks"},
  "class_name": {"type": "string", "default": "",
                 "description": "the one class of an image folder without subfolders; empty = the name of DIR"},
  "height": {"type": "integer", "default": 64, "minimum": 4, "maximum": 1024},
  "width": {"type": "integer", "default": 64, "minimum": 4, "maximum": 1024},
  "channels": {"type": "integer", "default": 1, "minimum": 1, "maximum": 3,
               "description": "1 (colour images become grey, ITU-R 601 luma) or 3 (grey images are repeated)"},
  "mask_threshold": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1,
                     "description": "a resized mask pixel (value / 255) >= this is relevant"},
  "val_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "test_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "seed": {"type": "integer", "default": 1, "minimum": 0}
})JSON";

bool is_image_file(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

Dataset read_images(const std::string& dir, const json& p, json& report) {
  ATTRIB_CHECK(fs::is_directory(dir), "images:", dir,
               ": expected a directory with an image folder (gray/ or images/) and optionally a "
               "mask folder (figure_ground/ or masks/), found none");
  std::string image_dir = p["image_dir"], mask_dir = p["mask_dir"];
  if (image_dir == "auto") image_dir = fs::is_directory(fs::path(dir) / "gray") ? "gray" : "images";
  const fs::path images = fs::path(dir) / image_dir;
  ATTRIB_CHECK(fs::is_directory(images), "images:", dir, ": expected an image folder '", image_dir,
               "', found none");
  if (mask_dir == "auto")
    mask_dir = fs::is_directory(fs::path(dir) / "figure_ground") ? "figure_ground"
               : fs::is_directory(fs::path(dir) / "masks")       ? "masks"
                                                                 : "none";
  const bool with_masks = mask_dir != "none";
  const fs::path masks = fs::path(dir) / mask_dir;
  if (with_masks)
    ATTRIB_CHECK(fs::is_directory(masks), "images:", dir, ": expected a mask folder '", mask_dir,
                 "', found none");
  report["sources"]["images"] = images.string();
  report["sources"]["masks"] = with_masks ? json(masks.string()) : json();

  // Classes: subfolders, or the one folder.
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(images))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  const bool subfolders = !classes.empty();
  if (!subfolders) {
    std::string cname = p["class_name"];
    if (cname.empty()) cname = fs::path(dir).lexically_normal().filename().string();
    if (cname.empty()) cname = fs::path(dir).lexically_normal().parent_path().filename().string();
    classes = {cname};
  }
  struct Item {
    fs::path file;
    std::string rel;  // class/stem or stem
    int64_t label;
  };
  std::vector<Item> items;
  int64_t skipped = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path folder = subfolders ? images / classes[c] : images;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (!entry.is_regular_file()) continue;
      if (is_image_file(entry.path()))
        files.push_back(entry.path());
      else
        ++skipped;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string stem = f.stem().string();
      items.push_back({f, subfolders ? classes[c] + "/" + stem : stem, static_cast<int64_t>(c)});
    }
  }
  ATTRIB_CHECK(!items.empty(), "images:", dir, ": expected .png, .jpg or .jpeg files in ",
               images.string(), ", found none");
  if (skipped) report["notes"]["skipped_files"] = skipped;

  const int64_t H = p["height"], W = p["width"], C = p["channels"];
  const float thr = p["mask_threshold"].get<float>();
  const auto split =
      fraction_splits(items.size(), p["val_fraction"], p["test_fraction"], p["seed"]);
  Dataset d;
  d.class_names = classes;
  d.feature_shape = {C, H, W};
  int64_t without_mask = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    const Image img = read_image(it.file.string());
    DenseExample e;
    e.id = it.rel;
    e.label = it.label;
    e.x = resize_bilinear(image_planes(img, C), C, img.height, img.width, H, W);
    if (with_masks) {
      const fs::path rel_dir = subfolders ? masks / classes[it.label] : masks;
      fs::path mask_file;
      for (const std::string ext :
           {it.file.extension().string(), std::string(".png"), std::string(".jpg"),
            std::string(".jpeg"), std::string(".PNG"), std::string(".JPG")}) {
        const fs::path cand = rel_dir / (it.file.stem().string() + ext);
        if (fs::is_regular_file(cand)) {
          mask_file = cand;
          break;
        }
      }
      if (mask_file.empty()) {
        ++without_mask;
      } else {
        const Image m = read_image(mask_file.string());
        const auto plane = resize_bilinear(image_planes(m, 1), 1, m.height, m.width, H, W);
        e.mask.resize(static_cast<size_t>(C * H * W));
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < H * W; ++k) e.mask[c * H * W + k] = plane[k] >= thr ? 1.0f : 0.0f;
      }
    }
    dense_of(d, split[i]).push_back(std::move(e));
  }
  if (without_mask) report["notes"]["without_mask"] = without_mask;
  d.encoding = {
      {"pixels", "value / 255, bilinear resize (half-pixel centres, no antialiasing)"},
      {"labels", subfolders ? "class subfolders" : "one class (the folder)"},
      {"mask", with_masks ? "resized mask >= mask_threshold, repeated per channel" : "none"}};
  return d;
}

// synthetic -----------------------------------------------------------------------------------

const char* kTabularSynthSchema = R"JSON({
  "n_train": {"type": "integer", "default": 2000, "minimum": 10, "maximum": 1000000},
  "n_val": {"type": "integer", "default": 400, "minimum": 1, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 400, "minimum": 1, "maximum": 1000000},
  "n_features": {"type": "integer", "default": 10, "minimum": 2, "maximum": 10000},
  "n_informative": {"type": "integer", "default": 3, "minimum": 1, "maximum": 10000,
                    "description": "relevant features (the annotation mask), chosen at seeded random positions"},
  "noise": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 10,
            "description": "standard deviation of the Gaussian noise added to the score before thresholding"},
  "seed": {"type": "integer", "default": 1, "minimum": 0,
           "description": "generator seed (independent of the run seed, so the data stay fixed)"}
})JSON";

const char* kBlockMnistSchema = R"JSON({
  "n_train": {"type": "integer", "default": 5000, "minimum": 10, "maximum": 1000000},
  "n_val": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 1000000},
  "distractors": {"type": "string", "default": "noise", "enum": ["noise", "items"],
                  "description": "what fills the 3 other cells: uniform noise in [0, noise], or other items (random classes) dimmed by distractor_scale, so the brightest item is the labelled one"},
  "noise": {"type": "number", "default": 0.3, "minimum": 0, "maximum": 1},
  "distractor_scale": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1},
  "dir": {"type": "string", "default": "",
          "description": "IDX folder (as idx:DIR); empty = the dataset-fashion-mnist package's"},
  "seed": {"type": "integer", "default": 1, "minimum": 0}
})JSON";

/// The per-example generator: draws depend only on (seed, id), not on the split sizes.
Rng example_rng(uint64_t seed, const std::string& id) { return Rng(stream_key(seed, id, 0)); }

Dataset tabular_synthetic(const std::string& name, const json& p, bool linear) {
  const int64_t F = p["n_features"], K = p["n_informative"];
  const double noise = p["noise"];
  const uint64_t seed = p["seed"];
  ATTRIB_CHECK(K <= F, "dataset '", name, "': params.n_informative (", K,
               ") must be <= params.n_features (", F, ")");
  ATTRIB_CHECK(linear || K >= 2, "dataset '", name,
               "': params.n_informative: expected >= 2 for tabular_nonlinear, found ", K);
  Rng fixed(seed ^ 0x7461627374ULL);
  std::vector<int64_t> perm(F);
  for (int64_t j = 0; j < F; ++j) perm[j] = j;
  for (int64_t j = 0; j < K; ++j) std::swap(perm[j], perm[j + fixed.below(F - j)]);
  std::vector<int64_t> rel(perm.begin(), perm.begin() + K);
  std::vector<double> w;
  for (int64_t k = 0; k < K; ++k)
    w.push_back((fixed.below(2) ? 1.0 : -1.0) * (1.0 + fixed.uniform()));  // |w| in [1, 2)
  Dataset d;
  d.class_names = {"negative", "positive"};
  d.feature_shape = {F};
  for (int64_t j = 0; j < F; ++j) d.feature_names.push_back("x" + std::to_string(j));
  std::vector<float> mask(F, 0.0f);
  for (int64_t j : rel) mask[j] = 1.0f;
  const double half_normal_mean = std::sqrt(2.0 / 3.141592653589793);
  for (int s = 0; s < 3; ++s) {
    const int64_t n = p[std::string("n_") + kSplitNames[s]];
    auto& out = dense_of(d, s);
    for (int64_t k = 0; k < n; ++k) {
      DenseExample e;
      e.id = name + "-" + kSplitNames[s] + "-" + std::to_string(k);
      Rng rng = example_rng(seed, e.id);
      e.x.resize(F);
      for (auto& v : e.x) v = static_cast<float>(rng.normal());
      double score = 0;
      if (linear) {
        for (int64_t r = 0; r < K; ++r) score += w[r] * e.x[rel[r]];
      } else {
        score = double(e.x[rel[0]]) * e.x[rel[1]];
        for (int64_t r = 2; r < K; ++r) score += std::fabs(e.x[rel[r]]) - half_normal_mean;
      }
      score += noise * rng.normal();
      e.label = score > 0 ? 1 : 0;
      e.mask = mask;
      out.push_back(std::move(e));
    }
  }
  d.encoding = {{"relevant_features", rel},
                {"features", "independent N(0, 1)"},
                {"label", linear ? "1[sum_k w_k x[relevant_k] + noise * N(0,1) > 0]"
                                 : "1[x[r0] * x[r1] + sum_{k>=2} (|x[r_k]| - sqrt(2/pi)) + "
                                   "noise * N(0,1) > 0]"}};
  if (linear) d.encoding["weights"] = w;
  return d;
}

Dataset block_mnist(const std::string& name, const json& p, json& report) {
  std::string dir = p["dir"];
  if (dir.empty()) dir = kFashionMnistDir;
  json idx_params = {{"max_train", 0}, {"max_test", 0}, {"classes", json::array()}};
  json idx_report = new_report("idx");
  IdxSet src;
  try {
    src = load_idx(dir, idx_params, idx_report);
  } catch (const Error& e) {
    throw Error(std::string("synthetic:block_mnist needs Fashion-MNIST IDX files: ") + e.what());
  }
  ATTRIB_CHECK(src.shape[1] == 28 && src.shape[2] == 28,
               "synthetic:block_mnist: expected 28 x 28 items, found ", src.shape[1], " x ",
               src.shape[2]);
  ATTRIB_CHECK(!src.train.empty() && !src.test.empty(), "synthetic:block_mnist: expected items in ",
               dir, "'s train and t10k files, found ", src.train.size(), " and ", src.test.size());
  report["sources"] = idx_report["sources"];
  const bool items = p["distractors"] == "items";
  const float noise = p["noise"].get<float>(), scale = p["distractor_scale"].get<float>();
  const uint64_t seed = p["seed"];
  constexpr int64_t S = 28, W = 2 * S;
  Dataset d;
  d.class_names = src.classes;
  d.feature_shape = {1, W, W};
  for (int s = 0; s < 3; ++s) {
    const auto& pool = s == 2 ? src.test : src.train;
    const int64_t n = p[std::string("n_") + kSplitNames[s]];
    auto& out = dense_of(d, s);
    for (int64_t k = 0; k < n; ++k) {
      DenseExample e;
      e.id = name + "-" + kSplitNames[s] + "-" + std::to_string(k);
      Rng rng = example_rng(seed, e.id);
      const int64_t cell = rng.below(4);
      e.x.assign(W * W, 0.0f);
      e.mask.assign(W * W, 0.0f);
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t oy = (c / 2) * S, ox = (c % 2) * S;
        const DenseExample* item = nullptr;
        float gain = 1.0f;
        if (c == cell) {
          item = &pool[rng.below(pool.size())];
          e.label = item->label;
        } else if (items) {
          item = &pool[rng.below(pool.size())];
          gain = scale;
        }
        for (int64_t y = 0; y < S; ++y)
          for (int64_t x = 0; x < S; ++x) {
            const int64_t k2 = (oy + y) * W + ox + x;
            e.x[k2] = item ? gain * item->x[y * S + x] : noise * static_cast<float>(rng.uniform());
            if (c == cell) e.mask[k2] = 1.0f;
          }
      }
      out.push_back(std::move(e));
    }
  }
  d.encoding = {{"canvas", "2 x 2 cells of 28 x 28; one item in a random cell decides the label"},
                {"distractors", p["distractors"]},
                {"mask", "the labelled item's cell"}};
  return d;
}

std::pair<std::string, std::string> split_spec(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace

bool is_dense_spec(const std::string& spec) {
  if (spec == "synthetic:tabular_linear" || spec == "synthetic:tabular_nonlinear" ||
      spec == "synthetic:block_mnist")
    return true;
  const auto format = split_spec(spec).first;
  return format == "csv" || format == "arff" || format == "idx" || format == "images";
}

json dense_params_schema(const std::string& spec) {
  if (spec == "synthetic:tabular_linear" || spec == "synthetic:tabular_nonlinear")
    return json::parse(kTabularSynthSchema);
  if (spec == "synthetic:block_mnist") return json::parse(kBlockMnistSchema);
  const auto [format, path] = split_spec(spec);
  if (format == "idx") return json::parse(kIdxSchema);
  ATTRIB_CHECK(!path.empty(), "dataset spec '", spec, "': expected ", format,
               format == "images" ? ":DIR" : ":FILE", ", found no path after ':'");
  if (format == "images") return json::parse(kImagesSchema);
  if (format == "csv") return json::parse(std::string("{") + kTabularCommon + "," + kCsvOnly + "}");
  if (format == "arff") return json::parse(std::string("{") + kTabularCommon + "}");
  throw Error("unknown dense dataset spec '" + spec + "'");
}

Dataset read_dense_dataset(const std::string& name, const std::string& spec, const json& params,
                           json* report) {
  const auto [format, path] = split_spec(spec);
  json local = new_report(format == "synthetic" ? path : format);
  Dataset d;
  if (spec == "synthetic:tabular_linear")
    d = tabular_synthetic(name, params, true);
  else if (spec == "synthetic:tabular_nonlinear")
    d = tabular_synthetic(name, params, false);
  else if (spec == "synthetic:block_mnist")
    d = block_mnist(name, params, local);
  else if (format == "csv")
    d = read_csv_dense(path, params, local);
  else if (format == "arff")
    d = read_arff(path, params, local);
  else if (format == "idx")
    d = read_idx_dataset(path.empty() ? kFashionMnistDir : path, params, local);
  else if (format == "images")
    d = read_images(path, params, local);
  else
    throw Error("unknown dense dataset spec '" + spec + "'");
  d.name = name;
  d.modality = Modality::kDense;
  count_rows(local, d);
  if (report) *report = std::move(local);
  return d;
}

}  // namespace attrib
