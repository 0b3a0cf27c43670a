// eraser:DIR
//
// `eraser:DIR` reads any dataset published by the ERASER benchmark (movies, boolq, fever,
// multirc, evidence_inference, e-SNLI, cos_e) unchanged: documents from docs/, docs.jsonl or
// docs.tar.gz, evidence token spans (or sentence spans) over the whole document as the rationale.
// An instance's documents are its "docids" (else the document named by its annotation_id, else
// e-SNLI's "<id>_premise" and "<id>_hypothesis", else those its evidences name) and are
// concatenated in that order with a "[SEP]" token between them (premise before hypothesis); the
// query is dropped by default, or appended/prepended after/before a "[SEP]" (param "query").
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
#include <algorithm>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "data/io/tar.h"
#include "data/io/text_errors.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kEraserSchema = R"JSON({
  "classes": {"type": "array", "default": [],
              "description": "label set in class-index order; empty = the labels of all splits, sorted"},
  "query": {"type": "string", "default": "drop", "enum": ["drop", "append", "prepend"],
            "description": "a query (when present) is dropped, or its tokens are appended/prepended to the document's after/before a [SEP] token (rationale 0 there)"}
})JSON";

namespace {

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
      const Where w{file_line(source, line)};
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

}  // namespace

Dataset read_eraser(const std::string& /*name*/, const std::string& dir, const json& p,
                    json& report) {
  report = new_report("eraser");
  ATTRIB_CHECK(fs::is_directory(dir), "eraser:", dir,
               ": expected a directory with {train,val,test}.jsonl and docs, found none");
  std::vector<EraserRow> rows;
  for (const char* split : kSplits) {
    const std::string file = path_in(dir, std::string(split) + ".jsonl");
    if (!fs::exists(file)) continue;
    report["sources"][split] = file;
    for (const auto& [line, text] : text_lines(slurp(file))) {
      rows.push_back(eraser_row(text, split, Where{file_line(file, line)}));
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

}  // namespace attrib::readers
