#include "explain.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "attrib/error.h"
#include "cost.h"

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

/// Features per explained example (words for text), for the methods' cost estimates.
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

/// Explains every batch of `p` with method `m`, filling `ex` and the timing fields of `summary`.
void explain_one(const PreparedModel& p, const MethodConfig& m, const SuiteConfig& suite,
                 const Registry& registry, Progress& progress, const std::vector<int64_t>& features,
                 MethodExplanations& ex, json& summary) {
  const PluginInfo* plugin = registry.find(m.plugin, ATTRIB_KIND_METHOD);
  registry.check_compatible(m.plugin, *p.model, m.name, p.config->name);
  if (!suite.force) check_cost(m.name, plugin->metadata, m.params, features);
  ex.method = registry.create_method(m.plugin, m.params, "methods[" + m.name + "].params");
  progress.stage("explain " + m.name + " (" + p.config->name + ", " + p.dataset->name + ")",
                 static_cast<int64_t>(p.batches.size()));
  const auto t0 = std::chrono::steady_clock::now();
  ExplainTotals totals;
  try {
    ex.scores =
        explain_batches(*ex.method, *p.model, p.batches, p.targets, explain_context(suite),
                        p.device, suite.token_reduction, &totals, [&] { progress.advance(); });
  } catch (...) {
    ex.info = totals.info;  // the error rows still record the choices of the batches that ran
    throw;
  }
  ex.info = totals.info;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary["choices"] = ex.info;
  summary["seconds"] = secs;
  summary["n_examples"] = p.ids.size();
  summary["explanations_per_second"] = secs > 0 ? p.ids.size() / secs : 0.0;
  summary["forward_rows"] = totals.forward_rows;
  summary["backward_rows"] = totals.backward_rows;
  summary["extras"] = extras_summary(totals.extras);
  summary["status"] = "ok";
  progress.done(std::to_string(p.ids.size()) + " explanations");
}

}  // namespace

ExplainContext explain_context(const SuiteConfig& suite) {
  return ExplainContext{suite.seed, suite.batch_cap};
}

std::vector<at::Tensor> explain_batches(AttributionMethod& method, ModelAdapter& model,
                                        const std::vector<Batch>& batches,
                                        const std::vector<at::Tensor>& targets,
                                        const ExplainContext& ctx, const at::Device& device,
                                        const std::string& reduction, ExplainTotals* totals,
                                        const std::function<void()>& on_batch) {
  std::vector<at::Tensor> out;
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    Explanation e = method.explain(model, batches[bi], targets[bi].to(device), ctx);
    if (totals && bi == 0) totals->info = e.info;
    out.push_back(feature_scores(e.attributions, batches[bi], reduction));
    if (totals) {
      totals->forward_rows += e.forward_rows;
      totals->backward_rows += e.backward_rows;
      for (const auto& [k, v] : e.extras) {
        at::Tensor t = v.to(at::kCPU, at::kDouble).contiguous();
        auto& all = totals->extras[k];
        all.insert(all.end(), t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
      }
    }
    if (on_batch) on_batch();
  }
  return out;
}

std::vector<MethodExplanations> explain_methods(const PreparedModel& p, const SuiteConfig& suite,
                                                const Registry& registry, Progress& progress,
                                                RunResults& res) {
  const std::vector<int64_t> features = features_per_example(p.batches);
  std::vector<MethodExplanations> out;
  for (const auto& m : suite.methods) {
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
      explain_one(p, m, suite, registry, progress, features, ex, summary);
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
  const at::Tensor a = token_scores(attributions, batch, reduction);
  if (batch.modality != Modality::kText) return a;
  // Subword tokens add up to their word, which is scored at its first token.
  return sum_to_word_starts(a, batch.word_ids.to(at::kCPU));
}

}  // namespace attrib
