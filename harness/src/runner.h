#pragma once
// Runs a suite: dataset -> model -> method -> explanation cache -> metrics -> results.
#include <memory>
#include <string>
#include <vector>

#include "attrib/model.h"
#include "config.h"
#include "dataset.h"
#include "progress.h"
#include "registry.h"
#include "results.h"

namespace attrib {

/// Runs every (dataset, model, method, metric) of `suite`. Each explanation is computed once and
/// shared by all metrics. A failing model, method or metric becomes error rows; the run goes on.
RunResults run_suite(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                     const std::vector<std::string>& command_line);

/// The context block: versions, git commit, host, date, threads, device, seed.
nlohmann::json run_context(const SuiteConfig& suite, const std::vector<std::string>& command_line);

/// Folder where trained built-in models are cached: $ATTRIB_CACHE_DIR, else
/// $XDG_CACHE_HOME/attrib, else ~/.cache/attrib.
std::string cache_dir();

/// Reduces text attributions [B, T, d] to token scores [B, T] ("sum", "mean", "l2", "l1",
/// "max_abs": the signed value of largest magnitude); [B, T] passes through; dense [B, ...] is
/// flattened to [B, n]. Non-feature positions (word_ids < 0) are set to 0.
at::Tensor feature_scores(const at::Tensor& attributions, const Batch& batch,
                          const std::string& reduction);

/// Sets torch's intra-op threads (0 = all cores) and inter-op threads once; returns the count.
int configure_threads(int64_t threads);

}  // namespace attrib
