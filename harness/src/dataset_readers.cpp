#include "dataset_readers.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "attrib/error.h"
#include "attrib/user_input.h"

namespace attrib {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kSplits[] = {"train", "val", "test"};

std::string at(const std::string& file, size_t line) {
  return file + ":" + std::to_string(line) + ": ";
}

/// The character at `pos` for "found ..." messages.
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

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ATTRIB_CHECK(in, path, ": expected a readable file, found none (", std::strerror(errno), ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string short_json(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Python literals

class PyLiteralParser {
 public:
  PyLiteralParser(const std::string& text, const std::string& file, size_t line,
                  const std::string& what)
      : t_(text), file_(file), line_(line), what_(what) {}

  json parse() {
    skip();
    json v = value();
    skip();
    if (pos_ != t_.size()) fail("end of " + what_ + " after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const { fail_at(pos_, expected); }
  [[noreturn]] void fail_at(size_t pos, const std::string& expected) const {
    const size_t end = std::min(pos, t_.size());
    const size_t line = line_ + std::count(t_.begin(), t_.begin() + end, '\n');
    throw Error(at(file_, line) + what_ + ": expected " + expected + ", found " +
                describe_char(t_, pos) + " (character " + std::to_string(pos + 1) + ")");
  }
  bool eof() const { return pos_ >= t_.size(); }
  char peek() const { return eof() ? '\0' : t_[pos_]; }
  void skip() {
    while (!eof() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (t_.compare(pos_, n, w) != 0) return false;
    if (pos_ + n < t_.size() &&
        (std::isalnum(static_cast<unsigned char>(t_[pos_ + n])) || t_[pos_ + n] == '_'))
      return false;
    pos_ += n;
    return true;
  }

  json value() {
    if (depth_ > 256) fail("nesting depth <= 256");
    const char c = peek();
    if (c == '[') return sequence(']');
    if (c == '(') return sequence(')');
    if (c == '{') return dict();
    if (c == '\'' || c == '"') return string(false);
    if ((c == 'u' || c == 'U' || c == 'r' || c == 'R') && pos_ + 1 < t_.size() &&
        (t_[pos_ + 1] == '\'' || t_[pos_ + 1] == '"')) {
      ++pos_;
      return string(c == 'r' || c == 'R');
    }
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c)))
      return number();
    if (word("True")) return true;
    if (word("False")) return false;
    if (word("None")) return nullptr;
    fail("a value (string, number, list, tuple, dict, True, False or None)");
  }

  json sequence(char close) {
    ++pos_;
    ++depth_;
    json out = json::array();
    skip();
    while (peek() != close || eof()) {
      out.push_back(value());
      skip();
      if (peek() == ',') {
        ++pos_;
        skip();
      } else if (peek() != close || eof()) {
        fail(std::string("',' or '") + close + "'");
      }
    }
    ++pos_;
    --depth_;
    return out;
  }

  json dict() {
    ++pos_;
    ++depth_;
    json out = json::object();
    skip();
    while (peek() != '}' || eof()) {
      const size_t key_pos = pos_;
      const json key = value();
      std::string k;
      if (key.is_string())
        k = key.get<std::string>();
      else if (key.is_number_integer())
        k = key.dump();
      else
        fail_at(key_pos, "a string or integer dict key");
      skip();
      if (peek() != ':') fail("':' after a dict key");
      ++pos_;
      skip();
      out[k] = value();
      skip();
      if (peek() == ',') {
        ++pos_;
        skip();
      } else if (peek() != '}' || eof()) {
        fail("',' or '}'");
      }
    }
    ++pos_;
    --depth_;
    return out;
  }

  uint32_t hex(size_t digits, const char* esc) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = peek();
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        fail(std::to_string(digits) + " hex digits after \\" + esc);
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  json string(bool raw) {
    const char q = t_[pos_];
    const bool triple = t_.compare(pos_, 3, std::string(3, q)) == 0;
    const size_t start = pos_;
    pos_ += triple ? 3 : 1;
    std::string out;
    for (;;) {
      if (eof())
        fail_at(pos_, std::string("closing ") + (triple ? std::string(3, q) : std::string(1, q)) +
                          " of the string starting at character " + std::to_string(start + 1));
      const char c = t_[pos_];
      if (c == q && (!triple || t_.compare(pos_, 3, std::string(3, q)) == 0)) {
        pos_ += triple ? 3 : 1;
        break;
      }
      if (c == '\n' && !triple) fail(std::string("closing ") + q + " before the end of the line");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (eof()) fail("a character after '\\'");
      const char e = t_[pos_];
      if (raw) {  // raw strings keep the backslash; \' still does not end the string
        out += '\\';
        out += e;
        ++pos_;
        continue;
      }
      ++pos_;
      switch (e) {
        case '\n':
          break;  // line continuation
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
          append_utf8(out, hex(2, "x"));
          break;
        case 'u':
        case 'U': {
          uint32_t cp = hex(e == 'u' ? 4 : 8, e == 'u' ? "u" : "U");
          // A UTF-16 surrogate pair written as two \u escapes is one character.
          if (cp >= 0xD800 && cp < 0xDC00 && t_.compare(pos_, 2, "\\u") == 0) {
            const size_t save = pos_;
            pos_ += 2;
            const uint32_t lo = hex(4, "u");
            if (lo >= 0xDC00 && lo < 0xE000)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
              pos_ = save;
          }
          if (cp > 0x10FFFF) fail_at(pos_ - 8, "a code point <= 0x10FFFF after \\U");
          append_utf8(out, cp);
          break;
        }
        case 'N':
          fail_at(pos_ - 2, "a supported escape (\\N{...} is not supported)");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i)
              v = v * 8 + (t_[pos_++] - '0');
            append_utf8(out, v);
          } else {  // Python keeps unknown escapes verbatim
            out += '\\';
            out += e;
          }
      }
    }
    return out;
  }

  json number() {
    const size_t start = pos_;
    if (peek() == '-' || peek() == '+') ++pos_;
    bool digits = false, real = false;
    while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, digits = true;
    if (peek() == '.') {
      real = true;
      ++pos_;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, digits = true;
    }
    if (!digits) fail_at(start, "a number");
    if (peek() == 'e' || peek() == 'E') {
      real = true;
      ++pos_;
      if (peek() == '-' || peek() == '+') ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("digits of an exponent");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')
      fail("a delimiter after the number");
    const std::string s = t_.substr(start, pos_ - start);
    errno = 0;
    if (real) return std::strtod(s.c_str(), nullptr);
    const long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) fail_at(start, "an integer within 64 bits");
    return static_cast<int64_t>(v);
  }

  const std::string& t_;
  const std::string& file_;
  size_t line_;
  const std::string& what_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// tar

/// Largest archive entry read into memory. The biggest ERASER document (evidence_inference's
/// full papers) is under 1 MiB; 256 MiB leaves ample room while refusing a corrupt or hostile
/// header (an 8 GiB claim) before it costs memory. Skipped entries are streamed, not bounded.
constexpr uint64_t kMaxTarEntry = uint64_t{256} << 20;

uint64_t tar_number(const char* p, size_t n) {
  if (static_cast<unsigned char>(p[0]) & 0x80) {  // GNU base-256
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7F;
    for (size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + (p[i] - '0');
  return v;
}

std::string tar_string(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

// ---------------------------------------------------------------------------------------------
// Shared helpers of the readers

/// Location of a record, for error messages.
struct Where {
  std::string prefix;  ///< "FILE:LINE: "
  [[noreturn]] void fail(const std::string& what, const std::string& expected,
                         const std::string& found) const {
    throw Error(prefix + what + ": expected " + expected + ", found " + found);
  }
};

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

/// Non-blank lines of a text file with their 1-based numbers.
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

std::vector<TextExample>& split_of(Dataset& d, const std::string& split) {
  if (split == "train") return d.train;
  if (split == "val") return d.val;
  return d.test;
}

json new_report(const std::string& format) {
  json r = {{"format", format},
            {"sources", json::object()},
            {"splits", json::object()},
            {"notes", json::object()}};
  for (const char* s : kSplits) r["splits"][s] = {{"rows", 0}, {"dropped", json::object()}};
  return r;
}

void bump(json& counter, const std::string& key, int64_t by = 1) {
  counter[key] = counter.value(key, int64_t{0}) + by;
}

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

/// Class-index lookup: from params.classes when given, else from the sorted labels found.
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

/// Refuses a label text longer than kMaxLabelBytes (see dataset_readers.h).
void check_label_text(const std::string& label, const Where& w, const std::string& what) {
  if (label.size() > kMaxLabelBytes)
    w.fail(what, "a label of at most " + std::to_string(kMaxLabelBytes) + " bytes",
           std::to_string(label.size()) + " bytes (" + short_json(label) + ")");
}

/// Adds a label to the sorted label set, refusing more than kMaxClasses distinct ones.
void add_label(std::set<std::string>& labels, const std::string& label, const Where& w,
               const std::string& what) {
  if (labels.insert(label).second && labels.size() > kMaxClasses)
    w.fail(what, "at most " + std::to_string(kMaxClasses) + " distinct labels",
           "one more, " + short_json(label));
}

/// Class index of a label by hash lookup (label sets may have up to kMaxClasses entries).
class ClassIndex {
 public:
  explicit ClassIndex(const std::vector<std::string>& classes) : classes_(classes) {
    for (size_t c = 0; c < classes.size(); ++c) index_.emplace(classes[c], c);
  }
  int64_t operator()(const std::string& label, const Where& w, const char* what) const {
    const auto it = index_.find(label);
    if (it == index_.end())
      w.fail(what, "a label in the label set " + json(classes_).dump(), "\"" + label + "\"");
    return it->second;
  }

 private:
  const std::vector<std::string>& classes_;
  std::unordered_map<std::string, int64_t> index_;
};

std::string path_in(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// ---------------------------------------------------------------------------------------------
// hatexplain:DIR

const char* kHateXplainSchema = R"JSON({
  "classes": {"type": "string", "default": "three", "enum": ["three", "binary"],
              "description": "three: hatespeech, normal, offensive; binary: non-toxic, toxic (toxic = hatespeech or offensive; the majority is taken over the annotators' binarised labels)"},
  "rationale_vote": {"type": "string", "default": "lists", "enum": ["lists", "annotators"],
                     "description": "ground-truth rationale of toxic posts = tokens whose mean mark is >= 0.5, the mean taken over the rationale lists given (lists) or over all annotators, missing lists counting as zeros (annotators)"},
  "source": {"type": "string", "default": "auto", "enum": ["auto", "csv", "json"],
             "description": "csv: df_test_processed.csv and df_val_processed.csv (no train split); json: dataset.json split by post_id_divisions.json; auto: json when DIR has dataset.json, else csv"}
})JSON";

const char* const kHxThree[] = {"hatespeech", "normal", "offensive"};

struct HxPost {
  std::string id;
  std::vector<int64_t> votes;  // 0 hatespeech, 1 normal, 2 offensive
  std::vector<std::vector<int64_t>> rationales;
  std::vector<std::string> tokens;
};

int64_t hx_label(const json& v, const Where& w, const std::string& what) {
  if (v.is_number_integer()) {
    const int64_t k = v.get<int64_t>();
    if (k >= 0 && k <= 2) return k;
  } else if (v.is_string()) {
    for (int64_t k = 0; k < 3; ++k)
      if (v.get<std::string>() == kHxThree[k]) return k;
  }
  w.fail(what, "a label in the label set {0 hatespeech, 1 normal, 2 offensive}", short_json(v));
}

std::vector<std::string> hx_tokens(const json& v, const Where& w, const std::string& what) {
  if (!v.is_array()) w.fail(what, "a list of token strings", short_json(v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      w.fail(what + "[" + std::to_string(i) + "]", "a token string", short_json(v[i]));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

std::vector<std::vector<int64_t>> hx_rationales(const json& v, size_t n_tokens, const Where& w,
                                                const std::string& what) {
  if (!v.is_array()) w.fail(what, "a list of per-annotator 0/1 lists", short_json(v));
  std::vector<std::vector<int64_t>> out;
  for (size_t k = 0; k < v.size(); ++k) {
    const std::string name = what + "[" + std::to_string(k) + "]";
    if (!v[k].is_array()) w.fail(name, "a list of 0/1 marks", short_json(v[k]));
    if (v[k].size() != n_tokens)
      w.fail(name, std::to_string(n_tokens) + " marks (one per token of post_tokens)",
             std::to_string(v[k].size()));
    std::vector<int64_t> marks;
    for (size_t t = 0; t < v[k].size(); ++t) {
      const json& m = v[k][t];
      if (!m.is_number_integer() || (m.get<int64_t>() != 0 && m.get<int64_t>() != 1))
        w.fail(name + "[" + std::to_string(t) + "]", "0 or 1", short_json(m));
      marks.push_back(m.get<int64_t>());
    }
    out.push_back(std::move(marks));
  }
  return out;
}

/// Turns a post into an example; false when it is dropped (reason counted in `split_report`).
bool hx_example(const HxPost& p, bool binary, bool by_annotators, TextExample& e,
                json& split_report, json& notes) {
  std::vector<int64_t> votes = p.votes;
  if (binary)
    for (auto& v : votes) v = (v == 1) ? 0 : 1;  // non-toxic 0, toxic 1
  const int64_t label = majority_vote(votes);
  if (label < 0) {
    bump(split_report["dropped"], "undecided");
    return false;
  }
  if (p.tokens.empty()) {
    bump(split_report["dropped"], "empty_post");
    return false;
  }
  const bool toxic = binary ? label == 1 : label != 1;
  e.id = p.id;
  e.tokens = p.tokens;
  e.label = label;
  e.rationale.clear();
  if (toxic) {
    if (p.rationales.empty()) {
      bump(notes, "toxic_without_rationales");
    } else {
      e.rationale = vote_rationale(p.rationales, by_annotators ? p.votes.size() : 0);
      if (std::none_of(e.rationale.begin(), e.rationale.end(), [](float x) { return x > 0; }))
        bump(notes, "toxic_with_empty_vote");
    }
  } else if (!p.rationales.empty()) {
    bump(notes, "non_toxic_rationales_ignored");
  }
  return true;
}

void hx_read_csv(const std::string& file, const std::string& split, bool binary, bool by_annot,
                 Dataset& d, json& report, IdSet& ids) {
  const std::vector<CsvRecord> rows = parse_csv(slurp(file), file);
  ATTRIB_CHECK(!rows.empty(), at(file, 1), "expected a header line, found an empty file");
  const CsvRecord& header = rows[0];
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.fields.size(); ++i) col.emplace(header.fields[i], i);
  for (const char* need : {"id", "annotators", "rationales", "post_tokens"})
    if (!col.count(need)) {
      std::string found;
      for (const auto& f : header.fields) found += (found.empty() ? "" : ", ") + f;
      throw Error(at(file, header.line) + "header: expected a column '" + need +
                  "', found columns: " + found);
    }
  json& sr = report["splits"][split];
  report["sources"][split] = file;
  auto& out = split_of(d, split);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRecord& row = rows[r];
    const Where w{at(file, row.line)};
    if (row.fields.size() != header.fields.size())
      w.fail("row", std::to_string(header.fields.size()) + " fields (as in the header)",
             std::to_string(row.fields.size()));
    bump(sr, "rows");
    auto literal = [&](const char* name) {
      const size_t i = col[name];
      return parse_python_literal(row.fields[i], file, row.field_lines[i],
                                  std::string("column '") + name + "'");
    };
    HxPost p;
    p.id = row.fields[col["id"]];
    if (p.id.empty()) w.fail("column 'id'", "a post id", "an empty field");
    const json annotators = literal("annotators");
    if (!annotators.is_object())
      w.fail("column 'annotators'", "a dict with a 'label' list", short_json(annotators));
    const json& labels = field(annotators, "label", Where{w.prefix + "column 'annotators': "},
                               "a list of annotator labels");
    if (!labels.is_array() || labels.empty())
      w.fail("column 'annotators'.label", "a non-empty list of labels", short_json(labels));
    for (size_t k = 0; k < labels.size(); ++k)
      p.votes.push_back(
          hx_label(labels[k], w, "column 'annotators'.label[" + std::to_string(k) + "]"));
    p.tokens = hx_tokens(literal("post_tokens"), w, "column 'post_tokens'");
    p.rationales = hx_rationales(literal("rationales"), p.tokens.size(), w, "column 'rationales'");
    TextExample e;
    if (!hx_example(p, binary, by_annot, e, sr, report["notes"])) continue;
    ids.add(e.id, w);
    out.push_back(std::move(e));
  }
}

size_t line_of_key(const std::string& text, const std::string& key) {
  const size_t pos = text.find("\"" + key + "\"");
  if (pos == std::string::npos) return 0;
  return 1 + std::count(text.begin(), text.begin() + pos, '\n');
}

void hx_read_json(const std::string& dir, bool binary, bool by_annot, Dataset& d, json& report,
                  IdSet& ids) {
  const std::string data_file = path_in(dir, "dataset.json");
  const std::string div_file = path_in(dir, "post_id_divisions.json");
  const std::string text = slurp(data_file);
  const json data = parse_json_line(text, Where{data_file + ": "});
  const json divisions = parse_json_line(slurp(div_file), Where{div_file + ": "});
  ATTRIB_CHECK(data.is_object(), data_file,
               ": expected an object of posts keyed by post id, found ", short_json(data));
  ATTRIB_CHECK(divisions.is_object(), div_file,
               ": expected an object {\"train\": [...], \"val\": [...], \"test\": [...]}, found ",
               short_json(divisions));
  for (const char* split : kSplits) {
    const json* list = nullptr;
    if (divisions.contains(split))
      list = &divisions[split];
    else if (std::string(split) == "val" && divisions.contains("valid"))
      list = &divisions["valid"];
    ATTRIB_CHECK(list && list->is_array(), div_file, ": expected an array of post ids \"", split,
                 "\", found ", list ? short_json(*list) : "none");
    report["sources"][split] = data_file;
    json& sr = report["splits"][split];
    for (const auto& idv : *list) {
      ATTRIB_CHECK(idv.is_string(), div_file, ": ", split, ": expected post id strings, found ",
                   short_json(idv));
      const std::string id = idv.get<std::string>();
      ATTRIB_CHECK(data.contains(id), div_file, ": ", split, ": expected post '", id,
                   "' in dataset.json, found none");
      const json& post = data[id];
      // The post's line is looked up only on error (a search of the whole file).
      const Where w{"post '" + id + "': "};
      bump(sr, "rows");
      try {
        if (!post.is_object()) w.fail("post", "an object", short_json(post));
        HxPost p;
        p.id = id;
        const json& annotators = field(post, "annotators", w, "a list of annotator objects");
        if (!annotators.is_array() || annotators.empty())
          w.fail("annotators", "a non-empty list of annotator objects", short_json(annotators));
        for (size_t k = 0; k < annotators.size(); ++k) {
          const std::string name = "annotators[" + std::to_string(k) + "]";
          if (!annotators[k].is_object() || !annotators[k].contains("label"))
            w.fail(name, "an object with a \"label\"", short_json(annotators[k]));
          p.votes.push_back(hx_label(annotators[k]["label"], w, name + ".label"));
        }
        p.tokens = hx_tokens(field(post, "post_tokens", w, "a list of tokens"), w, "post_tokens");
        p.rationales =
            hx_rationales(post.contains("rationales") ? post["rationales"] : json::array(),
                          p.tokens.size(), w, "rationales");
        TextExample e;
        if (!hx_example(p, binary, by_annot, e, sr, report["notes"])) continue;
        ids.add(e.id, w);
        split_of(d, split).push_back(std::move(e));
      } catch (const Error& err) {
        throw Error(at(data_file, line_of_key(text, id)) + err.what());
      }
    }
  }
}

Dataset read_hatexplain(const std::string& dir, const json& p, json& report) {
  ATTRIB_CHECK(fs::is_directory(dir), "hatexplain:", dir,
               ": expected a directory with df_test_processed.csv and df_val_processed.csv (or "
               "dataset.json), found none");
  const bool binary = p["classes"] == "binary";
  const bool by_annot = p["rationale_vote"] == "annotators";
  std::string source = p["source"];
  if (source == "auto") source = fs::exists(path_in(dir, "dataset.json")) ? "json" : "csv";
  Dataset d;
  if (binary)
    d.class_names = {"non-toxic", "toxic"};
  else
    d.class_names = {kHxThree[0], kHxThree[1], kHxThree[2]};
  report["source"] = source;
  IdSet ids;
  if (source == "json") {
    hx_read_json(dir, binary, by_annot, d, report, ids);
  } else {
    hx_read_csv(path_in(dir, "df_test_processed.csv"), "test", binary, by_annot, d, report, ids);
    hx_read_csv(path_in(dir, "df_val_processed.csv"), "val", binary, by_annot, d, report, ids);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// eraser:DIR
//
// The layout of the ERASER benchmark (DeYoung et al. 2020; rationale_benchmark/utils.py in
// github.com/jayded/eraserbenchmark): {train,val,test}.jsonl of annotation lines and the
// documents as docs/<docid> files, docs.jsonl lines {"docid", "document"} or docs.tar.gz. A
// document holds one sentence per line with space-separated tokens; evidence offsets
// [start_token, end_token) count tokens over the whole document (sentence offsets
// [start_sentence, end_sentence) are used when the token ones are absent or -1). An instance's
// documents are, in this order of preference:
//   1. its "docids" list (e-SNLI's "<id>_premise" / "<id>_hypothesis" pair always premise first);
//   2. the document named by its annotation_id (movies, cos_e, HateXplain);
//   3. the pair "<id>_premise", "<id>_hypothesis" when both exist (e-SNLI without docids);
//   4. the documents its evidences name, in order of first mention (boolq, fever, multirc).
// Several documents become one token sequence joined by a "[SEP]" token (rationale 0; marked
// special, so it is fed to the model but never a feature).

const char* kEraserSchema = R"JSON({
  "classes": {"type": "array", "default": [],
              "description": "label set in class-index order; empty = the labels of all splits, sorted"},
  "query": {"type": "string", "default": "drop", "enum": ["drop", "append", "prepend"],
            "description": "a query (when present) is dropped, or its tokens are appended/prepended to the document's after/before a [SEP] token (rationale 0 there)"}
})JSON";

const char* const kEraserSeparator = "[SEP]";

struct EraserEvidence {
  std::string docid;
  bool by_tokens = true;  // else by sentences
  int64_t start = 0, end = 0;
  std::string text;
  bool has_text = false;
  std::string what;
};

struct EraserRow {
  Where where;
  std::string split, id, label;
  std::vector<std::string> docids;  // the "docids" field; empty when absent or null
  std::vector<EraserEvidence> evidences;
  std::string query;
};

/// A document's tokens and the first token of each sentence (non-blank line), plus the end.
struct EraserDoc {
  std::vector<std::string> tokens;
  std::vector<size_t> sentence_starts;
};

EraserDoc eraser_doc(const std::string& text) {
  EraserDoc d;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n') continue;
    const std::vector<std::string> toks = whitespace_tokens(text.substr(start, i - start));
    if (!toks.empty()) {
      d.sentence_starts.push_back(d.tokens.size());
      d.tokens.insert(d.tokens.end(), toks.begin(), toks.end());
    }
    start = i + 1;
  }
  d.sentence_starts.push_back(d.tokens.size());
  return d;
}

/// Ids and labels as Python's str() writes them: strings, integers (some ids) and, when
/// `booleans`, true/false as "True"/"False". False for any other JSON value.
bool eraser_string(const json& v, std::string& out, bool booleans = false) {
  if (v.is_string())
    out = v.get<std::string>();
  else if (v.is_number_integer())
    out = v.dump();
  else if (booleans && v.is_boolean())
    out = v.get<bool>() ? "True" : "False";
  else
    return false;
  return true;
}

EraserEvidence eraser_evidence(const json& ev, const std::string& what, const Where& w) {
  if (!ev.is_object()) w.fail(what, "an evidence object", short_json(ev));
  EraserEvidence e;
  e.what = what;
  if (ev.contains("docid") && !ev["docid"].is_null() && !eraser_string(ev["docid"], e.docid))
    w.fail(what + ".docid", "a string", short_json(ev["docid"]));
  // Offsets: absent, null and -1 (the Evidence dataclass default) mean "not given".
  auto offset = [&](const char* k) -> int64_t {
    if (!ev.contains(k) || ev[k].is_null()) return -1;
    if (!ev[k].is_number_integer()) w.fail(what + "." + k, "an integer index", short_json(ev[k]));
    return ev[k].get<int64_t>();
  };
  const int64_t st = offset("start_token"), et = offset("end_token");
  const int64_t ss = offset("start_sentence"), es = offset("end_sentence");
  if (st != -1 || et != -1) {
    for (const char* k : {"start_token", "end_token"})
      if (!ev.contains(k)) w.fail(what + "." + k, "a token index (the other one is given)", "none");
    e.start = st;
    e.end = et;
  } else if (ss != -1 || es != -1) {
    e.by_tokens = false;
    e.start = ss;
    e.end = es;
  } else {
    w.fail(what,
           "token offsets start_token/end_token (or sentence offsets start_sentence/end_sentence)",
           "none");
  }
  if (ev.contains("text") && ev["text"].is_string()) {
    e.text = ev["text"];
    e.has_text = true;
  }
  return e;
}

EraserRow eraser_row(const std::string& text, const std::string& split, const Where& w) {
  EraserRow r;
  r.where = w;
  r.split = split;
  const json j = parse_json_line(text, w);
  if (!j.is_object()) w.fail("line", "a JSON object", short_json(j));
  const json& id = field(j, "annotation_id", w, "a string");
  if (!eraser_string(id, r.id)) w.fail("annotation_id", "a string", short_json(id));
  const json& label = field(j, "classification", w, "a label string");
  if (!eraser_string(label, r.label, true))
    w.fail("classification", "a label string", short_json(label));
  check_label_text(r.label, w, "classification");
  if (j.contains("docids") && !j["docids"].is_null()) {
    const json& ds = j["docids"];
    if (!ds.is_array()) w.fail("docids", "an array of document ids", short_json(ds));
    for (size_t k = 0; k < ds.size(); ++k) {
      std::string d;
      if (!eraser_string(ds[k], d))
        w.fail("docids[" + std::to_string(k) + "]", "a document id string", short_json(ds[k]));
      if (std::find(r.docids.begin(), r.docids.end(), d) == r.docids.end()) r.docids.push_back(d);
    }
  }
  if (j.contains("evidences") && !j["evidences"].is_null()) {
    const json& evs = j["evidences"];
    if (!evs.is_array()) w.fail("evidences", "an array of evidence groups", short_json(evs));
    for (size_t g = 0; g < evs.size(); ++g) {
      const std::string gname = "evidences[" + std::to_string(g) + "]";
      if (evs[g].is_array()) {
        for (size_t k = 0; k < evs[g].size(); ++k)
          r.evidences.push_back(
              eraser_evidence(evs[g][k], gname + "[" + std::to_string(k) + "]", w));
      } else {
        r.evidences.push_back(eraser_evidence(evs[g], gname, w));
      }
    }
  }
  if (j.contains("query") && j["query"].is_string()) r.query = j["query"];
  return r;
}

/// The instance's documents in token order (see the rules at the top of this section). A
/// document that does not exist is returned anyway, to be reported by the caller.
std::vector<std::string> eraser_documents(const EraserRow& r,
                                          const std::unordered_map<std::string, EraserDoc>& docs,
                                          json& notes) {
  const std::string premise = r.id + "_premise", hypothesis = r.id + "_hypothesis";
  std::vector<std::string> out = r.docids;
  if (!out.empty()) {
    const auto p = std::find(out.begin(), out.end(), premise);
    const auto h = std::find(out.begin(), out.end(), hypothesis);
    if (p != out.end() && h != out.end() && h < p) std::iter_swap(p, h);
    return out;
  }
  if (docs.count(r.id)) return {r.id};
  if (docs.count(premise) && docs.count(hypothesis)) return {premise, hypothesis};
  for (const auto& ev : r.evidences)
    if (!ev.docid.empty() && std::find(out.begin(), out.end(), ev.docid) == out.end())
      out.push_back(ev.docid);
  if (out.empty()) return {r.id};
  bump(notes, "documents_from_evidences");
  return out;
}

/// Reads the documents in `needed` from DIR's docs/ folder, docs.jsonl or docs.tar.gz (read
/// in-process with zlib); returns the source's path.
std::string eraser_read_docs(const std::string& dir, const std::unordered_set<std::string>& needed,
                             std::unordered_map<std::string, EraserDoc>& docs) {
  if (fs::is_directory(path_in(dir, "docs"))) {
    const std::string source = path_in(dir, "docs");
    for (const auto& id : needed) {
      const std::string f = path_in(source, id);
      if (fs::is_regular_file(f)) docs.emplace(id, eraser_doc(slurp(f)));
    }
    return source;
  }
  if (fs::exists(path_in(dir, "docs.jsonl"))) {
    const std::string source = path_in(dir, "docs.jsonl");
    for (const auto& [line, text] : text_lines(slurp(source))) {
      const Where w{at(source, line)};
      const json j = parse_json_line(text, w);
      if (!j.is_object()) w.fail("line", "a JSON object {\"docid\", \"document\"}", short_json(j));
      const json& idv = field(j, "docid", w, "a string");
      const json& doc = field(j, "document", w, "the document text");
      std::string id;
      if (!eraser_string(idv, id)) w.fail("docid", "a string", short_json(idv));
      if (!doc.is_string()) w.fail("document", "a string", short_json(doc));
      if (needed.count(id)) docs.emplace(id, eraser_doc(doc.get<std::string>()));
    }
    return source;
  }
  if (fs::exists(path_in(dir, "docs.tar.gz"))) {
    const std::string source = path_in(dir, "docs.tar.gz");
    auto base = [](const std::string& path) { return path.substr(path.find_last_of('/') + 1); };
    for (auto& [path, text] :
         read_tar_gz(source, [&](const std::string& path) { return needed.count(base(path)) > 0; }))
      docs.emplace(base(path), eraser_doc(text));
    return source;
  }
  throw Error("eraser:" + dir + ": expected a docs/ folder, docs.jsonl or docs.tar.gz, found none");
}

Dataset read_eraser(const std::string& dir, const json& p, json& report) {
  ATTRIB_CHECK(fs::is_directory(dir), "eraser:", dir,
               ": expected a directory with {train,val,test}.jsonl and docs, found none");
  std::vector<EraserRow> rows;
  for (const char* split : kSplits) {
    const std::string file = path_in(dir, std::string(split) + ".jsonl");
    if (!fs::exists(file)) continue;
    report["sources"][split] = file;
    for (const auto& [line, text] : text_lines(slurp(file))) {
      rows.push_back(eraser_row(text, split, Where{at(file, line)}));
      bump(report["splits"][split], "rows");
    }
  }
  ATTRIB_CHECK(!rows.empty() || !report["sources"].empty(), "eraser:", dir,
               ": expected train.jsonl, val.jsonl or test.jsonl, found none of them");

  // Every document an instance may use (its docids, or the candidates of rules 2-4).
  std::unordered_set<std::string> needed;
  for (const auto& r : rows) {
    if (!r.docids.empty()) {
      needed.insert(r.docids.begin(), r.docids.end());
      continue;
    }
    needed.insert({r.id, r.id + "_premise", r.id + "_hypothesis"});
    for (const auto& ev : r.evidences)
      if (!ev.docid.empty()) needed.insert(ev.docid);
  }
  std::unordered_map<std::string, EraserDoc> docs;
  const std::string docs_source = eraser_read_docs(dir, needed, docs);
  report["sources"]["docs"] = docs_source;

  // Label set.
  std::vector<std::string> classes = classes_param(p);
  const bool fixed = !classes.empty();
  if (!fixed) {
    std::set<std::string> labels;
    for (const auto& r : rows) add_label(labels, r.label, r.where, "classification");
    classes.assign(labels.begin(), labels.end());
  }
  Dataset d;
  d.class_names = classes;
  const ClassIndex class_index(classes);
  const std::string query_mode = p["query"];
  IdSet ids;
  json& notes = report["notes"];
  for (const auto& r : rows) {
    const Where& w = r.where;
    TextExample e;
    e.id = r.id;
    e.label = class_index(r.label, w, "classification");
    const std::vector<std::string> names = eraser_documents(r, docs, notes);
    std::map<std::string, std::pair<size_t, const EraserDoc*>> placed;  // doc -> (offset, doc)
    for (const auto& id : names) {
      auto it = docs.find(id);
      if (it == docs.end()) w.fail("document '" + id + "'", "a document in " + docs_source, "none");
      if (!e.tokens.empty()) {
        e.tokens.push_back(kEraserSeparator);
        e.special.resize(e.tokens.size(), 0);
        e.special.back() = 1;
      }
      placed[id] = {e.tokens.size(), &it->second};
      e.tokens.insert(e.tokens.end(), it->second.tokens.begin(), it->second.tokens.end());
    }
    if (names.size() > 1) bump(notes, "multi_document");
    std::vector<float> mask(e.tokens.size(), 0.0f);
    bool annotated = false;
    for (const auto& ev : r.evidences) {
      const std::string docid = ev.docid.empty() ? names[0] : ev.docid;
      const auto pit = placed.find(docid);
      if (pit == placed.end())
        w.fail(ev.what + ".docid", "one of the example's documents " + json(names).dump(),
               "\"" + docid + "\"");
      const auto [off, doc] = pit->second;
      const int64_t len = static_cast<int64_t>(doc->tokens.size());
      int64_t start = ev.start, end = ev.end;
      if (ev.by_tokens) {
        if (start < 0 || start > end || end > len)
          w.fail(ev.what,
                 "0 <= start_token <= end_token <= " + std::to_string(len) +
                     " (tokens of document '" + docid + "')",
                 "[" + std::to_string(start) + ", " + std::to_string(end) + ")");
      } else {
        const int64_t n = static_cast<int64_t>(doc->sentence_starts.size()) - 1;
        if (start < 0 || start > end || end > n)
          w.fail(ev.what,
                 "0 <= start_sentence <= end_sentence <= " + std::to_string(n) +
                     " (sentences of document '" + docid + "'; no token offsets given)",
                 "[" + std::to_string(start) + ", " + std::to_string(end) + ")");
        bump(notes, "sentence_evidences");
        start = static_cast<int64_t>(doc->sentence_starts[start]);
        end = static_cast<int64_t>(doc->sentence_starts[end]);
      }
      if (start == end) {
        bump(notes, "empty_evidences");
        continue;
      }
      annotated = true;
      std::string joined;
      for (int64_t t = start; t < end; ++t) {
        mask[off + t] = 1.0f;
        joined += (t > start ? " " : "") + doc->tokens[t];
      }
      if (ev.has_text && whitespace_tokens(ev.text) != whitespace_tokens(joined))
        bump(notes, "evidence_text_mismatch");
    }
    if (annotated) e.rationale = std::move(mask);
    if (!r.query.empty()) {
      bump(notes, "with_query");
      if (query_mode != "drop") {
        std::vector<std::string> q = whitespace_tokens(r.query);
        q.insert(query_mode == "append" ? q.begin() : q.end(), kEraserSeparator);
        const size_t pos = query_mode == "append" ? e.tokens.size() : 0;
        e.special.resize(e.tokens.size(), 0);
        std::vector<char> flags(q.size(), 0);
        (query_mode == "append" ? flags.front() : flags.back()) = 1;  // the separator
        e.tokens.insert(e.tokens.begin() + pos, q.begin(), q.end());
        e.special.insert(e.special.begin() + pos, flags.begin(), flags.end());
        if (annotated) e.rationale.insert(e.rationale.begin() + pos, q.size(), 0.0f);
      }
    }
    if (std::find(e.special.begin(), e.special.end(), 1) == e.special.end()) e.special.clear();
    e.special.resize(e.special.empty() ? 0 : e.tokens.size(), 0);
    ids.add(e.id, w);
    split_of(d, r.split).push_back(std::move(e));
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// jsonl:FILE

const char* kJsonlSchema = R"JSON({
  "split": {"type": "string", "default": "test", "enum": ["train", "val", "test"],
            "description": "split of the lines that have no \"split\" field"},
  "classes": {"type": "array", "default": [],
              "description": "label set in class-index order (string labels are looked up, integer labels index it); empty = the string labels found, sorted, or 0..max for integer labels"}
})JSON";

struct Token {
  std::string text;
  size_t begin, end;  // code points
};

/// Whitespace tokens (as whitespace_tokens) with their code-point offsets.
std::vector<Token> tokens_with_offsets(const std::string& text) {
  std::vector<Token> out;
  size_t cp = 0;
  bool in = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    if (space) {
      if (in) out.back().end = cp;
      in = false;
    } else {
      if (!in) out.push_back({"", cp, cp});
      in = true;
      out.back().text += static_cast<char>(c);
    }
    if ((c & 0xC0) != 0x80) ++cp;
  }
  if (in) out.back().end = cp;
  return out;
}

size_t code_points(const std::string& s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

Dataset read_jsonl(const std::string& file, const json& p, json& report) {
  ATTRIB_CHECK(fs::is_regular_file(file), "jsonl:", file,
               ": expected a JSON-lines file, found none");
  struct Row {
    Where where;
    std::string split;
    TextExample e;
    json label;
  };
  std::vector<Row> rows;
  const std::string stem = fs::path(file).stem().string();
  for (const auto& [line, text] : text_lines(slurp(file))) {
    Row r;
    r.where = Where{at(file, line)};
    const Where& w = r.where;
    const json j = parse_json_line(text, w);
    if (!j.is_object()) w.fail("line", "a JSON object {\"text\", \"label\", ...}", short_json(j));
    r.split = p["split"];
    if (j.contains("split")) {
      const json& s = j["split"];
      if (s != "train" && s != "val" && s != "test")
        w.fail("split", "\"train\", \"val\" or \"test\"", short_json(s));
      r.split = s;
    }
    if (j.contains("id") && j["id"].is_string())
      r.e.id = j["id"];
    else if (j.contains("id") && j["id"].is_number_integer())
      r.e.id = j["id"].dump();
    else if (j.contains("id") && !j["id"].is_null())
      w.fail("id", "a string or integer", short_json(j["id"]));
    else
      r.e.id = stem + "-" + std::to_string(line);
    const json& text_field = field(j, "text", w, "a string");
    if (!text_field.is_string()) w.fail("text", "a string", short_json(text_field));
    const std::string s = text_field;
    const std::vector<Token> toks = tokens_with_offsets(s);
    if (toks.empty()) w.fail("text", "at least one token", "an empty text");
    for (const auto& t : toks) r.e.tokens.push_back(t.text);
    r.label = field(j, "label", w, "a string or a class index");
    if (!r.label.is_string() && !(r.label.is_number_integer() && r.label.get<int64_t>() >= 0))
      w.fail("label", "a string or a class index >= 0", short_json(r.label));
    // Integer labels make the label set 0..max: bound max before that set is built.
    if (r.label.is_number_integer() && r.label.get<int64_t>() >= int64_t{kMaxClasses})
      w.fail("label",
             "a class index < " + std::to_string(kMaxClasses) + " (at most " +
                 std::to_string(kMaxClasses) + " classes)",
             short_json(r.label));
    if (r.label.is_string()) check_label_text(r.label.get<std::string>(), w, "label");
    const bool has_r = j.contains("rationale") && !j["rationale"].is_null();
    const bool has_s = j.contains("rationale_spans") && !j["rationale_spans"].is_null();
    if (has_r && has_s) w.fail("rationale", "either \"rationale\" or \"rationale_spans\"", "both");
    if (has_r) {
      const json& m = j["rationale"];
      if (!m.is_array()) w.fail("rationale", "an array of 0/1 per token", short_json(m));
      if (m.size() != toks.size())
        w.fail("rationale",
               std::to_string(toks.size()) + " marks (one per whitespace token of text)",
               std::to_string(m.size()));
      for (size_t t = 0; t < m.size(); ++t) {
        const bool ok = m[t].is_boolean() ||
                        (m[t].is_number() && (m[t].get<double>() == 0 || m[t].get<double>() == 1));
        if (!ok) w.fail("rationale[" + std::to_string(t) + "]", "0 or 1", short_json(m[t]));
        r.e.rationale.push_back(m[t].is_boolean() ? float(m[t].get<bool>()) : m[t].get<float>());
      }
    }
    if (has_s) {
      const json& spans = j["rationale_spans"];
      if (!spans.is_array())
        w.fail("rationale_spans", "an array of [start, end) character spans", short_json(spans));
      const int64_t n = static_cast<int64_t>(code_points(s));
      r.e.rationale.assign(toks.size(), 0.0f);
      for (size_t k = 0; k < spans.size(); ++k) {
        const json& sp = spans[k];
        const std::string what = "rationale_spans[" + std::to_string(k) + "]";
        if (!sp.is_array() || sp.size() != 2 || !sp[0].is_number_integer() ||
            !sp[1].is_number_integer())
          w.fail(what, "[start, end] character offsets", short_json(sp));
        const int64_t a = sp[0], b = sp[1];
        if (a < 0 || a >= b || b > n)
          w.fail(what, "0 <= start < end <= " + std::to_string(n) + " (characters of text)",
                 short_json(sp));
        for (size_t t = 0; t < toks.size(); ++t)
          if (static_cast<int64_t>(toks[t].begin) < b && a < static_cast<int64_t>(toks[t].end))
            r.e.rationale[t] = 1.0f;
      }
    }
    bump(report["splits"][r.split], "rows");
    report["sources"][r.split] = file;
    rows.push_back(std::move(r));
  }
  // Labels: all strings or all integers.
  std::vector<std::string> classes = classes_param(p);
  const bool fixed = !classes.empty();
  const bool strings = !rows.empty() && rows[0].label.is_string();
  for (const auto& r : rows)
    if (r.label.is_string() != strings)
      r.where.fail("label",
                   std::string(strings ? "a string" : "an integer") + " like the label on " +
                       rows[0].where.prefix.substr(0, rows[0].where.prefix.size() - 2),
                   short_json(r.label));
  if (!fixed) {
    if (strings) {
      std::set<std::string> labels;
      for (const auto& r : rows) add_label(labels, r.label.get<std::string>(), r.where, "label");
      classes.assign(labels.begin(), labels.end());
    } else {
      int64_t top = -1;
      for (const auto& r : rows) top = std::max(top, r.label.get<int64_t>());
      for (int64_t k = 0; k <= top; ++k) classes.push_back(std::to_string(k));
    }
  }
  Dataset d;
  d.class_names = classes;
  const ClassIndex class_index(classes);
  IdSet ids;
  for (auto& r : rows) {
    if (strings) {
      r.e.label = class_index(r.label.get<std::string>(), r.where, "label");
    } else {
      r.e.label = r.label.get<int64_t>();
      if (r.e.label >= static_cast<int64_t>(classes.size()))
        r.where.fail("label",
                     "a class index < " + std::to_string(classes.size()) + " (label set " +
                         json(classes).dump() + ")",
                     short_json(r.label));
    }
    ids.add(r.e.id, r.where);
    split_of(d, r.split).push_back(std::move(r.e));
  }
  return d;
}

std::pair<std::string, std::string> split_spec(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

json parse_python_literal(const std::string& text, const std::string& file, size_t line,
                          const std::string& what) {
  return PyLiteralParser(text, file, line, what).parse();
}

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
            throw Error(at(file, fline) +
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
          throw Error(at(file, line) +
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

size_t gz_read_upto(void* handle, char* buf, size_t len, const std::string& path) {
  gzFile gz = static_cast<gzFile>(handle);
  size_t got = 0;
  while (got < len) {
    const int r =
        gzread(gz, buf + got, static_cast<unsigned>(std::min<size_t>(len - got, 1 << 20)));
    if (r < 0) {
      int err = 0;
      throw Error(path + ": expected gzip or plain data, found an error (" + gzerror(gz, &err) +
                  ")");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

std::map<std::string, std::string> read_tar_gz(
    const std::string& path, const std::function<bool(const std::string&)>& want) {
  gzFile gz = gzopen(path.c_str(), "rb");
  ATTRIB_CHECK(gz, path, ": expected a readable .tar.gz file, found none (", std::strerror(errno),
               ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, gzclose);
  auto read = [&](char* buf, size_t len) { return gz_read_upto(gz, buf, len, path); };
  std::map<std::string, std::string> out;
  char block[512];
  uint64_t offset = 0;
  std::string long_name, pax_path;
  for (;;) {
    const size_t got = read(block, 512);
    if (got == 0) break;
    if (got < 512)
      throw Error(path + ": tar header at byte " + std::to_string(offset) +
                  ": expected 512 bytes, found " + std::to_string(got) + " (truncated archive)");
    if (std::all_of(block, block + 512, [](char c) { return c == 0; })) break;  // end of archive
    uint64_t sum = 0;
    for (int k = 0; k < 512; ++k)
      sum += (k >= 148 && k < 156) ? ' ' : static_cast<unsigned char>(block[k]);
    const uint64_t stored = tar_number(block + 148, 8);
    if (sum != stored)
      throw Error(path + ": tar header at byte " + std::to_string(offset) + ": expected checksum " +
                  std::to_string(sum) + ", found " + std::to_string(stored) +
                  " (not a tar archive, or a corrupt one)");
    offset += 512;
    const uint64_t size = tar_number(block + 124, 12);
    const char type = block[156];
    std::string name = tar_string(block, 100);
    if (std::memcmp(block + 257, "ustar", 5) == 0) {
      const std::string prefix = tar_string(block + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) name = std::move(long_name), long_name.clear();
    if (!pax_path.empty()) name = std::move(pax_path), pax_path.clear();
    while (name.compare(0, 2, "./") == 0) name = name.substr(2);
    const bool regular = type == '0' || type == '\0' || type == '7';
    const bool keep = type == 'L' || type == 'x' || (regular && (!want || want(name)));
    // A header is not trusted with memory: a kept entry is bounded and read in chunks as it
    // arrives, so neither a huge claim nor a truncated archive allocates what the header says.
    if (size > kMaxTarEntry && (keep || size > (uint64_t{1} << 62)))
      throw Error(path + ": entry '" + name + "': expected at most " +
                  std::to_string(kMaxTarEntry) + " bytes (256 MiB), found a header claiming " +
                  std::to_string(size));
    const uint64_t padded = (size + 511) / 512 * 512;
    std::string data;
    char chunk[1 << 16];
    for (uint64_t done = 0; done < padded;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(padded - done, sizeof chunk));
      if (read(chunk, n) != n)
        throw Error(path + ": entry '" + name + "': expected " + std::to_string(size) +
                    " bytes, found end of archive (truncated)");
      if (keep && done < size)
        data.append(chunk, static_cast<size_t>(std::min<uint64_t>(n, size - done)));
      done += n;
    }
    offset += padded;
    if (type == 'L') {
      long_name = data.substr(0, strnlen(data.data(), data.size()));
    } else if (type == 'x') {  // pax records "LEN key=value\n"
      for (size_t k = 0; k < data.size();) {
        const size_t sp = data.find(' ', k);
        if (sp == std::string::npos) break;
        const size_t len = std::strtoul(data.c_str() + k, nullptr, 10);
        if (len == 0 || k + len > data.size()) break;
        const std::string rec = data.substr(sp + 1, k + len - sp - 2);
        if (rec.compare(0, 5, "path=") == 0) pax_path = rec.substr(5);
        k += len;
      }
    } else if (keep) {
      out[name] = std::move(data);
    }
  }
  return out;
}

int64_t majority_vote(const std::vector<int64_t>& votes) {
  std::map<int64_t, size_t> counts;
  for (int64_t v : votes) ++counts[v];
  for (const auto& [label, c] : counts)
    if (2 * c > votes.size()) return label;
  return -1;
}

std::vector<float> vote_rationale(const std::vector<std::vector<int64_t>>& lists,
                                  size_t denominator) {
  if (lists.empty()) return {};
  const size_t n = std::max(lists.size(), denominator);
  const size_t len = lists[0].size();
  std::vector<float> out(len, 0.0f);
  for (size_t t = 0; t < len; ++t) {
    int64_t marks = 0;
    for (const auto& l : lists) {
      ATTRIB_CHECK(l.size() == len, "vote_rationale: expected lists of equal length ", len,
                   ", found one of ", l.size());
      marks += l[t];
    }
    out[t] = (2 * marks >= static_cast<int64_t>(n)) ? 1.0f : 0.0f;  // mean >= 0.5
  }
  return out;
}

bool is_reader_spec(const std::string& spec) {
  const auto format = split_spec(spec).first;
  return format == "hatexplain" || format == "eraser" || format == "jsonl";
}

json reader_params_schema(const std::string& spec) {
  const auto [format, path] = split_spec(spec);
  const char* schema = format == "hatexplain" ? kHateXplainSchema
                       : format == "eraser"   ? kEraserSchema
                       : format == "jsonl"    ? kJsonlSchema
                                              : nullptr;
  ATTRIB_CHECK(schema, "unknown dataset format '", format, "' in spec '", spec,
               "' (expected hatexplain:DIR, eraser:DIR or jsonl:FILE)");
  ATTRIB_CHECK(!path.empty(), "dataset spec '", spec, "': expected ", format,
               format == "jsonl" ? ":FILE" : ":DIR", ", found no path after ':'");
  return json::parse(schema);
}

Dataset read_text_dataset(const std::string& name, const std::string& spec, const json& params,
                          json* report) {
  const auto [format, path] = split_spec(spec);
  reader_params_schema(spec);  // validates format and path
  json local = new_report(format);
  Dataset d;
  if (format == "hatexplain")
    d = read_hatexplain(path, params, local);
  else if (format == "eraser")
    d = read_eraser(path, params, local);
  else
    d = read_jsonl(path, params, local);
  d.name = name;
  d.modality = Modality::kText;
  if (report) *report = std::move(local);
  return d;
}

json dataset_summary(const Dataset& d, const json& report) {
  json s = {{"name", d.name}, {"spec", d.spec},           {"params", d.params},
            {"hash", d.hash}, {"classes", d.class_names}, {"splits", json::object()}};
  if (report.contains("format")) s["format"] = report["format"];
  if (report.contains("source")) s["source"] = report["source"];
  if (report.contains("sources")) s["sources"] = report["sources"];
  if (report.contains("notes")) s["notes"] = report["notes"];
  const bool dense = d.modality == Modality::kDense;
  s["modality"] = dense ? "dense" : "text";
  if (dense) {
    s["feature_shape"] = d.feature_shape;
    s["num_features"] = d.num_features();
    s["feature_names"] = d.feature_names;
    s["encoding"] = d.encoding;
  }
  int64_t dropped_total = 0;
  for (const char* split : kSplits) {
    json labels = json::object();
    for (const auto& c : d.class_names) labels[c] = 0;
    auto count_label = [&](int64_t label) {
      const std::string key = (label >= 0 && label < static_cast<int64_t>(d.class_names.size()))
                                  ? d.class_names[label]
                                  : "label " + std::to_string(label);
      labels[key] = labels.value(key, int64_t{0}) + 1;
    };
    json js;
    if (dense) {
      const auto& ex = d.dense_split(split);
      int64_t annotated = 0;
      double area = 0;  // sum over annotated examples of the fraction of features marked
      for (const auto& e : ex) {
        count_label(e.label);
        if (e.mask.empty()) continue;
        ++annotated;
        area +=
            double(std::count_if(e.mask.begin(), e.mask.end(), [](float x) { return x > 0.5f; })) /
            e.mask.size();
      }
      js = {{"examples", ex.size()},
            {"labels", labels},
            {"annotated", annotated},
            {"mean_mask_area", annotated ? json(area / annotated) : json()}};
    } else {
      const auto& ex = d.split(split);
      int64_t annotated = 0, marked = 0, tokens = 0;
      for (const auto& e : ex) {
        count_label(e.label);
        tokens += static_cast<int64_t>(e.tokens.size());
        if (e.rationale.empty()) continue;
        ++annotated;
        marked +=
            std::count_if(e.rationale.begin(), e.rationale.end(), [](float x) { return x > 0.5f; });
      }
      js = {{"examples", ex.size()},
            {"labels", labels},
            {"annotated", annotated},
            {"mean_rationale_tokens", annotated ? json(double(marked) / annotated) : json()},
            {"mean_tokens", ex.empty() ? json() : json(double(tokens) / ex.size())}};
    }
    json dropped = json::object();
    if (report.contains("splits") && report["splits"].contains(split)) {
      const json& r = report["splits"][split];
      js["rows"] = r.value("rows", int64_t{0});
      dropped = r.value("dropped", json::object());
    } else {
      js["rows"] = js["examples"];
    }
    int64_t n_dropped = 0;
    for (const auto& [k, v] : dropped.items()) n_dropped += v.get<int64_t>();
    js["dropped"] = dropped;
    js["dropped_total"] = n_dropped;
    dropped_total += n_dropped;
    s["splits"][split] = js;
  }
  s["dropped_total"] = dropped_total;
  return s;
}

std::string render_dataset_summary(const json& s) {
  std::ostringstream os;
  auto pct = [](int64_t k, int64_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", n ? 100.0 * k / n : 0.0);
    return std::string(buf);
  };
  auto num = [](const json& v) {
    if (v.is_null()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
    return std::string(buf);
  };
  os << "dataset " << s.value("name", "") << " (" << s.value("spec", "") << ")\n";
  if (s.contains("format"))
    os << "format: " << s["format"].get<std::string>()
       << (s.contains("source") ? " (" + s["source"].get<std::string>() + ")" : "") << "\n";
  os << "params: " << s.value("params", json::object()).dump() << "\n";
  std::string classes;
  for (const auto& c : s["classes"])
    classes += (classes.empty() ? "" : ", ") + c.get<std::string>();
  os << "classes (" << s["classes"].size() << "): " << classes << "\n";
  os << "hash: " << s.value("hash", "") << "\n";
  const bool dense = s.value("modality", "text") == "dense";
  if (dense) {
    std::string shape;
    for (const auto& v : s["feature_shape"]) shape += (shape.empty() ? "" : " x ") + v.dump();
    os << "features: " << s["num_features"].get<int64_t>() << " (shape " << shape << ")";
    const json& names = s["feature_names"];
    if (!names.empty()) {
      os << ":";
      for (size_t k = 0; k < names.size() && k < 12; ++k) os << " " << names[k].get<std::string>();
      if (names.size() > 12) os << " ... (" << names.size() - 12 << " more)";
    }
    os << "\n";
    if (s.contains("encoding") && s["encoding"].contains("columns")) {
      const json& cols = s["encoding"]["columns"];
      for (size_t i = 0; i < cols.size() && i < 24; ++i) {
        const json& c = cols[i];
        os << "  " << c["name"].get<std::string>() << ": " << c["type"].get<std::string>();
        if (c["type"] == "numeric")
          os << " (train mean " << num(c["mean"]) << ", std " << num(c["std"])
             << (c["standardized"].get<bool>() ? ", standardized" : "") << ")";
        else
          os << " (one-hot " << c["categories"].dump() << ")";
        os << "\n";
      }
      if (cols.size() > 24) os << "  ... (" << cols.size() - 24 << " more columns)\n";
    }
  }
  for (const char* split : kSplits) {
    const json& js = s["splits"][split];
    const int64_t n = js["examples"];
    os << split << ": " << n << " examples (" << js["rows"].get<int64_t>() << " rows read, "
       << js["dropped_total"].get<int64_t>() << " dropped";
    for (const auto& [k, v] : js["dropped"].items()) os << "; " << k << " " << v.get<int64_t>();
    os << ")\n";
    if (n == 0) continue;
    os << "  labels:";
    std::string sep = " ";
    for (const auto& c : s["classes"]) {
      const int64_t k = js["labels"].value(c.get<std::string>(), int64_t{0});
      os << sep << c.get<std::string>() << " " << k << " (" << pct(k, n) << ")";
      sep = ", ";
    }
    for (const auto& [label, k] : js["labels"].items())
      if (std::find(s["classes"].begin(), s["classes"].end(), json(label)) == s["classes"].end())
        os << sep << label << " " << k.get<int64_t>();
    os << "\n";
    const int64_t a = js["annotated"];
    if (dense)
      os << "  annotated: " << a << " (" << pct(a, n) << "), mean mask area "
         << num(js["mean_mask_area"]) << " (fraction of features)\n";
    else
      os << "  annotated: " << a << " (" << pct(a, n) << "), mean rationale length "
         << num(js["mean_rationale_tokens"]) << " tokens; mean length " << num(js["mean_tokens"])
         << " tokens\n";
  }
  os << "dropped in all: " << s.value("dropped_total", int64_t{0}) << "\n";
  if (s.contains("notes") && !s["notes"].empty()) {
    os << "notes:";
    std::string sep = " ";
    for (const auto& [k, v] : s["notes"].items()) {
      os << sep << k << " " << v.dump();
      sep = ", ";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace attrib
