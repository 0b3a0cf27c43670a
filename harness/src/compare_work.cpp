#include "compare_work.h"

#include <map>
#include <set>
#include <tuple>

#include "attrib/error.h"
#include "json_values.h"

namespace attrib {

using nlohmann::json;

namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string>;

struct Work {
  Key key;
  bool known = false;  // rows recorded (older results have none)
  int64_t rows = 0, n_examples = -1;
  json choices;  // explain: params and choices; metric: unused (taken from its metric entry)
};

struct Side {
  std::vector<Work> work;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<std::string>> methods;
};

class WorkReader {
 public:
  explicit WorkReader(std::string source) : source_(std::move(source)) {}

  Side read(const json& doc) const {
    Side out;
    // Examples per (dataset, model, method, metric), from the metric rows.
    std::map<Key, int64_t> examples;
    const json& rows = at_or_null(doc, "rows");
    if (rows.is_array())
      for (const json& r : rows)
        if (r.is_object() && at_or_null(r, "scores").is_array())
          examples[{text(r, "dataset"), text(r, "model"), text(r, "method"), text(r, "metric")}] =
              static_cast<int64_t>(r["scores"].size());
    const json& ex = at_or_null(doc, "explanations");
    if (!ex.is_null() && !ex.is_array()) fail("explanations", "array", ex);
    for (size_t i = 0; ex.is_array() && i < ex.size(); ++i) {
      const std::string path = "explanations[" + std::to_string(i) + "]";
      const json& e = ex[i];
      if (!e.is_object()) fail(path, "object", e);
      if (text(e, "status") != "ok") continue;  // failed methods: the metric rows say so
      Work w;
      w.key = {text(e, "dataset"), text(e, "model"), text(e, "method"), "explain"};
      const json& f = at_or_null(e, "forward_rows");
      const json& b = at_or_null(e, "backward_rows");
      w.known = f.is_number_integer() && b.is_number_integer();
      if (w.known) w.rows = f.get<int64_t>() + b.get<int64_t>();
      w.n_examples = count(e, path, "n_examples");
      w.choices = {{"params", at_or_null(e, "params")}, {"choices", at_or_null(e, "choices")}};
      out.work.push_back(std::move(w));
    }
    const json& sc = at_or_null(doc, "scoring");
    if (!sc.is_null() && !sc.is_array()) fail("scoring", "array", sc);
    for (size_t i = 0; sc.is_array() && i < sc.size(); ++i) {
      const std::string path = "scoring[" + std::to_string(i) + "]";
      const json& e = sc[i];
      if (!e.is_object()) fail(path, "object", e);
      Work w;
      w.key = {text(e, "dataset"), text(e, "model"), text(e, "method"), text(e, "metric")};
      const json& f = at_or_null(e, "forward_rows");
      if (!f.is_null() && !f.is_number_integer())
        fail(path + ".forward_rows", "integer or null", f);
      w.known = f.is_number_integer();
      if (w.known) w.rows = f.get<int64_t>();
      const auto it = examples.find(w.key);
      w.n_examples = it == examples.end() ? -1 : it->second;
      out.methods[{std::get<0>(w.key), std::get<1>(w.key), std::get<3>(w.key)}].push_back(
          std::get<2>(w.key));
      out.work.push_back(std::move(w));
    }
    return out;
  }

 private:
  static std::string text(const json& j, const char* key) {
    const json& v = at_or_null(j, key);
    return v.is_string() ? v.get<std::string>() : "";
  }
  int64_t count(const json& e, const std::string& path, const char* key) const {
    const json& v = at_or_null(e, key);
    if (v.is_null()) return -1;
    if (!v.is_number_integer() || v.get<int64_t>() < 0) fail(path + "." + key, "integer >= 0", v);
    return v.get<int64_t>();
  }
  [[noreturn]] void fail(const std::string& path, const std::string& expected,
                         const json& got) const {
    throw Error(source_ + ": " + path + ": expected " + expected + ", got " +
                got.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  std::string source_;
};

}  // namespace

std::vector<json> compare_work(const json& baseline, const json& current,
                               const std::vector<json>& metric_entries,
                               const std::string& baseline_source,
                               const std::string& current_source) {
  const Side b = WorkReader(baseline_source).read(baseline);
  const Side c = WorkReader(current_source).read(current);
  std::map<Key, const json*> metric_status;
  for (const json& m : metric_entries)
    metric_status[{m.value("dataset", ""), m.value("model", ""), m.value("method", ""),
                   m.value("metric", "")}] = &m;
  std::map<Key, const Work*> current_work;
  for (const Work& w : c.work) current_work[w.key] = &w;

  std::vector<json> out;
  auto entry = [](const Work* bw, const Work* cw) {
    const Work& any = bw ? *bw : *cw;
    json e = {{"dataset", std::get<0>(any.key)},
              {"model", std::get<1>(any.key)},
              {"method", std::get<2>(any.key)},
              {"stage", std::get<3>(any.key)}};
    auto side = [](const Work& w) {
      return json{{"rows", w.known ? json(w.rows) : json()},
                  {"n_examples", w.n_examples >= 0 ? json(w.n_examples) : json()}};
    };
    if (bw) e["baseline"] = side(*bw);
    if (cw) e["current"] = side(*cw);
    return e;
  };
  auto finish = [](json e, const std::string& status, const std::string& reason) {
    e["status"] = status;
    e["regression"] = status == "regression";
    if (!reason.empty()) e["reason"] = reason;
    return e;
  };
  std::set<Key> matched;
  for (const Work& bw : b.work) {
    matched.insert(bw.key);
    const auto it = current_work.find(bw.key);
    if (it == current_work.end()) {
      out.push_back(finish(entry(&bw, nullptr), "missing", "absent from the current run"));
      continue;
    }
    const Work& cw = *it->second;
    json e = entry(&bw, &cw);
    const bool explain = std::get<3>(bw.key) == "explain";
    if (!bw.known || !cw.known) {
      out.push_back(finish(e, "not_comparable", "a run recorded no model rows"));
      continue;
    }
    if (bw.n_examples != cw.n_examples) {
      out.push_back(finish(e, "not_comparable", "the number of examples differs"));
      continue;
    }
    if (explain && bw.choices != cw.choices) {
      out.push_back(finish(e, "not_comparable", "the method's params or choices differ"));
      continue;
    }
    if (!explain) {
      const auto m = metric_status.find(bw.key);
      if (m != metric_status.end() && m->second->value("status", "") == "not_comparable") {
        out.push_back(finish(e, "not_comparable", "the metric row is not comparable"));
        continue;
      }
      const auto group =
          std::make_tuple(std::get<0>(bw.key), std::get<1>(bw.key), std::get<3>(bw.key));
      if (b.methods.at(group) != c.methods.at(group)) {
        out.push_back(finish(e, "not_comparable",
                             "the metric scored other methods (or in another order), so the "
                             "forwards it shares between them fall differently"));
        continue;
      }
    }
    e["ratio"] = bw.rows > 0 ? json(static_cast<double>(cw.rows) / bw.rows) : json();
    if (cw.rows > bw.rows)
      out.push_back(finish(e, "regression", "more model rows for the same work"));
    else if (cw.rows < bw.rows)
      out.push_back(finish(e, "improvement", "fewer model rows for the same work"));
    else
      out.push_back(finish(e, "unchanged", ""));
  }
  for (const Work& cw : c.work)
    if (!matched.count(cw.key))
      out.push_back(finish(entry(nullptr, &cw), "new", "absent from the baseline"));
  return out;
}

}  // namespace attrib
