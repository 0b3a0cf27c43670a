#pragma once
// The keys of the run store's units: a hash of everything that determines a unit's values, so
// that a changed input (data, tokenisation, weights, method version or parameters, target,
// reduction, seed, batch cap, device) never reuses a stale result. README ("The run store")
// explains why each field is in the key.
#include <string>
#include <vector>

#include "analysis.h"
#include "config.h"
#include "prepare.h"
#include "registry.h"

namespace attrib {

/// 32 hex digits: two FNV-1a 64 (different bases) of the identity's JSON text (keys sorted).
std::string unit_key(const nlohmann::json& identity);

/// Content hash of the model's weights: the checkpoint hash of a trained model, the model file's
/// hash (ModelInfo::artifact_hash), or a hash of the saved checkpoint; for a model that can do
/// none of these, of its plugin, version and parameters.
std::string model_content_hash(ModelAdapter& model, const nlohmann::json& record);

/// The identity of batch `bi` of `p` explained by `m`.
nlohmann::json explanation_identity(const PreparedModel& p, size_t bi, const MethodConfig& m,
                                    const PluginInfo& plugin, const SuiteConfig& suite);

/// The identity of metric `mt`'s scores of the explanation unit `explanation_key`.
nlohmann::json score_identity(const std::string& explanation_key, const MetricConfig& mt,
                              const SuiteConfig& suite, const BatchPlan& plan);

/// The identity of analysis `a` of `p` over the methods' explanation units.
nlohmann::json analysis_identity(const PreparedModel& p, const AnalysisConfig& a,
                                 const std::vector<MethodExplanations>& explained,
                                 const SuiteConfig& suite);

}  // namespace attrib
