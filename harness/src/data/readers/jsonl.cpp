// jsonl:FILE — one JSON object per line: {"id"?, "text", "label", "rationale"? (0/1 per
// whitespace token) or "rationale_spans"? ([start, end) code-point spans), "split"?}.
#include <algorithm>
#include <filesystem>
#include <set>

#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kJsonlSchema = R"JSON({
  "split": {"type": "string", "default": "test", "enum": ["train", "val", "test"],
            "description": "split of the lines that have no \"split\" field"},
  "classes": {"type": "array", "default": [],
              "description": "label set in class-index order (string labels are looked up, integer labels index it); empty = the string labels found, sorted, or 0..max for integer labels"}
})JSON";

namespace {

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

}  // namespace

Dataset read_jsonl(const std::string& /*name*/, const std::string& file, const json& p,
                   json& report) {
  report = new_report("jsonl");
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
    r.where = Where{file_line(file, line)};
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
                         json_text(classes) + ")",
                     short_json(r.label));
    }
    ids.add(r.e.id, r.where);
    split_of(d, r.split).push_back(std::move(r.e));
  }
  return d;
}

}  // namespace attrib::readers
