#include "explain.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "attrib/error.h"
#include "cost.h"
#include "interrupt.h"
#include "isolation.h"
#include "shard.h"
#include "store/unit_key.h"

namespace attrib {

using nlohmann::json;

namespace {

// A method's output, checked before anything is scored: a tensor of floating point, one map per
// example of the batch, dense maps with one value per input element, and finite values (a NaN or
// Inf map is an error row for the method, never a map that metrics rank).
void check_attributions(const at::Tensor& a, const Batch& batch) {
  ATTRIB_CHECK(a.defined(), "attributions: the method returned an undefined tensor");
  ATTRIB_CHECK(at::isFloatingType(a.scalar_type()),
               "attributions: expected a floating-point tensor, got ", a.scalar_type());
  ATTRIB_CHECK(a.dim() >= 1 && a.size(0) == batch.size(), "attributions: expected ", batch.size(),
               " maps (one per example), got shape ", a.sizes());
  if (batch.modality != Modality::kText) {
    const int64_t per_example = batch.inputs.numel() / std::max<int64_t>(1, batch.size());
    ATTRIB_CHECK(a.numel() == batch.size() * per_example, "attributions: expected ", per_example,
                 " values per example (the input's shape), got shape ", a.sizes());
  }
}

void check_finite(const at::Tensor& scores, const Batch& batch) {
  const at::Tensor bad = scores.isfinite().logical_not().reshape({scores.size(0), -1}).any(1);
  if (!bad.any().item<bool>()) return;
  const int64_t i = bad.to(at::kLong).argmax().item<int64_t>();
  throw Error("attributions: non-finite values (NaN or Inf) in the map of example '" +
              batch.ids.at(static_cast<size_t>(i)) + "' (" +
              std::to_string(bad.sum().item<int64_t>()) + " of " + std::to_string(batch.size()) +
              " examples in the batch)");
}

/// mean |x| and max |x| of each extra output (e.g. IG's convergence delta).
json extras_summary(const std::map<std::string, std::vector<double>>& extras) {
  json ej = json::object();
  for (const auto& [k, v] : extras) {
    double sum_abs = 0, max_abs = 0;
    for (double x : v) {
      sum_abs += std::fabs(x);
      max_abs = std::max(max_abs, std::fabs(x));
    }
    ej[k] = {{"mean_abs", v.empty() ? 0.0 : sum_abs / v.size()}, {"max_abs", max_abs}};
  }
  return ej;
}

/// The feature scores metrics see from token scores (token_scores): for text each word's tokens
/// summed into its first token; dense maps flattened to [B, n].
at::Tensor scores_from_tokens(const at::Tensor& tokens, const Batch& batch) {
  if (batch.modality != Modality::kText) return tokens.reshape({tokens.size(0), -1});
  // Subword tokens add up to their word, which is scored at its first token.
  return sum_to_word_starts(tokens, batch.word_ids.to(at::kCPU));
}

/// Batch `bi` of `p` explained by `method` (the unit's token scores, choices, rows, extras), with
/// its time.
void compute_unit(const PreparedModel& p, size_t bi, AttributionMethod& method,
                  const SuiteConfig& suite, int64_t max_rows, ExplanationUnit& u) {
  const Batch& b = p.batches[bi];
  const auto t0 = std::chrono::steady_clock::now();
  Explanation e =
      method.explain(*p.model, b, p.targets[bi].to(p.device), explain_context(suite, &p, max_rows));
  at::Tensor tokens = token_scores(e.attributions, b, suite.token_reduction);
  u.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Dense maps are kept in the input's shape, so that a reader of the store sees images as images.
  u.token_scores = b.modality == Modality::kText ? tokens : tokens.reshape(b.inputs.sizes());
  u.ids = b.ids;
  if (b.modality == Modality::kText) {
    u.word_ids = b.word_ids.to(at::kCPU);
    const at::Tensor ids_t = b.inputs.to(at::kCPU, at::kLong).contiguous();
    const at::Tensor lengths_t = b.attention_mask.to(at::kCPU, at::kLong).sum(1);
    const auto ids = ids_t.accessor<int64_t, 2>();
    const auto lengths = lengths_t.accessor<int64_t, 1>();
    const std::vector<std::string>& vocab = p.vocab.tokens();
    for (int64_t i = 0; i < b.size(); ++i) {
      std::vector<std::string>& toks = u.tokens.emplace_back();
      for (int64_t t = 0; t < lengths[i]; ++t) {
        const int64_t id = ids[i][t];
        toks.push_back(id >= 0 && id < static_cast<int64_t>(vocab.size()) ? vocab[id] : "?");
      }
    }
  }
  u.batch = static_cast<int64_t>(bi);
  u.info = e.info;
  u.forward_rows = e.forward_rows;
  u.backward_rows = e.backward_rows;
  for (const auto& [k, v] : e.extras) {
    at::Tensor t = v.to(at::kCPU, at::kDouble).contiguous();
    u.extras[k].assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  }
}

/// Explains every batch of `p` with method `m`, filling `ex` and the timing fields of `summary`.
/// A batch whose unit is in the store is read from it; every other one is computed and stored.
void explain_one(const PreparedModel& p, const MethodConfig& m, const SuiteConfig& suite,
                 const Registry& registry, Progress& progress, const std::vector<int64_t>& features,
                 RunStore* store, const ShardPlanner* shard, size_t method_index,
                 MethodExplanations& ex, json& summary) {
  const PluginInfo* plugin = registry.find(m.plugin, ATTRIB_KIND_METHOD);
  registry.check_compatible(m.plugin, *p.model, m.name, p.config->name);
  if (!suite.force) check_cost(m.name, plugin->metadata, m.params, features);
  ex.method = registry.create_method(m.plugin, m.params, "methods[" + m.name + "].params");
  ex.isolated = isolated(*plugin, suite.isolation);
  ex.max_rows = p.plan.rows_for(*plugin);
  summary["isolated"] = ex.isolated;
  if (ex.isolated)
    ex.method = isolate(std::move(ex.method), m.plugin, suite.isolation.timeout_seconds);
  progress.stage("explain " + m.name + " (" + p.config->name + ", " + p.dataset->name + ")",
                 static_cast<int64_t>(p.batches.size()));
  double secs = 0;
  int64_t forward_rows = 0, backward_rows = 0, reused = 0;
  std::map<std::string, std::vector<double>> extras;
  for (size_t bi = 0; bi < p.batches.size(); ++bi) {
    check_interrupted();
    if (shard && !shard->owns(method_index, bi)) {  // another shard's unit
      ex.scores.emplace_back();
      ex.unit_keys.emplace_back();
      continue;
    }
    ExplanationUnit u;
    u.identity = explanation_identity(p, bi, m, *plugin, suite);
    u.key = unit_key(u.identity);
    u.dataset = p.dataset->name;
    u.model = p.config->name;
    u.method = m.name;
    u.plugin = m.plugin;
    std::optional<ExplanationUnit> stored = store ? store->find_explanation(u.key) : std::nullopt;
    if (stored) {
      u = std::move(*stored);
      store->touch_explanation(u.key, p.dataset->name, p.config->name, m.name);
      ++reused;
    } else {
      compute_unit(p, bi, *ex.method, suite, ex.max_rows, u);
      if (store) store->put_explanation(u);
    }
    // The error rows of a later failing batch still record the choices of the first.
    if (bi == 0) ex.info = u.info;
    ex.scores.push_back(scores_from_tokens(u.token_scores, p.batches[bi]));
    ex.unit_keys.push_back(u.key);
    secs += u.seconds;
    forward_rows += u.forward_rows;
    backward_rows += u.backward_rows;
    for (const auto& [k, v] : u.extras) extras[k].insert(extras[k].end(), v.begin(), v.end());
    progress.advance();
  }
  summary["choices"] = ex.info;
  summary["seconds"] = secs;
  summary["n_examples"] = p.ids.size();
  summary["explanations_per_second"] = secs > 0 ? p.ids.size() / secs : 0.0;
  summary["forward_rows"] = forward_rows;
  summary["backward_rows"] = backward_rows;
  summary["extras"] = extras_summary(extras);
  summary["status"] = "ok";
  progress.done(std::to_string(p.ids.size()) + " explanations" +
                (reused ? " (" + std::to_string(reused) + " of " +
                              std::to_string(p.batches.size()) + " batches from the store)"
                        : ""));
}

}  // namespace

std::vector<int64_t> features_per_example(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const Batch& b : batches) {
    if (b.modality == Modality::kText) {
      const at::Tensor words = word_starts(b.word_ids.to(at::kCPU)).sum(1).to(at::kLong);
      for (int64_t i = 0; i < b.size(); ++i) out.push_back(words[i].item<int64_t>());
    } else {
      for (int64_t i = 0; i < b.size(); ++i) out.push_back(b.inputs[i].numel());
    }
  }
  return out;
}

