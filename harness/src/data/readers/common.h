#pragma once
// What the dataset readers and generators share: the split names, the report every reader fills
// (see dataset_summary), error locations, label-set limits and lookups, and small field helpers.
// Internal to harness/src/data.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "data/dataset.h"

namespace attrib::readers {

/// The splits in report and file order; index 0, 1, 2 as in dense_of.
extern const char* const kSplits[3];

/// Limits on a dataset's label set, checked while the labels are read (before the label set and
/// the per-class tables are built), so that a wrong label column (ids, free text) or a corrupt
/// file is an error naming FILE:LINE instead of an allocation failure. 100,000 classes is above
/// every classification benchmark we know of (ImageNet-21k has 21,841) while keeping the
/// models' C-way output layer and the per-class summaries small; 1,000 bytes is far above any
/// real class name (they appear in every report and leaderboard) yet rules out a document or a
/// whole line taken as a label.
constexpr size_t kMaxClasses = 100000;
constexpr size_t kMaxLabelBytes = 1000;

/// Location of a record, for error messages.
struct Where {
  std::string prefix;  ///< "FILE:LINE: "
  [[noreturn]] void fail(const std::string& what, const std::string& expected,
                         const std::string& found) const {
    throw Error(prefix + what + ": expected " + expected + ", found " + found);
  }
};

/// obj[key], or a "FILE:LINE: KEY: expected a field ..., found none" error.
const nlohmann::json& field(const nlohmann::json& obj, const char* key, const Where& w,
                            const char* expected);

/// One JSONL line, depth- and range-limited like every JSON attrib reads from users.
nlohmann::json parse_json_line(const std::string& text, const Where& w);

/// Non-blank lines of a text file with their 1-based numbers.
std::vector<std::pair<size_t, std::string>> text_lines(const std::string& text);

/// A whole file; the error names `path` and the system's reason.
std::string slurp(const std::string& path);

/// `dir`/`name` as a string.
std::string path_in(const std::string& dir, const std::string& name);

/// A JSON value as text for messages and summaries. Data files need not be UTF-8 (a Latin-1 CSV),
/// so invalid UTF-8 becomes U+FFFD instead of nlohmann's type_error.
std::string json_text(const nlohmann::json& v);

/// A JSON value for messages (json_text), cut to 60 characters.
std::string short_json(const nlohmann::json& v);

/// "a, b, c".
std::string joined(const std::vector<std::string>& v);

/// ASCII lower case.
std::string lower(std::string s);

/// The text examples of split "train", "val" or "test" (anything else: test).
std::vector<TextExample>& split_of(Dataset& d, const std::string& split);

/// The dense examples of split 0 train, 1 val, 2 test.
std::vector<DenseExample>& dense_of(Dataset& d, int split);

/// An empty report {"format", "sources", "splits": {split: {"rows": 0, "dropped": {}}},
/// "notes"}.
nlohmann::json new_report(const std::string& format);

/// report.splits.SPLIT.rows = examples kept, for each split of a dense dataset.
void count_rows(nlohmann::json& report, const Dataset& d);

/// counter[key] += by.
void bump(nlohmann::json& counter, const std::string& key, int64_t by = 1);

/// Rejects ids seen before in any split.
class IdSet {
 public:
  void add(const std::string& id, const Where& w) {
    auto [it, fresh] = seen_.emplace(id, w.prefix);
    if (!fresh)
      w.fail("id", "ids unique across the dataset",
             "\"" + id + "\" again (first at " + it->second.substr(0, it->second.size() - 2) + ")");
  }

 private:
  std::unordered_map<std::string, std::string> seen_;
};

/// Class names from params.classes (strings, distinct, within kMaxClasses and kMaxLabelBytes).
std::vector<std::string> classes_param(const nlohmann::json& p);

/// params.KEY as a list of strings (empty when absent).
std::vector<std::string> string_list(const nlohmann::json& p, const char* key);

/// Refuses a label text longer than kMaxLabelBytes.
void check_label_text(const std::string& label, const Where& w, const std::string& what);

/// Adds a label to the sorted label set, refusing more than kMaxClasses distinct ones.
void add_label(std::set<std::string>& labels, const std::string& label, const Where& w,
               const std::string& what);

/// Class index of a label by hash lookup (label sets may have up to kMaxClasses entries).
class ClassIndex {
 public:
  explicit ClassIndex(const std::vector<std::string>& classes) : classes_(classes) {
    for (size_t c = 0; c < classes.size(); ++c) index_.emplace(classes[c], c);
  }
  int64_t operator()(const std::string& label, const Where& w, const char* what) const {
    const auto it = index_.find(label);
    if (it == index_.end())
      w.fail(what, "a label in the label set " + json_text(classes_), "\"" + label + "\"");
    return it->second;
  }

 private:
  const std::vector<std::string>& classes_;
  std::unordered_map<std::string, int64_t> index_;
};

/// Split of item i of n by seeded fractions: items are ordered by a hash of (seed, i); the first
/// round(test_fraction * n) go to test, the next round(val_fraction * n) to val, the rest to
/// train. Returns 0 train, 1 val, 2 test per item.
std::vector<int> fraction_splits(size_t n, double val_fraction, double test_fraction,
                                 uint64_t seed);

}  // namespace attrib::readers
