#include "dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <sstream>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "dataset_dense.h"
#include "dataset_readers.h"

namespace attrib {

using nlohmann::json;

const std::vector<TextExample>& Dataset::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "val") return val;
  if (name == "test") return test;
  throw Error("dataset '" + this->name + "': unknown split '" + name +
              "' (expected train, val or test)");
}

const std::vector<DenseExample>& Dataset::dense_split(const std::string& name) const {
  if (name == "train") return dense_train;
  if (name == "val") return dense_val;
  if (name == "test") return dense_test;
  throw Error("dataset '" + this->name + "': unknown split '" + name +
              "' (expected train, val or test)");
}

size_t Dataset::split_size(const std::string& name) const {
  return modality == Modality::kDense ? dense_split(name).size() : split(name).size();
}

int64_t Dataset::num_features() const {
  if (modality != Modality::kDense) return 0;
  int64_t n = 1;
  for (int64_t d : feature_shape) n *= d;
  return n;
}

std::vector<std::string> whitespace_tokens(const std::string& text) {
  std::istringstream is(text);
  std::vector<std::string> out;
  for (std::string t; is >> t;) out.push_back(t);
  return out;
}

Batch collate_text(const std::vector<TextExample>& examples, size_t begin, size_t end,
                   const Vocab& vocab, int64_t max_len) {
  ATTRIB_CHECK(begin < end && end <= examples.size(), "collate_text: bad range [", begin, ", ", end,
               ") of ", examples.size(), " examples");
  const int64_t B = static_cast<int64_t>(end - begin);
  // Tokens of every example first: T is the longest after truncation.
  struct Tokens {
    std::vector<int64_t> ids, word, start, stop;
  };
  std::vector<Tokens> rows(B);
  int64_t T = 1;
  std::vector<int64_t> ids;
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    Tokens& row = rows[r];
    int64_t pos = 0;
    for (size_t w = 0; w < e.tokens.size(); ++w) {
      ids.clear();
      spans.clear();
      const bool special = w < e.special.size() && e.special[w];
      if (special) {
        ids.push_back(vocab.id(e.tokens[w]));  // whole, never split into pieces
        spans.emplace_back(0, static_cast<int64_t>(e.tokens[w].size()));
      } else {
        vocab.encode(e.tokens[w], ids, &spans);
      }
      const int64_t room = max_len - static_cast<int64_t>(row.ids.size());
      // Whole words only, so that a kept word is never cut (a first word may be, to fit at all).
      if (static_cast<int64_t>(ids.size()) > room && !(w == 0 && room > 0)) break;
      for (size_t k = 0; k < ids.size() && static_cast<int64_t>(k) < room; ++k) {
        row.ids.push_back(ids[k]);
        row.word.push_back(special ? -1 : static_cast<int64_t>(w));
        row.start.push_back(pos + spans[k].first);
        row.stop.push_back(pos + spans[k].second);
      }
      pos += static_cast<int64_t>(e.tokens[w].size()) + 1;
    }
    T = std::max<int64_t>(T, row.ids.size());
  }
  Batch b;
  b.modality = Modality::kText;
  b.inputs = at::full({B, T}, Vocab::kPad, at::kLong);
  b.attention_mask = at::zeros({B, T}, at::kLong);
  b.word_ids = at::full({B, T}, -1, at::kLong);
  b.offsets = at::zeros({B, T, 2}, at::kLong);
  b.labels = at::empty({B}, at::kLong);
  auto in = b.inputs.accessor<int64_t, 2>();
  auto mask = b.attention_mask.accessor<int64_t, 2>();
  auto words = b.word_ids.accessor<int64_t, 2>();
  auto offs = b.offsets.accessor<int64_t, 3>();
  auto labels = b.labels.accessor<int64_t, 1>();
  for (int64_t r = 0; r < B; ++r) {
    b.ids.push_back(examples[begin + r].id);
    labels[r] = examples[begin + r].label;
    const Tokens& row = rows[r];
    for (size_t t = 0; t < row.ids.size(); ++t) {
      in[r][t] = row.ids[t];
      mask[r][t] = 1;
      words[r][t] = row.word[t];
      offs[r][t][0] = row.start[t];
      offs[r][t][1] = row.stop[t];
    }
  }
  return b;
}

Annotations collate_rationales(const std::vector<TextExample>& examples, size_t begin, size_t end,
                               const Batch& batch) {
  const int64_t B = static_cast<int64_t>(end - begin);
  ATTRIB_CHECK(batch.word_ids.defined() && batch.word_ids.size(0) == B,
               "collate_rationales: expected a text batch of ", B, " examples");
  const at::Tensor word_ids = batch.word_ids.to(at::kCPU).contiguous();
  const int64_t T = word_ids.size(1);
  auto words = word_ids.accessor<int64_t, 2>();
  Annotations a;
  a.mask = at::zeros({B, T}, at::kFloat);
  a.present = at::zeros({B}, at::kBool);
  auto m = a.mask.accessor<float, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    if (e.rationale.empty()) continue;
    a.present[r] = true;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t w = words[r][t];
      if (w >= 0 && w < static_cast<int64_t>(e.rationale.size())) m[r][t] = e.rationale[w];
    }
  }
  return a;
}