ExplainContext explain_context(const SuiteConfig& suite, const PreparedModel* p, int64_t max_rows) {
  return ExplainContext{suite.seed, max_rows > 0 ? max_rows : suite.batch_cap,
                        p ? &p->split_ids : nullptr};
}

std::vector<at::Tensor> explain_batches(AttributionMethod& method, ModelAdapter& model,
                                        const std::vector<Batch>& batches,
                                        const std::vector<at::Tensor>& targets,
                                        const ExplainContext& ctx, const at::Device& device,
                                        const std::string& reduction) {
  std::vector<at::Tensor> out;
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    Explanation e = method.explain(model, batches[bi], targets[bi].to(device), ctx);
    out.push_back(feature_scores(e.attributions, batches[bi], reduction));
  }
  return out;
}

std::vector<MethodExplanations> explain_methods(const PreparedModel& p, const SuiteConfig& suite,
                                                const Registry& registry, Progress& progress,
                                                RunResults& res, RunStore* store,
                                                const ShardPlanner* shard) {
  const std::vector<int64_t> features = features_per_example(p.batches);
  std::vector<MethodExplanations> out;
  for (size_t k = 0; k < suite.methods.size(); ++k) {
    const MethodConfig& m = suite.methods[k];
    MethodExplanations ex;
    ex.info = json::object();
    ex.name = m.name;
    ex.plugin = m.plugin;
    json summary = {{"dataset", p.dataset->name},
                    {"model", p.config->name},
                    {"method", m.name},
                    {"plugin", m.plugin},
                    {"params", m.params}};
    try {
      explain_one(p, m, suite, registry, progress, features, store, shard, k, ex, summary);
    } catch (const Interrupted&) {
      throw;
    } catch (...) {
      ex.error = in_flight_error();
      summary["status"] = "error";
      summary["error"] = ex.error;
      const std::string where =
          "methods[" + m.name + "] on " + p.config->name + "/" + p.dataset->name;
      res.errors.push_back({{"where", where}, {"message", ex.error}});
      progress.note("error: " + where + ": " + ex.error);
    }
    res.explanations.push_back(summary);
    out.push_back(std::move(ex));
  }
  return out;
}

