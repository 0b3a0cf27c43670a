#include "data/readers/common.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attrib/random.h"
#include "attrib/user_input.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kSplits[3] = {"train", "val", "test"};

const json& field(const json& obj, const char* key, const Where& w, const char* expected) {
  if (!obj.contains(key))
    w.fail(key, std::string("a field \"") + key + "\" (" + expected + ")", "none");
  return obj[key];
}

// One JSONL line, depth- and range-limited like every JSON attrib reads from users.
json parse_json_line(const std::string& text, const Where& w) {
  try {
    return parse_json_checked(text, "");
  } catch (const Error& e) {
    throw Error(w.prefix + "expected valid JSON, found malformed JSON (" + e.what() + ")");
  }
}

std::vector<std::pair<size_t, std::string>> text_lines(const std::string& text) {
  std::vector<std::pair<size_t, std::string>> out;
  size_t line = 1, start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      std::string s = text.substr(start, i - start);
      if (!s.empty() && s.back() == '\r') s.pop_back();
      if (line == 1 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) s = s.substr(3);
      if (s.find_first_not_of(" \t") != std::string::npos) out.emplace_back(line, std::move(s));
      ++line;
      start = i + 1;
    }
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ATTRIB_CHECK(in, path, ": expected a readable file, found none (", std::strerror(errno), ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string path_in(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

std::string json_text(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string short_json(const json& v) {
  std::string s = json_text(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
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

std::vector<TextExample>& split_of(Dataset& d, const std::string& split) {
  if (split == "train") return d.train;
  if (split == "val") return d.val;
  return d.test;
}

std::vector<DenseExample>& dense_of(Dataset& d, int split) {
  return split == 0 ? d.dense_train : split == 1 ? d.dense_val : d.dense_test;
}

json new_report(const std::string& format) {
  json r = {{"format", format},
            {"sources", json::object()},
            {"splits", json::object()},
            {"notes", json::object()}};
  for (const char* s : kSplits) r["splits"][s] = {{"rows", 0}, {"dropped", json::object()}};
  return r;
}

void count_rows(json& report, const Dataset& d) {
  for (int s = 0; s < 3; ++s)
    report["splits"][kSplits[s]]["rows"] = dense_of(const_cast<Dataset&>(d), s).size();
}

void bump(json& counter, const std::string& key, int64_t by) {
  counter[key] = counter.value(key, int64_t{0}) + by;
}

std::vector<std::string> classes_param(const json& p) {
  std::vector<std::string> out;
  for (const auto& c : p.value("classes", json::array())) {
    ATTRIB_CHECK(c.is_string(), "params.classes: expected an array of strings, found ",
                 short_json(p["classes"]));
    out.push_back(c.get<std::string>());
  }
  ATTRIB_CHECK(out.size() <= kMaxClasses, "params.classes: expected at most ", kMaxClasses,
               " class names, found ", out.size());
  for (size_t k = 0; k < out.size(); ++k)
    ATTRIB_CHECK(out[k].size() <= kMaxLabelBytes, "params.classes[", k, "]: expected at most ",
                 kMaxLabelBytes, " bytes, found ", out[k].size());
  std::set<std::string> uniq(out.begin(), out.end());
  ATTRIB_CHECK(uniq.size() == out.size(), "params.classes: expected distinct class names, found ",
               short_json(p["classes"]));
  return out;
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

void check_label_text(const std::string& label, const Where& w, const std::string& what) {
  if (label.size() > kMaxLabelBytes)
    w.fail(what, "a label of at most " + std::to_string(kMaxLabelBytes) + " bytes",
           std::to_string(label.size()) + " bytes (" + short_json(label) + ")");
}

void add_label(std::set<std::string>& labels, const std::string& label, const Where& w,
               const std::string& what) {
  if (labels.insert(label).second && labels.size() > kMaxClasses)
    w.fail(what, "at most " + std::to_string(kMaxClasses) + " distinct labels",
           "one more, " + short_json(label));
}

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

}  // namespace attrib::readers
