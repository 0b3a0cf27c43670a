// The report's example explorer: which examples are shown (picked from the per-example scores in
// the results document) and their attributions (read from the run store), one line per method.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "json_values.h"
#include "report/html.h"
#include "report/sections.h"
#include "report/svg.h"
#include "store/store.h"

namespace attrib::report {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  const json& v = at_or_null(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

/// The rows of one (dataset, model), in results order.
struct Group {
  std::string dataset, model;
  std::vector<const json*> rows;
  std::vector<std::string> ids;      ///< the explained examples, in order
  std::vector<std::string> methods;  ///< in the order the rows name them
  std::vector<std::string> metrics;
  std::map<std::string, std::string> errors;  ///< method -> the error of its first failed row
};

std::vector<Group> groups_of(const json& doc) {
  std::vector<Group> out;
  for (const json& r : at_or_null(doc, "rows")) {
    const std::string d = str(r, "dataset"), m = str(r, "model");
    auto g = std::find_if(out.begin(), out.end(),
                          [&](const Group& x) { return x.dataset == d && x.model == m; });
    if (g == out.end()) g = out.insert(out.end(), Group{d, m, {}, {}, {}, {}, {}});
    g->rows.push_back(&r);
    if (at_or_null(r, "error").is_string()) g->errors.emplace(str(r, "method"), str(r, "error"));
    auto add = [](std::vector<std::string>& v, const std::string& s) {
      if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
    };
    add(g->methods, str(r, "method"));
    add(g->metrics, str(r, "metric"));
    for (const json& id : at_or_null(r, "example_ids"))
      if (id.is_string()) add(g->ids, id.get<std::string>());
  }
  return out;
}

/// Row `r`'s score of each example id (NaN kept out).
std::map<std::string, double> scores_by_id(const json& r) {
  std::map<std::string, double> out;
  const json& ids = at_or_null(r, "example_ids");
  const json& scores = at_or_null(r, "scores");
  if (!ids.is_array() || !scores.is_array()) return out;
  for (size_t i = 0; i < ids.size() && i < scores.size(); ++i)
    if (ids[i].is_string() && scores[i].is_number()) out[ids[i].get<std::string>()] = scores[i];
  return out;
}

/// SplitMix64: a fixed, portable stream (std:: distributions differ between libraries).
uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The chosen examples with why each was chosen: per metric the best and worst example (mean
/// over methods of the direction-signed score) and the one the methods disagree on most (largest
/// standard deviation of the score across methods), then a seeded sample of the rest.
std::vector<std::pair<std::string, std::vector<std::string>>> pick(const Group& g, int64_t limit,
                                                                   uint64_t seed) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  auto tag = [&](const std::string& id, const std::string& why) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == id; });
    if (it == out.end()) {
      out.emplace_back(id, std::vector<std::string>{});
      it = out.end() - 1;
    }
    it->second.push_back(why);
  };
  for (const std::string& metric : g.metrics) {
    std::vector<std::map<std::string, double>> per_row;
    int direction = 1;
    for (const json* r : g.rows)
      if (str(*r, "metric") == metric && !at_or_null(*r, "error").is_string()) {
        per_row.push_back(scores_by_id(*r));
        direction = get_num(*r, "direction") < 0 ? -1 : 1;
      }
    std::string best, worst, split;
    double best_v = -HUGE_VAL, worst_v = HUGE_VAL, split_v = -1;
    for (const std::string& id : g.ids) {
      double sum = 0, sq = 0;
      int n = 0;
      for (const auto& m : per_row) {
        const auto it = m.find(id);
        if (it == m.end() || !std::isfinite(it->second)) continue;
        const double v = direction * it->second;
        sum += v, sq += v * v, ++n;
      }
      if (n == 0) continue;
      const double mean = sum / n, sd = n > 1 ? std::sqrt(std::max(0.0, sq / n - mean * mean)) : 0;
      if (mean > best_v) best_v = mean, best = id;
      if (mean < worst_v) worst_v = mean, worst = id;
      if (n > 1 && sd > split_v) split_v = sd, split = id;
    }
    if (!best.empty()) tag(best, "best " + metric);
    if (!worst.empty()) tag(worst, "worst " + metric);
    if (!split.empty()) tag(split, "most disagreement on " + metric);
  }
  if (static_cast<int64_t>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
  std::vector<std::string> rest;
  for (const std::string& id : g.ids)
    if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.first == id; }))
      rest.push_back(id);
  uint64_t state = seed ^ 0x7265706f7274ULL;  // "report": its own stream of the run's seed
  for (size_t i = 0; i < rest.size() && static_cast<int64_t>(out.size()) < limit; ++i) {
    const size_t j = i + static_cast<size_t>(splitmix(state) % (rest.size() - i));
    std::swap(rest[i], rest[j]);
    out.push_back({rest[i], {"random sample"}});
  }
  return out;
}

