#pragma once
// The explain stage: every method of the suite explains the prepared split of a (dataset, model)
// once; the resulting feature scores are shared by every metric and analysis. One loop
// (explain_batches) computes every explanation the harness scores, re-explanations included.
#include <map>
#include <string>
#include <vector>

#include "analysis.h"
#include "attrib/method.h"
#include "config.h"
#include "prepare.h"
#include "progress.h"
#include "registry.h"
#include "results.h"
#include "store/store.h"

namespace attrib {

class ShardPlanner;

/// Features per explained example (words for text, input elements for dense), for the methods'
/// cost estimates.
std::vector<int64_t> features_per_example(const std::vector<Batch>& batches);

/// The context every explanation of the suite gets: its seed, at most `max_rows` rows per model
/// call (batch_cap when 0), and with `p` the ids of its explained split (kept in `p`, which must
/// outlive the context).
ExplainContext explain_context(const SuiteConfig& suite, const PreparedModel* p = nullptr,
                               int64_t max_rows = 0);

/// Feature scores (feature_scores with `reduction`) of `method` on `batches` of `model` for the
/// per-batch `targets` (moved to `device`), one [B, n] tensor per batch: the re-explanations of
/// analyses, computed like the explain stage's own (and not stored).
std::vector<at::Tensor> explain_batches(AttributionMethod& method, ModelAdapter& model,
                                        const std::vector<Batch>& batches,
                                        const std::vector<at::Tensor>& targets,
                                        const ExplainContext& ctx, const at::Device& device,
                                        const std::string& reduction);

/// The explain stage for one prepared (dataset, model): one MethodExplanations per suite method
/// (an incompatible, too costly or failing method gets its error, and the run goes on), and one
/// summary per method appended to res.explanations (choices, time, rows, extras, status). With a
/// `store`, each batch is an explanation unit: read from the store when it holds it, computed and
/// committed otherwise. With a `shard`, only the batches the shard owns are explained (the others
/// get an undefined tensor and no key). Throws Interrupted (interrupt.h) between units after
/// SIGINT/SIGTERM.
std::vector<MethodExplanations> explain_methods(const PreparedModel& p, const SuiteConfig& suite,
                                                const Registry& registry, Progress& progress,
                                                RunResults& res, RunStore* store,
                                                const ShardPlanner* shard = nullptr);

/// Reduces text attributions [B, T, d] to token scores [B, T] ("sum", "mean", "l2", "l1",
/// "max_abs": the signed value of largest magnitude); [B, T] passes through; special tokens and
/// padding (word_ids < 0) are set to 0. Dense [B, ...] is flattened to [B, n]. Throws
/// attrib::Error for a map of the wrong type or shape, or with a non-finite value.
at::Tensor token_scores(const at::Tensor& attributions, const Batch& batch,
                        const std::string& reduction);

/// The scores metrics see: token_scores, and for text each word's tokens summed into its first
/// token (other positions 0; with word-level tokens nothing moves).
at::Tensor feature_scores(const at::Tensor& attributions, const Batch& batch,
                          const std::string& reduction);

}  // namespace attrib
