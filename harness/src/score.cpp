#include "score.h"

#include <chrono>

#include "attrib/error.h"
#include "interrupt.h"
#include "shard.h"
#include "store/unit_key.h"

namespace attrib {

using nlohmann::json;

namespace {

json method_info_of(const MethodConfig& m, const PluginInfo& p, const json& explainer_info,
                    const SuiteConfig& suite) {
  return {{"plugin", m.plugin},     {"version", p.version},
          {"params", m.params},     {"choices", explainer_info},
          {"target", suite.target}, {"token_reduction", suite.token_reduction}};
}

/// Scores every batch of `ex` with `metric` into `row` (scores, components, aggregation). With
/// a `store`, each batch is a score unit: read when the store holds it, computed and committed
/// otherwise. The row's metric choices are those Metric::info() gave after its last batch.
void score_row(const PreparedModel& p, const MethodExplanations& ex, Metric& metric,
               const MetricConfig& mt, const SuiteConfig& suite, Progress& progress,
               RunStore* store, const ShardPlanner* shard, size_t method_index, ScoreRow& row) {
  json info;
  for (size_t bi = 0; bi < p.batches.size(); ++bi) {
    check_interrupted();
    if (shard && !shard->owns(method_index, bi)) continue;  // another shard's unit
    ScoreUnit u;
    u.explanation_key = ex.unit_keys.at(bi);
    u.identity = score_identity(u.explanation_key, mt, suite, p.plan);
    u.key = unit_key(u.identity);
    std::optional<ScoreUnit> stored = store ? store->find_score(u.key) : std::nullopt;
    if (stored) {
      u = std::move(*stored);
      store->touch_score(u.key);
    } else {
      MetricInput in{*p.model,           p.batches[bi], ex.scores[bi],      p.targets[bi],
                     &p.annotations[bi], suite.seed,    p.plan.forward_rows};
      const auto t0 = std::chrono::steady_clock::now();
      u.scores = metric.score(in);
      u.components = metric.components();
      u.curves = metric.curves();
      u.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      u.info = metric.info();
      u.aggregation = metric.aggregation();
      u.dataset = p.dataset->name;
      u.model = p.config->name;
      u.method = ex.name;
      u.metric = mt.name;
      u.batch = static_cast<int64_t>(bi);
      for (const auto& [name, part] : u.components)
        ATTRIB_CHECK(part.size() == u.scores.size(), "metric ", mt.name, ": component '", name,
                     "' has ", part.size(), " values for ", u.scores.size(), " examples");
      if (store) store->put_score(u);
    }
    row.scores.insert(row.scores.end(), u.scores.begin(), u.scores.end());
    for (auto& [name, part] : u.components) {
      std::vector<double>& all = row.components[name];
      all.insert(all.end(), part.begin(), part.end());
    }
    info = std::move(u.info);
    row.aggregation = u.aggregation;
    progress.advance();
  }
  row.example_ids = p.ids;
  if (p.batches.empty()) row.aggregation = metric.aggregation();
  for (const auto& [name, part] : row.components)
    ATTRIB_CHECK(part.size() == row.scores.size(), "metric ", mt.name, ": component '", name,
                 "' has ", part.size(), " values for ", row.scores.size(), " examples");
  row.metric_info["choices"] = p.batches.empty() ? metric.info() : info;
  row.metric_info["aggregation"] = row.aggregation;
}

}  // namespace

std::string unmet_need(const MetricSpec& spec, const PreparedModel& p) {
  for (const std::string& need : spec.needs) {
    if (need == "annotations") {
      bool any = false;
      for (const auto& a : p.annotations) any = any || a.mask.defined();
      if (!any)
        return "needs annotations, but dataset '" + p.dataset->name + "' has none on split '" +
               p.dataset_config->split + "'";
      continue;
    }
    const uint64_t cap = capability_from_name(need == "model" ? "forward" : need);
    if (!(p.model->info().capabilities & cap))
      return "needs the model capability '" + need + "', which model '" + p.config->name +
             "' lacks";
  }
  return "";
}

void score_metrics(const PreparedModel& p, const std::vector<MethodExplanations>& explained,
                   const SuiteConfig& suite, const Registry& registry, Progress& progress,
                   RunResults& res, RunStore* store, const ShardPlanner* shard) {
  for (const auto& mt : suite.metrics) {
    const MetricSpec& spec = find_metric(mt.metric);
    progress.stage("metric " + mt.name + " (" + p.config->name + ", " + p.dataset->name + ")",
                   static_cast<int64_t>(explained.size() * p.batches.size()));
    std::unique_ptr<Metric> metric;
    std::string create_error;
    const std::string unmet = unmet_need(spec, p);
    if (!unmet.empty()) {
      create_error = "skipped: metric '" + spec.name + "' " + unmet;
      progress.note("metric " + mt.name + " on " + p.config->name + "/" + p.dataset->name + ": " +
                    create_error);
    } else {
      try {
        metric = spec.create(mt.params);
      } catch (...) {
        create_error = in_flight_error();
      }
    }
    for (size_t k = 0; k < explained.size(); ++k) {
      const MethodExplanations& ex = explained[k];
      const MethodConfig& mc = suite.methods[k];
      ScoreRow row;
      row.dataset = p.dataset->name;
      row.model = p.config->name;
      row.method = mc.name;
      row.metric = mt.name;
      row.direction = spec.direction;
      row.method_info =
          method_info_of(mc, *registry.find(mc.plugin, ATTRIB_KIND_METHOD), ex.info, suite);
      row.metric_info = {{"metric", spec.name}, {"seed", suite.seed}, {"choices", mt.params}};
      if (!mt.profile.empty()) row.metric_info["profile"] = mt.profile;
      if (!ex.ok()) {
        row.error = "explanation failed: " + ex.error;
      } else if (!unmet.empty()) {
        row.error = create_error;  // a skipped metric is not a failure of the run
      } else {
        try {
          if (!metric) throw Error(create_error);
          score_row(p, ex, *metric, mt, suite, progress, store, shard, k, row);
        } catch (const Interrupted&) {
          throw;
        } catch (...) {
          row.scores.clear();
          row.components.clear();
          row.error = in_flight_error();
          const std::string where = "metrics[" + mt.name + "] for " + mc.name;
          res.errors.push_back({{"where", where}, {"message", row.error}});
          progress.note("error: " + where + ": " + row.error);
        }
      }
      res.rows.push_back(std::move(row));
    }
    progress.done("scored " + std::to_string(explained.size()) + " methods");
  }
}

}  // namespace attrib
