// synthetic:planted_text — class evidence words planted among Zipf-distributed filler words. The
// label is decided by the evidence alone, so the ground-truth rationale of every example is known.
// It fills no reader report: there is nothing read or dropped.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "attrib/error.h"
#include "data/synthetic/generators.h"
#include "data/synthetic/rng.h"

namespace attrib::synthetic {

using nlohmann::json;

const char* const kPlantedSchema = R"JSON({
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

namespace {

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

}  // namespace

Dataset planted_text(const std::string& name, const std::string& /*argument*/, const json& p,
                     json& /*report*/) {
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

}  // namespace attrib::synthetic