/// One method's map of one example, as the store keeps it.
struct Map {
  std::vector<float> scores;
  std::vector<int64_t> word_ids;    ///< text: per token (-1 special); empty: dense
  std::vector<std::string> tokens;  ///< text
  std::vector<int64_t> shape;       ///< dense: the input's shape
};

/// (example id, method) -> map, for the chosen ids of group `g`, from the latest run's units.
std::map<std::pair<std::string, std::string>, Map> load_maps(RunStore& store, const Group& g,
                                                             const std::set<std::string>& ids) {
  std::map<std::pair<std::string, std::string>, Map> out;
  for (const std::string& key : store.latest_explanation_keys()) {
    std::optional<ExplanationUnit> u = store.find_explanation(key);
    if (!u || u->dataset != g.dataset || u->model != g.model) continue;
    for (size_t i = 0; i < u->ids.size(); ++i) {
      if (!ids.count(u->ids[i])) continue;
      const int64_t b = static_cast<int64_t>(i);
      const at::Tensor row = u->token_scores[b].contiguous();
      Map m;
      m.scores.assign(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
      if (u->word_ids.defined()) {
        const at::Tensor w = u->word_ids[b].to(at::kLong).contiguous();
        m.word_ids.assign(w.data_ptr<int64_t>(), w.data_ptr<int64_t>() + w.numel());
        if (i < u->tokens.size()) m.tokens = u->tokens[i];
      } else {
        m.shape = row.sizes().vec();
      }
      out[{u->ids[i], u->method}] = std::move(m);
    }
  }
  return out;
}

double max_abs(const std::vector<float>& v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n && i < v.size(); ++i)
    if (std::isfinite(v[i])) m = std::max(m, std::abs(static_cast<double>(v[i])));
  return m;
}

/// Tokens coloured by score on the line's symmetric scale; the pieces of a word (WordPiece
/// "##" continuations) are grouped in one word box.
std::string token_line(const Map& m) {
  const size_t n = m.tokens.size();
  const double scale = max_abs(m.scores, n);
  std::string out;
  for (size_t t = 0; t < n;) {
    const int64_t w = t < m.word_ids.size() ? m.word_ids[t] : -1;
    size_t end = t + 1;
    while (w >= 0 && end < n && end < m.word_ids.size() && m.word_ids[end] == w) ++end;
    if (end - t > 1) out += "<span class=\"w\">";
    for (size_t k = t; k < end; ++k) {
      std::string piece = m.tokens[k];
      if (k > t && piece.rfind("##", 0) == 0) piece = piece.substr(2);
      const double v = k < m.scores.size() ? m.scores[k] : NAN;
      out += "<i class=\"c" + std::to_string(colour_step(v, scale)) + (w < 0 ? " sp" : "") +
             "\" title=\"" + escape(m.tokens[k]) + ": " + fmt(v) + "\">" + escape(piece) + "</i>";
    }
    if (end - t > 1) out += "</span>";
    out += " ";
    t = end;
  }
  return out;
}

/// A dense map as a grid: leading dimensions (channels) summed, at most 48 cells a side (block
/// means), one row of at most 32 cells per line for 1-D inputs.
std::string dense_map(const Map& m, const std::string& title) {
  int64_t rows = 1, cols = static_cast<int64_t>(m.scores.size());
  std::vector<double> v(m.scores.begin(), m.scores.end());
  if (m.shape.size() >= 2) {
    cols = m.shape.back(), rows = m.shape[m.shape.size() - 2];
    const int64_t plane = rows * cols;
    std::vector<double> summed(static_cast<size_t>(plane), 0.0);
    for (size_t i = 0; i < v.size(); ++i) summed[i % static_cast<size_t>(plane)] += v[i];
    v = std::move(summed);
  } else if (cols > 32) {
    rows = (cols + 31) / 32, cols = 32;
    v.resize(static_cast<size_t>(rows * cols), 0.0);
  }
  const int64_t f = std::max<int64_t>(1, (std::max(rows, cols) + 47) / 48);
  if (f > 1) {
    const int64_t r2 = (rows + f - 1) / f, c2 = (cols + f - 1) / f;
    std::vector<double> sum(static_cast<size_t>(r2 * c2), 0.0), cnt(sum.size(), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const size_t k = static_cast<size_t>((r / f) * c2 + c / f);
        sum[k] += v[static_cast<size_t>(r * cols + c)], cnt[k] += 1;
      }
    for (size_t k = 0; k < sum.size(); ++k) sum[k] /= std::max(1.0, cnt[k]);
    v = std::move(sum), rows = r2, cols = c2;
  }
  double scale = 0;
  for (double x : v)
    if (std::isfinite(x)) scale = std::max(scale, std::abs(x));
  const int cell = static_cast<int>(std::clamp<int64_t>(160 / std::max(rows, cols), 3, 16));
  return grid_map(v, static_cast<int>(rows), static_cast<int>(cols), scale, title, cell) +
         " <span class=\"scale\">±" + fmt(scale, 2) + "</span>";
}