Batch collate_dense(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                    const std::vector<int64_t>& feature_shape) {
  ATTRIB_CHECK(begin <= end && end <= examples.size(), "collate_dense: bad range [", begin, ", ",
               end, ") of ", examples.size(), " examples");
  int64_t n = 1;
  for (int64_t d : feature_shape) n *= d;
  const int64_t B = static_cast<int64_t>(end - begin);
  std::vector<int64_t> shape = {B};
  shape.insert(shape.end(), feature_shape.begin(), feature_shape.end());
  Batch b;
  b.modality = Modality::kDense;
  at::Tensor flat = at::empty({B, n}, at::kFloat);
  b.labels = at::empty({B}, at::kLong);
  float* dst = flat.data_ptr<float>();
  int64_t* labels = b.labels.data_ptr<int64_t>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    ATTRIB_CHECK(static_cast<int64_t>(e.x.size()) == n, "collate_dense: example '", e.id,
                 "': expected ", n, " values (feature shape), found ", e.x.size());
    std::copy(e.x.begin(), e.x.end(), dst + r * n);
    labels[r] = e.label;
    b.ids.push_back(e.id);
  }
  b.inputs = flat.reshape(shape);
  return b;
}

Annotations collate_masks(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                          int64_t n_features) {
  ATTRIB_CHECK(begin <= end && end <= examples.size(), "collate_masks: bad range [", begin, ", ",
               end, ") of ", examples.size(), " examples");
  const int64_t B = static_cast<int64_t>(end - begin);
  Annotations a;
  a.mask = at::zeros({B, n_features}, at::kFloat);
  a.present = at::zeros({B}, at::kBool);
  float* m = a.mask.data_ptr<float>();
  bool* present = a.present.data_ptr<bool>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    if (e.mask.empty()) continue;
    ATTRIB_CHECK(static_cast<int64_t>(e.mask.size()) == n_features, "collate_masks: example '",
                 e.id, "': expected ", n_features, " mask values, found ", e.mask.size());
    std::copy(e.mask.begin(), e.mask.end(), m + r * n_features);
    present[r] = true;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// synthetic:planted_text — class evidence words planted among Zipf-distributed filler words. The
// label is decided by the evidence alone, so the ground-truth rationale of every example is known.
namespace {

const char* kPlantedSchema = R"JSON({
  "n_train": {"type": "integer", "default": 2000, "minimum": 10, "maximum": 1000000,
              "description": "training examples"},
  "n_val": {"type": "integer", "default": 300, "minimum": 10, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 300, "minimum": 1, "maximum": 1000000},
  "n_classes": {"type": "integer", "default": 2, "minimum": 2, "maximum": 26},
  "min_len": {"type": "integer", "default": 8, "minimum": 2, "maximum": 512},
  "max_len": {"type": "integer", "default": 24, "minimum": 2, "maximum": 512},
  "max_evidence": {"type": "integer", "default": 3, "minimum": 1, "maximum": 16,
                   "description": "evidence words per example, drawn uniformly from 1..max_evidence"},
  "evidence_words": {"type": "integer", "default": 6, "minimum": 1, "maximum": 100,
                     "description": "evidence vocabulary per class"},
  "filler_words": {"type": "integer", "default": 1500, "minimum": 10, "maximum": 100000,
                   "description": "filler vocabulary, drawn with a Zipf(1.1) law so rare words become <unk>"},
  "seed": {"type": "integer", "default": 1, "minimum": 0,
           "description": "generator seed (independent of the run seed, so the data stay fixed)"}
})JSON";

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return state_ = splitmix64(state_); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

std::string pseudo_word(Rng& rng) {
  static const char* kOnsets[] = {"b", "d", "f", "g", "k", "l",  "m",  "n",  "p",
                                  "r", "s", "t", "v", "z", "br", "st", "tr", "pl"};
  static const char* kVowels[] = {"a", "e", "i", "o", "u", "ai", "ou"};
  std::string w;
  const int syllables = 2 + static_cast<int>(rng.below(2));
  for (int s = 0; s < syllables; ++s) {
    w += kOnsets[rng.below(std::size(kOnsets))];
    w += kVowels[rng.below(std::size(kVowels))];
  }
  return w;
}

