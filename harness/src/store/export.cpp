#include "store/export.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

#include "attrib/error.h"
#include "store/npz.h"

namespace attrib {

using nlohmann::json;

namespace {

/// Example `i` of `u` as feature scores: for text one per word (its tokens' scores summed, as the
/// harness does before scoring), for dense one per input element in row-major order.
std::vector<float> example_scores(const ExplanationUnit& u, int64_t i) {
  const at::Tensor row = u.token_scores[i].contiguous();
  const float* s = row.data_ptr<float>();
  if (!u.word_ids.defined()) return std::vector<float>(s, s + row.numel());
  const at::Tensor w_t = u.word_ids[i].to(at::kLong).contiguous();
  const int64_t* w = w_t.data_ptr<int64_t>();
  int64_t n_words = 0;
  for (int64_t t = 0; t < w_t.numel(); ++t) n_words = std::max(n_words, w[t] + 1);
  std::vector<float> words(static_cast<size_t>(n_words), 0.0f);
  for (int64_t t = 0; t < w_t.numel(); ++t)
    if (w[t] >= 0) words[static_cast<size_t>(w[t])] += s[t];
  return words;
}

bool selected(const ExplanationUnit& u, const ExportFilter& f) {
  return (f.dataset.empty() || u.dataset == f.dataset) && (f.model.empty() || u.model == f.model);
}

/// Calls fn(unit) for each selected unit of the latest run, one unit in memory at a time.
template <typename Fn>
void for_each_unit(RunStore& store, const ExportFilter& filter, Fn fn) {
  const std::vector<std::string> keys = store.latest_explanation_keys(filter.method);
  ATTRIB_CHECK(!keys.empty(), store.path(), ": no explanations",
               filter.method.empty() ? "" : " of method '" + filter.method + "'",
               " in the latest run");
  for (const std::string& k : keys) {
    std::optional<ExplanationUnit> u = store.find_explanation(k);
    if (u && selected(*u, filter)) fn(*u);
  }
}

}  // namespace

ExportSummary export_jsonl(RunStore& store, std::ostream& out, const ExportFilter& filter) {
  ExportSummary sum;
  for_each_unit(store, filter, [&](const ExplanationUnit& u) {
    for (int64_t i = 0; i < u.token_scores.size(0); ++i) {
      json scores = json::array();
      for (float v : example_scores(u, i)) scores.push_back(v);
      out << json({{"id", u.ids[static_cast<size_t>(i)]},
                   {"method", u.method},
                   {"dataset", u.dataset},
                   {"model", u.model},
                   {"scores", std::move(scores)}})
                 .dump()
          << "\n";
      ++sum.examples;
    }
    sum.methods.insert(u.method);
  });
  return sum;
}

ExportSummary export_npz(RunStore& store, const std::string& path, const ExportFilter& filter) {
  struct Group {
    std::vector<std::string> ids;
    std::vector<std::vector<float>> scores;
    std::vector<int64_t> shape;  // dense: the input shape
    bool text = false;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  ExportSummary sum;
  for_each_unit(store, filter, [&](const ExplanationUnit& u) {
    const auto key = std::make_tuple(u.dataset, u.model, u.method);
    if (!groups.count(key)) order.push_back(key);
    Group& g = groups[key];
    g.text = u.word_ids.defined();
    if (!g.text) g.shape = u.token_scores[0].sizes().vec();
    for (int64_t i = 0; i < u.token_scores.size(0); ++i) {
      g.ids.push_back(u.ids[static_cast<size_t>(i)]);
      g.scores.push_back(example_scores(u, i));
      ++sum.examples;
    }
    sum.methods.insert(u.method);
  });
  std::vector<NpyArray> arrays;
  for (const auto& key : order) {
    const Group& g = groups[key];
    const std::string prefix =
        std::get<0>(key) + "/" + std::get<1>(key) + "/" + std::get<2>(key) + "/";
    const auto n = static_cast<int64_t>(g.ids.size());
    size_t width = 0;
    for (const auto& s : g.scores) width = std::max(width, s.size());
    NpyArray scores{prefix + "scores", "<f4", {n}, {}};
    if (g.text) {
      scores.shape.push_back(static_cast<int64_t>(width));
    } else {
      scores.shape.insert(scores.shape.end(), g.shape.begin(), g.shape.end());
    }
    scores.bytes.reserve(static_cast<size_t>(n) * width * 4);
    std::vector<int64_t> lengths;
    for (const auto& s : g.scores) {
      std::vector<float> padded(s);
      padded.resize(width, std::numeric_limits<float>::quiet_NaN());
      scores.bytes.append(reinterpret_cast<const char*>(padded.data()), padded.size() * 4);
      lengths.push_back(static_cast<int64_t>(s.size()));
    }
    arrays.push_back(std::move(scores));
    int64_t id_width = 1;
    std::string id_bytes = utf32_array(g.ids, id_width);
    arrays.push_back({prefix + "ids", "<U" + std::to_string(id_width), {n}, std::move(id_bytes)});
    if (g.text)
      arrays.push_back({prefix + "lengths",
                        "<i8",
                        {n},
                        std::string(reinterpret_cast<const char*>(lengths.data()),
                                    lengths.size() * sizeof(int64_t))});
  }
  write_npz(path, arrays);
  return sum;
}

}  // namespace attrib
