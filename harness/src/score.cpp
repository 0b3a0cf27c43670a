#include "score.h"

#include <chrono>

#include "attrib/error.h"
#include "interrupt.h"
#include "metered_model.h"
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

/// What scoring one row cost: its units' seconds, the model rows and seconds inside them and
/// the rows sharing saved; `costed` counts the units that know their model rows (stores written
/// before attrib kept them do not).
struct RowCost {
  int64_t computed = 0, reused = 0, costed = 0, forward_rows = 0, saved_rows = 0;
  double seconds = 0, model_seconds = 0;
};

/// The model of `p` metered, and the forwards shared between the metrics and methods that score
/// its batches: the unperturbed logits of each batch, prepare's when they were forwarded at the
/// plan's rows per call (the same call); else the first metric that needs them forwards them
/// (perturb::base_logits).
struct ScoringModel {
  ScoringModel(const PreparedModel& p, const SuiteConfig& suite)
      : model(*p.model), shared(p.batches.size()) {
    if (p.plan.forward_rows == suite.batch_cap)
      for (size_t bi = 0; bi < shared.size() && bi < p.logits.size(); ++bi)
        shared[bi].base_logits = p.logits[bi];
  }
  MeteredModel model;
  std::vector<SharedForwards> shared;
};

/// Scores every batch of `ex` with `metric` into `row` (scores, components, aggregation). With
/// a `store`, each batch is a score unit: read when the store holds it, computed and committed
/// otherwise. The row's metric choices are those Metric::info() gave after its last batch.
void score_row(const PreparedModel& p, const MethodExplanations& ex, Metric& metric,
               const MetricConfig& mt, const SuiteConfig& suite, Progress& progress,
               RunStore* store, const ShardPlanner* shard, size_t method_index, ScoringModel& sm,
               ScoreRow& row, RowCost& cost) {
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
      ++cost.reused;
    } else {
      SharedForwards& shared = sm.shared[bi];
      MetricInput in{sm.model,           p.batches[bi], ex.scores[bi],       p.targets[bi],
                     &p.annotations[bi], suite.seed,    p.plan.forward_rows, &shared};
      const ModelMeter before = sm.model.meter();
      const int64_t saved_before = shared.saved_rows;
      const auto t0 = std::chrono::steady_clock::now();
      u.scores = metric.score(in);
      u.components = metric.components();
      u.curves = metric.curves();
      u.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const ModelMeter used = sm.model.meter() - before;
      u.costed = true;
      u.forward_rows = used.rows;
      u.model_seconds = used.seconds;
      u.saved_rows = shared.saved_rows - saved_before;
      ++cost.computed;
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
    cost.seconds += u.seconds;
    if (u.costed) {
      ++cost.costed;
      cost.forward_rows += u.forward_rows;
      cost.saved_rows += u.saved_rows;
      cost.model_seconds += u.model_seconds;
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

json scoring_entry(const ScoreRow& row, const RowCost& c) {
  // Model rows and seconds only when every unit knows them (a resumed old store's do not).
  const bool known = c.costed == c.computed + c.reused;
  return {{"dataset", row.dataset},
          {"model", row.model},
          {"method", row.method},
          {"metric", row.metric},
          {"seconds", c.seconds},
          {"units_computed", c.computed},
          {"units_reused", c.reused},
          {"forward_rows", known ? json(c.forward_rows) : json(nullptr)},
          {"saved_rows", known ? json(c.saved_rows) : json(nullptr)},
          {"model_seconds", known ? json(c.model_seconds) : json(nullptr)}};
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
  ScoringModel sm(p, suite);
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
      RowCost cost;
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
          score_row(p, ex, *metric, mt, suite, progress, store, shard, k, sm, row, cost);
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
      if (cost.computed + cost.reused > 0) res.scoring.push_back(scoring_entry(row, cost));
      res.rows.push_back(std::move(row));
    }
    progress.done("scored " + std::to_string(explained.size()) + " methods");
  }
}

}  // namespace attrib
