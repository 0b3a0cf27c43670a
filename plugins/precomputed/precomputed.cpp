// Attributions computed elsewhere (e.g. by Captum), read from a JSONL file and evaluated like any
// method: one line per (example, method), {"id": "...", "method": "...", "scores": [...]}, with
// one score per word for text (the dataset's words, in order) or per input element for dense data.
#include <torch/script.h>

#include <fstream>
#include <map>
#include <unordered_set>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/plugin.h"
#include "attrib/user_input.h"

namespace {

using nlohmann::json;

constexpr const char* kMetadata = R"json({
  "description": "Precomputed attributions from a JSONL file: each line {\"id\": example id, \"method\": name, \"scores\": [numbers]}. Text: one score per word of the example (in order; special tokens and padding excluded); dense: one per input element (row-major). Lines of other methods are ignored. An id that the explained split does not have is an error naming its line; examples of the split that the run does not select (max_examples, shards) may have lines. A missing example, a wrong length or a malformed line are errors naming FILE:LINE.",
  "citation": "",
  "params": {
    "file": {"type": "string", "required": true, "description": "path of the JSONL file"},
    "method": {"type": "string", "default": "", "description": "use only lines whose \"method\" equals this (empty: the file must hold one method)"}
  },
  "cost": {"forward_rows": "0", "backward_rows": "0"},
  "extras": []
})json";

