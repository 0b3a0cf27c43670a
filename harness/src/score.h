#pragma once
// The score stage: every metric of the suite scores every method's explanations of one prepared
// (dataset, model). One metric instance scores all methods, so that a metric whose perturbations
// do not depend on the attribution forwards each of them once.
#include <vector>

#include "analysis.h"
#include "config.h"
#include "metric.h"
#include "prepare.h"
#include "progress.h"
#include "registry.h"
#include "results.h"
#include "store/store.h"

namespace attrib {

class ShardPlanner;

/// Appends one ScoreRow per (metric, method) to res.rows, in suite order. A method whose
/// explanation failed, a metric that fails, or a metric whose needs (MetricSpec::needs: the
/// dataset's annotations, model capabilities) the pair does not meet gives a row with its error
/// and no scores; the run goes on. `explained[i]` belongs to suite.methods[i]. With a `store`,
/// each (metric, explanation batch) is a score unit, read from the store when it holds it. With a
/// `shard`, only the shard's batches are scored (the rows are partial).
void score_metrics(const PreparedModel& p, const std::vector<MethodExplanations>& explained,
                   const SuiteConfig& suite, const Registry& registry, Progress& progress,
                   RunResults& res, RunStore* store, const ShardPlanner* shard = nullptr);

/// Why `p` cannot give metric `spec` what it needs ("" when it can): "annotations" needs a
/// dataset with annotations on the explained split; "model" the model's forward; any other need
/// names a model capability (attrib/abi.h).
std::string unmet_need(const MetricSpec& spec, const PreparedModel& p);

}  // namespace attrib