Dataset planted_text(const std::string& name, const json& p) {
  const int64_t n_classes = p["n_classes"], min_len = p["min_len"], max_len = p["max_len"];
  const int64_t max_ev = p["max_evidence"], n_ev = p["evidence_words"], n_fill = p["filler_words"];
  ATTRIB_CHECK(min_len <= max_len, "dataset '", name, "': params.min_len (", min_len,
               ") must be <= params.max_len (", max_len, ")");
  ATTRIB_CHECK(max_ev < min_len, "dataset '", name, "': params.max_evidence (", max_ev,
               ") must be < params.min_len (", min_len, ")");
  Rng rng(p["seed"].get<uint64_t>() ^ 0x706c616e746564ULL);
  // Distinct pseudo-words: evidence first, then fillers.
  std::vector<std::string> words;
  std::unordered_map<std::string, int> seen;
  while (static_cast<int64_t>(words.size()) < n_classes * n_ev + n_fill) {
    std::string w = pseudo_word(rng);
    if (seen.emplace(w, 1).second) words.push_back(w);
  }
  // Zipf(1.1) cumulative weights over fillers.
  std::vector<double> cdf(n_fill);
  double total = 0;
  for (int64_t i = 0; i < n_fill; ++i) cdf[i] = (total += std::pow(i + 1.0, -1.1));
  auto filler = [&] {
    const double u = rng.uniform() * total;
    const int64_t i = std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
    return words[n_classes * n_ev + std::min(i, n_fill - 1)];
  };

  Dataset d;
  d.name = name;
  d.modality = Modality::kText;
  for (int64_t c = 0; c < n_classes; ++c)
    d.class_names.push_back(std::string("class_") + char('a' + c));
  auto make = [&](const std::string& split, int64_t n, std::vector<TextExample>& out) {
    for (int64_t k = 0; k < n; ++k) {
      TextExample e;
      e.id = name + "-" + split + "-" + std::to_string(k);
      e.label = rng.below(n_classes);
      const int64_t len = min_len + rng.below(max_len - min_len + 1);
      const int64_t n_evidence = 1 + rng.below(max_ev);
      e.tokens.resize(len);
      e.rationale.assign(len, 0.0f);
      for (auto& t : e.tokens) t = filler();
      for (int64_t j = 0; j < n_evidence;) {
        const int64_t pos = rng.below(len);
        if (e.rationale[pos] != 0.0f) continue;
        e.rationale[pos] = 1.0f;
        e.tokens[pos] = words[e.label * n_ev + rng.below(n_ev)];
        ++j;
      }
      out.push_back(std::move(e));
    }
  };
  make("train", p["n_train"], d.train);
  make("val", p["n_val"], d.val);
  make("test", p["n_test"], d.test);
  return d;
}

std::string hash_dataset(const Dataset& d) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  // Floats are mixed by their bits, a word at a time (a Fashion-MNIST load has 47M values).
  auto mix_floats = [&](const std::vector<float>& v) {
    mix(std::to_string(v.size()));
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      h = (h ^ bits) * 1099511628211ULL;
    }
  };
  for (const auto* split : {&d.train, &d.val, &d.test})
    for (const auto& e : *split) {
      mix(e.id);
      mix(std::to_string(e.label));
      for (const auto& t : e.tokens) mix(t);
      mix_floats(e.rationale);
      if (!e.special.empty()) mix(std::string(e.special.begin(), e.special.end()));
    }
  if (d.modality == Modality::kDense) {
    for (int64_t s : d.feature_shape) mix(std::to_string(s));
    for (const auto& f : d.feature_names) mix(f);
    for (const auto* split : {&d.dense_train, &d.dense_val, &d.dense_test}) {
      mix("|");
      for (const auto& e : *split) {
        mix(e.id);
        mix(std::to_string(e.label));
        mix_floats(e.x);
        mix_floats(e.mask);
      }
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

json dataset_params_schema(const std::string& spec) {
  if (spec == "synthetic:planted_text") return json::parse(kPlantedSchema);
  if (is_reader_spec(spec)) return reader_params_schema(spec);
  if (is_dense_spec(spec)) return dense_params_schema(spec);
  throw Error("unknown dataset spec '" + spec +
              "' (available: synthetic:planted_text, synthetic:tabular_linear, "
              "synthetic:tabular_nonlinear, synthetic:block_mnist, hatexplain:DIR, eraser:DIR, "
              "jsonl:FILE, csv:FILE, arff:FILE, idx:[DIR], images:DIR)");
}

Dataset load_dataset_reported(const std::string& name, const std::string& spec, const json& params,
                              uint64_t /*seed*/, json* report) {
  const json resolved = resolve_params(dataset_params_schema(spec), params, name + ".params");
  Dataset d;
  if (report) *report = json::object();
  if (spec == "synthetic:planted_text")
    d = planted_text(name, resolved);
  else if (is_dense_spec(spec))
    d = read_dense_dataset(name, spec, resolved, report);
  else
    d = read_text_dataset(name, spec, resolved, report);
  d.spec = spec;
  d.params = resolved;
  d.hash = hash_dataset(d);
  return d;
}

Dataset load_dataset(const std::string& name, const std::string& spec, const json& params,
                     uint64_t seed) {
  return load_dataset_reported(name, spec, params, seed, nullptr);
}

}  // namespace attrib
