// hatexplain:DIR — HateXplain's processed CSV files (test, val) or its dataset.json with
// post_id_divisions.json (train, val, test). Labels by majority vote of the annotators, the
// ground-truth rationale by the mean of their marks (hatexplain.h).
#include "data/readers/hatexplain.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/io/csv.h"
#include "data/io/python_literal.h"
#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kHateXplainSchema = R"JSON({
  "classes": {"type": "string", "default": "three", "enum": ["three", "binary"],
              "description": "three: hatespeech, normal, offensive; binary: non-toxic, toxic (toxic = hatespeech or offensive; the majority is taken over the annotators' binarised labels)"},
  "rationale_vote": {"type": "string", "default": "lists", "enum": ["lists", "annotators"],
                     "description": "ground-truth rationale of toxic posts = tokens whose mean mark is >= 0.5, the mean taken over the rationale lists given (lists) or over all annotators, missing lists counting as zeros (annotators)"},
  "source": {"type": "string", "default": "auto", "enum": ["auto", "csv", "json"],
             "description": "csv: df_test_processed.csv and df_val_processed.csv (no train split); json: dataset.json split by post_id_divisions.json; auto: json when DIR has dataset.json, else csv"}
})JSON";

namespace {

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
  ATTRIB_CHECK(!rows.empty(), file_line(file, 1), "expected a header line, found an empty file");
  const CsvRecord& header = rows[0];
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.fields.size(); ++i) col.emplace(header.fields[i], i);
  for (const char* need : {"id", "annotators", "rationales", "post_tokens"})
    if (!col.count(need)) {
      std::string found;
      for (const auto& f : header.fields) found += (found.empty() ? "" : ", ") + f;
      throw Error(file_line(file, header.line) + "header: expected a column '" + need +
                  "', found columns: " + found);
    }
  json& sr = report["splits"][split];
  report["sources"][split] = file;
  auto& out = split_of(d, split);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRecord& row = rows[r];
    const Where w{file_line(file, row.line)};
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
        throw Error(file_line(data_file, line_of_key(text, id)) + err.what());
      }
    }
  }
}

}  // namespace

Dataset read_hatexplain(const std::string& /*name*/, const std::string& dir, const json& p,
                        json& report) {
  report = new_report("hatexplain");
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

}  // namespace attrib::readers

namespace attrib {

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

}  // namespace attrib
