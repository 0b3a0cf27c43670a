#pragma once
// Tables (csv:, arff:) and their encoding into dense features: label column and label set,
// one-hot categories, standardisation with train statistics, missing values, the split by column
// or by seeded fractions. The file formats only fill a Table (readers/csv.cpp, readers/arff.cpp).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace attrib::readers {

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

/// A file's name without its extension (and without .gz): the prefix of generated ids.
std::string file_stem(const std::string& path);

/// The dataset of a table with resolved tabular `p` (kTabularSchema); fills report.notes and the
/// dense split rows' dropped counts.
Dataset encode_table(const Table& t, const nlohmann::json& p, nlohmann::json& report);

/// `s` without surrounding blanks.
std::string trim(const std::string& s);

/// A finite number filling all of `s` (surrounding blanks allowed).
bool parse_number(const std::string& s, double& v);

/// A number that is not finite: nan, inf, -Infinity, or one out of range such as 1e999. In a
/// numeric column such a cell is a missing value, not a category.
bool non_finite_number(const std::string& s);

/// A non-negative integer of at most 18 digits filling all of `s` (surrounding blanks allowed).
bool parse_index(const std::string& s, int64_t& v);

}  // namespace attrib::readers
