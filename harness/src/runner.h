#pragma once
// Runs a suite as a one-way sequence of stages per (dataset, model):
//   prepare (prepare.h: datasets, vocabularies, models, the explained split)
//   -> explain (explain.h: every method once) -> [run store] -> score (score.h: every metric)
//   -> analyse (analysis.h: agreement, randomisation, throughput) -> RunResults (results.h).
// With a run store (store/store.h) every unit of work is kept on disk as it finishes and reused.
#include <string>
#include <vector>

#include "config.h"
#include "explain.h"
#include "files.h"
#include "prepare.h"
#include "progress.h"
#include "registry.h"
#include "results.h"
#include "shard.h"
#include "store/store.h"
#include "train.h"

namespace attrib {

/// Runs every (dataset, model, method, metric) of `suite`. Each explanation is computed once and
/// shared by all metrics and analyses. A failing model, method or metric becomes error rows; the
/// run goes on. With a `store`, finished units are read from it and new ones committed to it
/// (context.store counts both). After SIGINT/SIGTERM (interrupt.h) the run stops at the next
/// unit boundary and returns what it has, with context.incomplete = true. With a `shard`, only
/// the shard's units are computed and no analysis runs (attrib merge runs them): the rows are
/// partial, and context.shard records the plan's balance.
RunResults run_suite(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                     const std::vector<std::string>& command_line, RunStore* store = nullptr,
                     ShardPlanner* shard = nullptr);

/// The context block: versions, git commit, host, date, threads, device, seed.
nlohmann::json run_context(const SuiteConfig& suite, const std::vector<std::string>& command_line);

/// Sets torch's intra-op threads (0 = all cores) and inter-op threads once, and OpenBLAS's threads
/// to the machine's hardware threads (whatever the process's affinity, so that its numbers do not
/// depend on it); returns the intra-op count.
int configure_threads(int64_t threads);

/// OpenBLAS's thread count (0 when the BLAS is not OpenBLAS).
int blas_threads();

}  // namespace attrib