std::string example_block(const Group& g, const std::string& id,
                          const std::vector<std::string>& why,
                          const std::map<std::pair<std::string, std::string>, Map>& maps,
                          const std::map<std::string, std::map<std::string, double>>& row_scores) {
  std::string tags;
  for (const std::string& w : why) tags += (tags.empty() ? "" : "; ") + w;
  std::string out = "<div class=\"ex\" id=\"" + anchor({"ex", g.dataset, g.model, id}) +
                    "\" data-tags=\"" + escape(id + " " + tags) + "\"><h4>" + escape(id) +
                    " <small>" + escape(tags) + "</small></h4><table class=\"lines\">";
  for (const std::string& method : g.methods) {
    const auto it = maps.find({id, method});
    std::string scores;
    for (const std::string& metric : g.metrics) {
      const auto rs = row_scores.find(method + "\n" + metric);
      if (rs == row_scores.end()) continue;
      const auto s = rs->second.find(id);
      if (s != rs->second.end())
        scores += (scores.empty() ? "" : " · ") + escape(metric) + " " + fmt(s->second);
    }
    out += "<tr><th>" + escape(method) + "</th><td>";
    if (it == maps.end()) {
      const auto error = g.errors.find(method);
      out += "<span class=\"" +
             std::string(error == g.errors.end() ? "note\">no map in the store"
                                                 : "err\">" + escape(error->second)) +
             "</span></td><td></td>";
    } else if (!it->second.word_ids.empty() || !it->second.tokens.empty()) {
      out += "<span class=\"toks\">" + token_line(it->second) +
             "</span></td><td class=\"scale\">±" +
             fmt(max_abs(it->second.scores, it->second.tokens.size()), 2) + "</td>";
    } else {
      out += dense_map(it->second, method + " on " + id) + "</td><td></td>";
    }
    out += "<td class=\"sc\">" + scores + "</td></tr>";
  }
  return out + "</table></div>";
}

}  // namespace

std::string examples_section(const json& doc, RunStore* store, const ReportOptions& options) {
  std::string out =
      "<section id=\"examples\"><h2>Example explorer</h2><p>Per dataset and model, the best and "
      "worst example of every metric (mean over methods), the example the methods' scores "
      "disagree on most, then a sample seeded by the run's seed, at most " +
      std::to_string(options.examples) +
      " examples. One line per method: each token coloured by its attribution on the line's own "
      "symmetric scale (±the largest |score| of the line, printed at its end); pieces of one word "
      "share a box; greyed italics are special tokens. Hover a token for its score. Each line "
      "ends with the method's metric scores on the example. Gold labels, predictions, targets "
      "and the ground-truth rationale are not kept in the results or the store yet, so they are "
      "not shown.</p>" +
      colour_legend("attribution relative to the line's largest |score|", "−max", "+max") +
      "<p><label>Filter examples: <input id=\"exfilter\" type=\"search\" placeholder=\"id or "
      "reason, e.g. worst deletion\"></label></p>";
  if (store == nullptr)
    return out +
           "<p class=\"note\">No run store (the run used --no-store, or store.sqlite is "
           "missing): the attributions cannot be shown.</p></section>";
  const uint64_t seed =
      static_cast<uint64_t>(std::max(0.0, get_num(at_or_null(doc, "context"), "seed")));
  for (const Group& g : groups_of(doc)) {
    const auto picked = pick(g, options.examples, seed);
    std::set<std::string> ids;
    for (const auto& p : picked) ids.insert(p.first);
    const auto maps = load_maps(*store, g, ids);
    std::map<std::string, std::map<std::string, double>> row_scores;
    for (const json* r : g.rows)
      if (!at_or_null(*r, "error").is_string())
        row_scores[str(*r, "method") + "\n" + str(*r, "metric")] = scores_by_id(*r);
    out += "<div class=\"board\" id=\"" + anchor({"ex", g.dataset, g.model}) + "\"><h3>" +
           escape(g.dataset) + " / " + escape(g.model) + " <small>" +
           std::to_string(picked.size()) + " of " + std::to_string(g.ids.size()) +
           " examples</small></h3>";
    if (maps.empty())
      out +=
          "<p class=\"note\">The store has no attributions of this dataset and model from the "
          "latest run.</p>";
    else
      for (const auto& [id, why] : picked) out += example_block(g, id, why, maps, row_scores);
    out += "</div>";
  }
  return out + "</section>";
}

}  // namespace attrib::report
