// Occlusion (Zeiler & Fergus 2014) / leave-one-out with replacement (Li et al. 2016): the drop of
// the target logit when a window of consecutive features is replaced, averaged over the windows
// covering each feature (METHODS.md §2.2-2.3). Perturbation-major: block j holds window j of every
// example. Windows are counted per example over its own features, so padding never changes them.
#include <torch/script.h>

#include <algorithm>
#include <functional>
#include <string>

#include "../common/coalitions.h"
#include "../common/grouped.h"
#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Occlusion: a_i = mean over windows W containing feature i of f_y(x) - f_y(x with W replaced). Windows of `window` consecutive features move by `stride`; the last one is clipped at the edge. Dense: features are the flattened elements, replaced by baseline_value. Text: features are the words (word_ids >= 0, never special tokens or padding; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T]. window = 1 is leave-one-out.",
  "citation": "Zeiler & Fergus (2014). Visualizing and Understanding Convolutional Networks. ECCV. Li, Monroe & Jurafsky (2016). Understanding Neural Networks through Representation Erasure. arXiv:1612.08220",
  "params": {
    "window": {"type": "integer", "default": 1, "minimum": 1, "description": "Number of consecutive features replaced together."},
    "stride": {"type": "integer", "default": 1, "minimum": 1, "description": "Step between window starts; must not exceed window."},
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value written into the window."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces the window's tokens."}
  },
  "cost": {"forward_rows": "2 + ceil(max(n_features - window, 0) / stride)", "backward_rows": "0"},
  "extras": []
})json";

// Windows over n features: ceil((n - w) / s) + 1 (Captum's count), 1 when the window spans all.
at::Tensor window_count(const at::Tensor& n, int64_t w, int64_t s) {
  return at::where(n.le(w), n.gt(0).to(at::kLong), (n - w + s - 1).div(s, "floor") + 1);
}

class Occlusion : public attrib_plugins::GroupedMethod {
 public:
  explicit Occlusion(const nlohmann::json& params)
      : window_(params.at("window").get<int64_t>()),
        stride_(params.at("stride").get<int64_t>()),
        value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {
    ATTRIB_CHECK(stride_ <= window_, "occlusion: expected stride <= window (", window_, "), got ",
                 stride_);
  }

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext& ctx) override {
    at::NoGradGuard no_grad;
    return batch.modality == attrib::Modality::kText ? text(model, batch, targets, ctx.max_rows)
                                                     : dense(model, batch, targets, ctx.max_rows);
  }

  // rank [B, F]: each element's index among its example's features, -1 where never perturbed.
  // windows [B]: window count per example. forward(cover) runs the rows where the elements marked
  // in cover [p, B, F] are replaced and returns their logits [p * B, C]. An example with fewer
  // windows than the block index gets an unperturbed filler row whose cover is empty.
  using Forward = std::function<at::Tensor(const at::Tensor& cover)>;

  attrib::Explanation run(const at::Tensor& rank, const at::Tensor& windows, const at::Tensor& fx,
                          const at::Tensor& targets, int64_t max_rows, const Forward& forward) {
    const int64_t b = rank.size(0), n_windows = windows.max().item<int64_t>();
    const int64_t per = attrib::blocks_per_chunk(max_rows, b);
    const at::Tensor fy = attrib::select_targets(fx, targets).to(at::kDouble);
    at::Tensor sum = at::zeros(rank.sizes(), fy.options()), count = at::zeros_like(sum);
    int64_t rows = b;
    for (int64_t j0 = 0; j0 < n_windows; j0 += per) {
      const int64_t p = std::min(per, n_windows - j0);
      const at::Tensor j = at::arange(j0, j0 + p, rank.options()).view({p, 1, 1});
      const at::Tensor start = j * stride_;
      const at::Tensor cover =
          rank.ge(start) & rank.lt(start + window_) & rank.ge(0) & j.lt(windows.view({1, b, 1}));
      const at::Tensor fp = attrib::select_targets(forward(cover), targets).to(at::kDouble);
      const at::Tensor covered = cover.to(at::kDouble);
      sum += ((fy.view({1, b}) - fp.view({p, b})).unsqueeze(2) * covered).sum(0);
      count += covered.sum(0);
      rows += p * b;
    }
    attrib::Explanation e;
    e.attributions = at::where(count.gt(0), sum / count.clamp_min(1.0), at::zeros_like(sum));
    e.forward_rows = rows;
    e.info = {{"window", window_},
              {"stride", stride_},
              {"aggregation", "mean over windows"},
              {"output", "logit"}};
    return e;
  }

  attrib::Explanation dense(attrib::ModelAdapter& model, const attrib::Batch& batch,
                            const at::Tensor& targets, int64_t max_rows) {
    const at::Tensor& x = batch.inputs;
    const int64_t b = batch.size(), d = x[0].numel();
    const at::Tensor flat = x.reshape({b, d});
    const at::Tensor rank = at::arange(d, x.options().dtype(at::kLong)).expand({b, d});
    const at::Tensor windows = window_count(at::full({b}, d, rank.options()), window_, stride_);
    std::vector<int64_t> rows_shape = x.sizes().vec();
    attrib::Explanation e = run(rank, windows, model.forward(x, at::Tensor()), targets, max_rows,
                                [&](const at::Tensor& cover) {
                                  rows_shape[0] = cover.size(0) * b;
                                  const at::Tensor rows =
                                      flat.unsqueeze(0).masked_fill(cover, value_);
                                  return model.forward(rows.reshape(rows_shape), at::Tensor());
                                });
    e.attributions = e.attributions.view(x.sizes());
    e.info["baseline_value"] = value_;
    e.info["unit"] = "flattened input element";
    return e;
  }

  attrib::Explanation text(attrib::ModelAdapter& model, const attrib::Batch& batch,
                           const at::Tensor& targets, int64_t max_rows) {
    const int64_t id = attrib_plugins::replacement_token_id(model, token_, "occlusion");
    const at::Tensor& ids = batch.inputs;
    const at::Tensor rank = attrib_plugins::word_rank(batch, "occlusion");
    // Windows over the words (rank = word index), not over their subword tokens.
    const at::Tensor windows = window_count(std::get<0>(rank.max(1)) + 1, window_, stride_);
    attrib::Explanation e =
        run(rank, windows, model.forward(ids, batch.attention_mask), targets, max_rows,
            [&](const at::Tensor& cover) {
              const at::Tensor rows = ids.unsqueeze(0).masked_fill(cover, id).flatten(0, 1);
              return model.forward(rows, batch.attention_mask.repeat({cover.size(0), 1}));
            });
    // A word's subword tokens were covered together: split its value over them.
    e.attributions =
        e.attributions * attrib::word_token_share(batch.word_ids)
                             .to(e.attributions.device(), e.attributions.scalar_type());
    e.info["token"] = token_;
    e.info["token_id"] = id;
    e.info["unit"] = "word";
    e.info["subword_tokens"] = "covered together; the word's value split evenly over them";
    return e;
  }

  int64_t window_, stride_;
  double value_;
  std::string token_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Occlusion, "occlusion", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