class Precomputed : public attrib::AttributionMethod {
 public:
  explicit Precomputed(const json& params)
      : file_(params.at("file").get<std::string>()),
        method_(params.at("method").get<std::string>()) {
    std::ifstream in(file_);
    if (!in) throw attrib::Error(file_ + ": cannot open the precomputed attributions file");
    std::string line;
    std::string seen_method;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = file_ + ":" + std::to_string(n);
      bool malformed = false;
      json doc;
      try {  // depth- and range-limited like every JSON attrib reads from users
        doc = attrib::parse_json_checked(line, "", &malformed);
      } catch (const attrib::Error& e) {
        throw attrib::Error(where + ": " + e.what());
      }
      if (malformed || !doc.is_object())
        throw attrib::Error(where + ": expected a JSON object per line, got " + line.substr(0, 60));
      auto field = [&](const char* key) -> const json& {
        if (!doc.contains(key)) throw attrib::Error(where + ": missing field \"" + key + "\"");
        return doc[key];
      };
      const json& id = field("id");
      const json& method = field("method");
      const json& scores = field("scores");
      if (!id.is_string() && !id.is_number_integer())
        throw attrib::Error(where + ": id: expected a string, got " + attrib::describe_json(id));
      if (!method.is_string())
        throw attrib::Error(where + ": method: expected a string, got " +
                            attrib::describe_json(method));
      if (!method_.empty() && method.get<std::string>() != method_) continue;
      if (method_.empty()) {
        if (seen_method.empty()) seen_method = method.get<std::string>();
        if (method.get<std::string>() != seen_method)
          throw attrib::Error(where + ": the file holds methods \"" + seen_method + "\" and \"" +
                              method.get<std::string>() +
                              "\"; set the \"method\" parameter to choose one");
      }
      if (!scores.is_array() || scores.empty())
        throw attrib::Error(where + ": scores: expected a non-empty array of numbers, got " +
                            attrib::describe_json(scores));
      Entry e{n, {}};
      for (size_t i = 0; i < scores.size(); ++i) {
        if (!scores[i].is_number())
          throw attrib::Error(where + ": scores[" + std::to_string(i) +
                              "]: expected a number, got " + attrib::describe_json(scores[i]));
        e.scores.push_back(scores[i].get<float>());
      }
      const std::string key = id.is_string() ? id.get<std::string>() : id.dump();
      if (!entries_.emplace(key, std::move(e)).second)
        throw attrib::Error(where + ": id \"" + key + "\" appears twice for this method");
    }
    if (entries_.empty())
      throw attrib::Error(file_ + ": no attributions" +
                          (method_.empty() ? "" : " for method \"" + method_ + "\""));
  }

  attrib::Explanation explain(attrib::ModelAdapter&, const attrib::Batch& batch, const at::Tensor&,
                              const attrib::ExplainContext& ctx) override {
    if (ctx.split_ids && ctx.split_ids != checked_split_) check_ids(*ctx.split_ids);
    checked_split_ = ctx.split_ids;
    const int64_t B = batch.size();
    at::Tensor out;
    const bool text = batch.modality == attrib::Modality::kText;
    if (text) {
      out = at::zeros({B, batch.inputs.size(1)}, at::kFloat);
    } else {
      auto sizes = batch.inputs.sizes().vec();
      out = at::zeros(sizes, at::kFloat);
    }
    const at::Tensor word_ids = text ? batch.word_ids.to(at::kCPU).contiguous() : at::Tensor();
    for (int64_t i = 0; i < B; ++i) {
      const auto it = entries_.find(batch.ids[i]);
      if (it == entries_.end())
        throw attrib::Error(file_ + ": no attributions for example id \"" + batch.ids[i] + "\"" +
                            (method_.empty() ? "" : " (method \"" + method_ + "\")"));
      const Entry& e = it->second;
      const std::string where = file_ + ":" + std::to_string(e.line);
      if (text) {
        // Words are the distinct word ids >= 0; a word split into several tokens has its score
        // split evenly over them, so that the harness's per-word sum gives the score back.
        const int64_t* w = word_ids[i].data_ptr<int64_t>();
        int64_t n_words = 0;
        for (int64_t t = 0; t < word_ids.size(1); ++t) n_words = std::max(n_words, w[t] + 1);
        if (static_cast<int64_t>(e.scores.size()) != n_words)
          throw attrib::Error(where + ": example \"" + batch.ids[i] + "\": expected " +
                              std::to_string(n_words) + " scores (one per word), got " +
                              std::to_string(e.scores.size()));
        const at::Tensor share = attrib::word_token_share(word_ids.slice(0, i, i + 1))[0];
        const auto sh = share.accessor<double, 1>();
        auto o = out.accessor<float, 2>();
        for (int64_t t = 0; t < word_ids.size(1); ++t)
          if (w[t] >= 0) o[i][t] = static_cast<float>(e.scores[w[t]] * sh[t]);
      } else {
        const int64_t n = out[i].numel();
        if (static_cast<int64_t>(e.scores.size()) != n)
          throw attrib::Error(where + ": example \"" + batch.ids[i] + "\": expected " +
                              std::to_string(n) + " scores (one per input element), got " +
                              std::to_string(e.scores.size()));
        out[i].copy_(at::tensor(e.scores).view(out[i].sizes()));
      }
    }
    attrib::Explanation ex;
    ex.attributions = out;
    ex.info = {{"file", file_},
               {"method", method_},
               {"unit", text ? "word (each token gets its word's score)" : "input element"}};
    return ex;
  }

 private:
  struct Entry {
    size_t line;
    std::vector<float> scores;
  };
  std::string file_, method_;
  std::map<std::string, Entry> entries_;
  const std::vector<std::string>* checked_split_ = nullptr;

  // An id the split does not have is a typo or a file for another dataset: an error naming the
  // first such line. Examples of the split that this run does not select are no error.
  void check_ids(const std::vector<std::string>& split_ids) const {
    const std::unordered_set<std::string> known(split_ids.begin(), split_ids.end());
    const Entry* first = nullptr;
    std::string first_id;
    size_t unknown = 0;
    for (const auto& [id, e] : entries_) {
      if (known.count(id)) continue;
      ++unknown;
      if (!first || e.line < first->line) first = &e, first_id = id;
    }
    if (first)
      throw attrib::Error(file_ + ":" + std::to_string(first->line) + ": example id \"" + first_id +
                          "\" is not in the explained split (" + std::to_string(split_ids.size()) +
                          " examples); " + std::to_string(unknown) + " of the file's " +
                          std::to_string(entries_.size()) + " ids are unknown");
  }
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Precomputed, "precomputed", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
