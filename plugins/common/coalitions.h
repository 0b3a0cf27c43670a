#pragma once
// Shared by the coalition-based perturbation plugins (feature_ablation, shapley_sampling,
// shapley_exact, kernel_shap, lime; occlusion uses the text helpers). Header-only and compiled into
// each of them; this folder has no CMakeLists.txt, so it is not a plugin itself.
//
// A feature is a dense input element (or a group of elements), or a text word (word_ids >= 0; all
// subword tokens of a word are perturbed together; special tokens and padding never are). A
// coalition of example i is a bool vector over its M_i features, true where the feature keeps its
// value; absent features are replaced by the baseline value (dense) or a special token id (text).
// Coalitions evaluates v_i(z) = f_y(h_x(z)), packing the rows of every example into forwards of at
// most max_rows.
#include <torch/script.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "attrib/method.h"
#include "attrib/model.h"

namespace attrib_plugins {

/// The id of the special token ("pad" | "mask" | "unk") that replaces an absent text token; throws
/// when the model has none. `method` prefixes the message.
inline int64_t replacement_token_id(const attrib::ModelAdapter& model, const std::string& token,
                                    const std::string& method) {
  const attrib::ModelInfo& info = model.info();
  const int64_t id = token == "pad" ? info.pad_id : token == "mask" ? info.mask_id : info.unk_id;
  ATTRIB_CHECK(id >= 0, method, " token \"", token, "\": model '", info.name, "' has no ", token,
               " token (", token, "_id = -1)");
  return id;
}

/// Text: each token's word index among its example's words (the subword tokens of a word share
/// it), -1 for special tokens and padding, which are never perturbed; int64 [B, T] on the inputs'
/// device.
inline at::Tensor word_rank(const attrib::Batch& batch, const std::string& method) {
  ATTRIB_CHECK(batch.word_ids.defined() && batch.attention_mask.defined(), method,
               ": expected word_ids and attention_mask in a text batch");
  const at::Tensor w = batch.word_ids.to(batch.inputs.device());
  return at::where(w.ge(0), attrib::word_starts(w).cumsum(1) - 1, at::full_like(batch.inputs, -1));
}

/// How the rows of all examples are ordered before they are cut into forwards (METHODS.md §0).
enum class Layout {
  kExampleMajor,       ///< all rows of example 0, then example 1, ...
  kPerturbationMajor,  ///< row n of every example, then row n + 1, ...
};

class Coalitions {
 public:
  /// `value`: dense replacement; `token`: "pad" | "mask" | "unk" for text; `groups`: optional
  /// dense group id per flattened element (ids < 0: never perturbed), empty for one feature per
  /// element. `method` prefixes error messages.
  Coalitions(attrib::ModelAdapter& model, const attrib::Batch& batch, const at::Tensor& targets,
             const std::string& method, double value, const std::string& token,
             const std::vector<int64_t>& groups)
      : model_(model), batch_(batch), value_(value), token_(token) {
    text_ = batch.modality == attrib::Modality::kText;
    const int64_t b = batch.size();
    ATTRIB_CHECK(targets.numel() == b, method, ": expected ", b, " targets, got ", targets.numel());
    targets_ = targets.reshape({-1}).to(at::kLong);
    if (text_) {
      token_id_ = replacement_token_id(model, token, method);
      feature_ = word_rank(batch, method).cpu();
      ATTRIB_CHECK(groups.empty(), method,
                   ": groups apply to dense inputs only; text features are the word tokens");
      flat_ = batch.inputs;
    } else {
      const int64_t d = b > 0 ? batch.inputs[0].numel() : 0;
      flat_ = batch.inputs.reshape({b, d});
      if (groups.empty()) {
        feature_ = at::arange(d, at::kLong).expand({b, d});
      } else {
        ATTRIB_CHECK(static_cast<int64_t>(groups.size()) == d, method, ": expected ", d,
                     " group ids (one per input element), got ", groups.size());
        std::map<int64_t, int64_t> index;  // sorted group ids -> feature index
        for (int64_t g : groups)
          if (g >= 0) index.emplace(g, 0);
        int64_t next = 0;
        for (auto& entry : index) entry.second = next++;
        std::vector<int64_t> f(groups.size());
        for (size_t j = 0; j < groups.size(); ++j) f[j] = groups[j] >= 0 ? index.at(groups[j]) : -1;
        feature_ = at::tensor(f, at::kLong).expand({b, d});
      }
    }
    feature_ = feature_.contiguous();
    n_features_.resize(b);
    for (int64_t i = 0; i < b; ++i)
      n_features_[i] = feature_[i].numel() == 0 ? 0 : feature_[i].max().item<int64_t>() + 1;
  }

  int64_t batch_size() const { return static_cast<int64_t>(n_features_.size()); }
  int64_t n_features(int64_t i) const { return n_features_[i]; }
  int64_t max_features() const {
    return n_features_.empty() ? 0 : *std::max_element(n_features_.begin(), n_features_.end());
  }
  int64_t rows() const { return rows_; }

