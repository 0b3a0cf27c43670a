// Shapley value sampling (METHODS.md §2.4): the average marginal contribution of each feature over
// random permutations, each drawn from the example's own stream. Each permutation switches the
// features on one at a time from the all-baseline input; the prefixes of all permutations of an
// example are stacked (example-major) and packed into forwards of at most max_rows.
#include <torch/script.h>

#include <string>
#include <vector>

#include "../common/coalitions.h"
#include "attrib/plugin.h"
#include "attrib/random.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Shapley value sampling: phi_i = mean over R permutations pi of v(Pre_pi(i) + i) - v(Pre_pi(i)), v(S) = f_y(x with the features outside S replaced). Efficiency sum(phi) = f(x) - f(baseline) holds exactly for every permutation. Permutations come from the stream (seed, id, 0); with antithetic, permutation 2k + 1 is the reverse of permutation 2k. Dense: features are the flattened elements, replaced by baseline_value. Text: features are the words (word_ids >= 0; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T].",
  "citation": "Castro, Gómez & Tejada (2009). Polynomial calculation of the Shapley value based on sampling. Computers & Operations Research 36(5). Štrumbelj & Kononenko (2010). An Efficient Explanation of Individual Classifications using Game Theory. JMLR 11.",
  "params": {
    "n_permutations": {"type": "integer", "default": 25, "minimum": 1, "description": "Number of permutations R."},
    "antithetic": {"type": "boolean", "default": false, "description": "Pair each drawn permutation with its reverse (variance reduction); R draws become ceil(R / 2) draws and their reverses."},
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value of an absent feature."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces an absent token."}
  },
  "cost": {"forward_rows": "2 + n_permutations * (n_features - 1)", "backward_rows": "0"},
  "extras": []
})json";

class ShapleySampling : public attrib::AttributionMethod {
 public:
  explicit ShapleySampling(const nlohmann::json& params)
      : n_perm_(params.at("n_permutations").get<int64_t>()),
        antithetic_(params.at("antithetic").get<bool>()),
        value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib_plugins::Coalitions c(model, batch, targets, "shapley_sampling", value_, token_, {});
    const int64_t b = c.batch_size(), r = n_perm_;
    // Rows of example i: all absent, all present, then the M - 1 proper prefixes of each
    // permutation.
    std::vector<at::Tensor> z(b), perms(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      if (m == 0) {
        z[i] = at::zeros({0, 0}, at::kBool);
        continue;
      }
      at::Generator gen = attrib::example_generator(ctx.seed, batch.ids[i], 0);
      std::vector<at::Tensor> p;
      for (int64_t k = 0; k < r; ++k)
        p.push_back(antithetic_ && k % 2 == 1 ? p.back().flip(0) : at::randperm(m, gen, at::kLong));
      perms[i] = at::stack(p);  // [R, M]
      // position[k][j]: where feature j comes in permutation k.
      const at::Tensor position =
          at::empty_like(perms[i]).scatter_(1, perms[i], at::arange(m, at::kLong).expand({r, m}));
      const at::Tensor sizes = at::arange(1, std::max<int64_t>(m, 1), at::kLong);  // 1 .. M-1
      const at::Tensor prefixes =
          position.unsqueeze(1).lt(sizes.view({1, -1, 1})).reshape({-1, m});  // [R (M-1), M]
      z[i] = at::cat({attrib_plugins::all_features(m, false), attrib_plugins::all_features(m, true),
                      prefixes});
    }
    const std::vector<at::Tensor> v =
        c.values(z, attrib_plugins::Layout::kExampleMajor, ctx.max_rows);
    std::vector<at::Tensor> phi(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      phi[i] = at::zeros({m}, at::kDouble);
      if (m == 0) continue;
      // Values along each permutation's path: [R, M + 1] from v(empty) to v(all).
      const at::Tensor path = at::cat(
          {v[i][0].expand({r, 1}), v[i].slice(0, 2).view({r, m - 1}), v[i][1].expand({r, 1})}, 1);
      const at::Tensor gain = path.slice(1, 1) - path.slice(1, 0, m);  // [R, M], step k adds pi_k
      phi[i].index_add_(0, perms[i].reshape(-1), gain.reshape(-1));
      phi[i] /= static_cast<double>(r);
    }

    attrib::Explanation e = c.explanation(phi);
    e.info["n_permutations"] = n_perm_;
    e.info["antithetic"] = antithetic_;
    e.info["stream"] = "permutations from example_generator(seed, id, 0)";
    e.info["layout"] = "example-major";
    return e;
  }

 private:
  int64_t n_perm_;
  bool antithetic_;
  double value_;
  std::string token_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(ShapleySampling, "shapley_sampling", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