at::Tensor token_scores(const at::Tensor& attributions, const Batch& batch,
                        const std::string& reduction) {
  check_attributions(attributions, batch);
  at::Tensor a = attributions.to(at::kCPU, at::kFloat);
  if (batch.modality != Modality::kText) {
    a = a.reshape({a.size(0), -1});
    check_finite(a, batch);
    return a;
  }
  if (a.dim() == 3) {
    if (reduction == "sum") {
      a = a.sum(2);
    } else if (reduction == "mean") {
      a = a.mean(2);
    } else if (reduction == "l2") {
      a = a.norm(2, 2);
    } else if (reduction == "l1") {
      a = a.abs().sum(2);
    } else if (reduction == "max_abs") {
      at::Tensor idx = a.abs().argmax(2, /*keepdim=*/true);
      a = a.gather(2, idx).squeeze(2);
    } else {
      throw Error("token_reduction '" + reduction + "': expected sum, mean, l2, l1 or max_abs");
    }
  }
  ATTRIB_CHECK(a.dim() == 2 && a.size(0) == batch.size() && a.size(1) == batch.inputs.size(1),
               "attributions: expected [B, T] or [B, T, d] with B = ", batch.size(),
               ", T = ", batch.inputs.size(1), ", got ", a.sizes());
  a = a.masked_fill(batch.word_ids.to(at::kCPU) < 0, 0.0f);
  check_finite(a, batch);  // after masking: padding and special positions do not count
  return a;
}

at::Tensor feature_scores(const at::Tensor& attributions, const Batch& batch,
                          const std::string& reduction) {
  return scores_from_tokens(token_scores(attributions, batch, reduction), batch);
}

}  // namespace attrib
