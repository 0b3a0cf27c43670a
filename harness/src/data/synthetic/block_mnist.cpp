// synthetic:block_mnist — a Fashion-MNIST item in one cell of a 2 x 2 canvas (the mask is that
// cell), noise or dimmed items elsewhere. Draws its items from the idx: reader's files.
#include "attrib/error.h"
#include "data/readers/common.h"
#include "data/readers/idx.h"
#include "data/synthetic/generators.h"
#include "data/synthetic/rng.h"

namespace attrib::synthetic {

using nlohmann::json;
using readers::dense_of;
using readers::kSplits;

const char* const kBlockMnistSchema = R"JSON({
  "n_train": {"type": "integer", "default": 5000, "minimum": 10, "maximum": 1000000},
  "n_val": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 1000000},
  "distractors": {"type": "string", "default": "noise", "enum": ["noise", "items"],
                  "description": "what fills the 3 other cells: uniform noise in [0, noise], or other items (random classes) dimmed by distractor_scale, so the brightest item is the labelled one"},
  "noise": {"type": "number", "default": 0.3, "minimum": 0, "maximum": 1},
  "distractor_scale": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1},
  "dir": {"type": "string", "default": "",
          "description": "IDX folder (as idx:DIR); empty = the dataset-fashion-mnist package's"},
  "seed": {"type": "integer", "default": 1, "minimum": 0}
})JSON";

Dataset block_mnist(const std::string& name, const std::string& /*argument*/, const json& p,
                    json& report) {
  report = readers::new_report("block_mnist");
  std::string dir = p["dir"];
  if (dir.empty()) dir = kFashionMnistDir;
  json idx_params = {{"max_train", 0}, {"max_test", 0}, {"classes", json::array()}};
  json idx_report = readers::new_report("idx");
  readers::IdxSet src;
  try {
    src = readers::load_idx(dir, idx_params, idx_report);
  } catch (const Error& e) {
    throw Error(std::string("synthetic:block_mnist needs Fashion-MNIST IDX files: ") + e.what());
  }
  ATTRIB_CHECK(src.shape[1] == 28 && src.shape[2] == 28,
               "synthetic:block_mnist: expected 28 x 28 items, found ", src.shape[1], " x ",
               src.shape[2]);
  ATTRIB_CHECK(!src.train.empty() && !src.test.empty(), "synthetic:block_mnist: expected items in ",
               dir, "'s train and t10k files, found ", src.train.size(), " and ", src.test.size());
  report["sources"] = idx_report["sources"];
  const bool items = p["distractors"] == "items";
  const float noise = p["noise"].get<float>(), scale = p["distractor_scale"].get<float>();
  const uint64_t seed = p["seed"];
  constexpr int64_t S = 28, W = 2 * S;
  Dataset d;
  d.class_names = src.classes;
  d.feature_shape = {1, W, W};
  for (int s = 0; s < 3; ++s) {
    const auto& pool = s == 2 ? src.test : src.train;
    const int64_t n = p[std::string("n_") + kSplits[s]];
    auto& out = dense_of(d, s);
    for (int64_t k = 0; k < n; ++k) {
      DenseExample e;
      e.id = name + "-" + kSplits[s] + "-" + std::to_string(k);
      Rng rng = example_rng(seed, e.id);
      const int64_t cell = rng.below(4);
      e.x.assign(W * W, 0.0f);
      e.mask.assign(W * W, 0.0f);
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t oy = (c / 2) * S, ox = (c % 2) * S;
        const DenseExample* item = nullptr;
        float gain = 1.0f;
        if (c == cell) {
          item = &pool[rng.below(pool.size())];
          e.label = item->label;
        } else if (items) {
          item = &pool[rng.below(pool.size())];
          gain = scale;
        }
        for (int64_t y = 0; y < S; ++y)
          for (int64_t x = 0; x < S; ++x) {
            const int64_t k2 = (oy + y) * W + ox + x;
            e.x[k2] = item ? gain * item->x[y * S + x] : noise * static_cast<float>(rng.uniform());
            if (c == cell) e.mask[k2] = 1.0f;
          }
      }
      out.push_back(std::move(e));
    }
  }
  d.encoding = {{"canvas", "2 x 2 cells of 28 x 28; one item in a random cell decides the label"},
                {"distractors", p["distractors"]},
                {"mask", "the labelled item's cell"}};
  return d;
}

}  // namespace attrib::synthetic