  /// v_i(z) for z[i] bool [N_i, M_i] (true = kept), as float64 [N_i] per example.
  std::vector<at::Tensor> values(const std::vector<at::Tensor>& z, Layout layout,
                                 int64_t max_rows) {
    const int64_t b = batch_size();
    ATTRIB_CHECK(static_cast<int64_t>(z.size()) == b, "coalitions: expected ", b,
                 " coalition sets, got ", z.size());
    std::vector<int64_t> offset(b + 1, 0);
    int64_t longest = 0;
    for (int64_t i = 0; i < b; ++i) {
      offset[i + 1] = offset[i] + z[i].size(0);
      longest = std::max(longest, z[i].size(0));
    }
    // Global order of (example, row) pairs.
    std::vector<std::pair<int64_t, int64_t>> order;
    order.reserve(offset[b]);
    if (layout == Layout::kExampleMajor) {
      for (int64_t i = 0; i < b; ++i)
        for (int64_t n = 0; n < z[i].size(0); ++n) order.emplace_back(i, n);
    } else {
      for (int64_t n = 0; n < longest; ++n)
        for (int64_t i = 0; i < b; ++i)
          if (n < z[i].size(0)) order.emplace_back(i, n);
    }
    at::Tensor out = at::empty({offset[b]}, at::kDouble);
    const int64_t cap = std::max<int64_t>(1, max_rows);
    at::NoGradGuard no_grad;
    for (size_t c0 = 0; c0 < order.size(); c0 += cap) {
      const size_t c1 = std::min(order.size(), c0 + static_cast<size_t>(cap));
      std::vector<at::Tensor> keep;
      std::vector<int64_t> example, global;
      // Runs of consecutive rows of one example are expanded together.
      for (size_t k = c0; k < c1;) {
        size_t end = k + 1;
        while (end < c1 && order[end].first == order[k].first &&
               order[end].second == order[end - 1].second + 1)
          ++end;
        const int64_t i = order[k].first, n0 = order[k].second, n = static_cast<int64_t>(end - k);
        keep.push_back(element_keep(z[i].slice(0, n0, n0 + n), i));
        for (int64_t r = 0; r < n; ++r) {
          example.push_back(i);
          global.push_back(offset[i] + n0 + r);
        }
        k = end;
      }
      const at::Tensor ex = at::tensor(example, at::kLong).to(flat_.device());
      const at::Tensor kept = at::cat(keep).to(flat_.device());
      at::Tensor logits;
      if (text_) {
        const at::Tensor ids = flat_.index_select(0, ex).masked_fill(kept.logical_not(), token_id_);
        logits = model_.forward(ids, batch_.attention_mask.index_select(0, ex));
      } else {
        const at::Tensor rows = flat_.index_select(0, ex).masked_fill(kept.logical_not(), value_);
        std::vector<int64_t> shape = batch_.inputs.sizes().vec();
        shape[0] = rows.size(0);
        logits = model_.forward(rows.reshape(shape), at::Tensor());
      }
      rows_ += static_cast<int64_t>(example.size());
      const at::Tensor t = targets_.to(logits.device()).index_select(0, ex.to(logits.device()));
      const at::Tensor v = logits.gather(1, t.unsqueeze(1)).squeeze(1).to(at::kDouble).cpu();
      out.index_put_({at::tensor(global, at::kLong)}, v);
    }
    std::vector<at::Tensor> result;
    for (int64_t i = 0; i < b; ++i) result.push_back(out.slice(0, offset[i], offset[i + 1]));
    return result;
  }

  /// Attributions from per-feature values phi[i] [M_i]: every element gets its feature's value
  /// (a group's value is copied to each member), 0 where never perturbed. Dense: the input's
  /// shape; text: [B, T], a word's value split evenly over its subword tokens (so that they sum to
  /// it; with word-level tokens each token has its word's value).
  at::Tensor scatter(const std::vector<at::Tensor>& phi) const {
    const int64_t b = batch_size();
    at::Tensor out = at::zeros(feature_.sizes(), at::kDouble);
    for (int64_t i = 0; i < b; ++i) {
      if (n_features_[i] == 0) continue;
      const at::Tensor f = feature_[i];
      const at::Tensor valid = f.ge(0);
      out[i] = at::where(valid, phi[i].to(at::kDouble).cpu().index_select(0, f.clamp_min(0)),
                         at::zeros({}, at::kDouble));
    }
    return text_
               ? (out * attrib::word_token_share(batch_.word_ids.cpu())).to(batch_.inputs.device())
               : out.view(batch_.inputs.sizes()).to(batch_.inputs.device());
  }

  /// What every coalition plugin reports: scatter(phi), the rows forwarded so far and info(); the
  /// plugin adds its own info keys and extras.
  attrib::Explanation explanation(const std::vector<at::Tensor>& phi) const {
    attrib::Explanation e;
    e.attributions = scatter(phi);
    e.forward_rows = rows_;
    e.info = info();
    return e;
  }

  /// The replacement, recorded in Explanation::info.
  nlohmann::json info() const {
    if (text_)
      return {{"token", token_},
              {"token_id", token_id_},
              {"unit", "word"},
              {"subword_tokens", "perturbed together; the word's value split evenly over them"},
              {"output", "logit"}};
    return {{"baseline_value", value_}, {"unit", "input element"}, {"output", "logit"}};
  }

 private:
  // Element-level keep mask [n, F] from coalitions zi [n, M_i]; never-perturbed elements are kept.
  at::Tensor element_keep(const at::Tensor& zi, int64_t i) const {
    const at::Tensor f = feature_[i];
    if (zi.size(1) == 0) return at::ones({zi.size(0), f.size(0)}, at::kBool);
    return zi.to(at::kBool).cpu().index_select(1, f.clamp_min(0)) | f.lt(0).unsqueeze(0);
  }

  attrib::ModelAdapter& model_;
  const attrib::Batch& batch_;
  double value_;
  std::string token_;
  bool text_ = false;
  int64_t token_id_ = -1;
  at::Tensor targets_, flat_, feature_;  // feature_: [B, F] int64 on the CPU, -1 = never
  std::vector<int64_t> n_features_;
  int64_t rows_ = 0;
};

/// Coalitions with every feature kept (`on`) or none, [1, m].
inline at::Tensor all_features(int64_t m, bool on) {
  return on ? at::ones({1, m}, at::kBool) : at::zeros({1, m}, at::kBool);
}

}  // namespace attrib_plugins
