#pragma once
// What `attrib run`, a shard of a run and `attrib merge` share: claiming the output folder, the
// store's summary line and the end of a run (results, leaderboards, messages, exit code).
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "config.h"
#include "registry.h"
#include "results.h"
#include "shard.h"
#include "store/store.h"

namespace attrib::cli {

/// Makes `out` and checks that it takes a file before any dataset or model work, so that an
/// unwritable --out does not throw a whole run away. Then locks it (flock on OUT/.attrib.lock,
/// held until exit) so that two runs never overwrite each other's files; the lock file keeps the
/// holder's pid for the second run's message. Throws InputError.
void claim_out_dir(const std::string& out);

/// The run store OUT/store.sqlite (deleted first with --fresh), or null with --no-store.
std::unique_ptr<RunStore> open_store(const std::string& out, const Args& args);

/// "N explanation units computed, M reused; ..." for the progress output.
std::string store_summary(const StoreCounts& c);

/// The command line that resumes this run: the same words, with --out when it was not given.
std::string resume_command(const std::vector<std::string>& words, const std::string& out);

/// Writes results.json and the leaderboards of a finished (or interrupted) run into `out`,
/// prints where they are and what failed, and returns the exit code (kInterrupted, kPartial,
/// kPlugin or kOk).
int finish_run(const std::string& out, RunResults& results, const SuiteConfig& suite,
               const Registry& registry, const RunStore* store, const Args& args);

/// The folder of shard `spec` under a run's --out (MPI ranks): OUT/shard-K-of-N.
std::string shard_dir(const std::string& out, const ShardSpec& spec);

/// Runs shard `spec` of `suite` into `out` (its own store and shard.json; no results or
/// leaderboards: `attrib merge` writes those). Returns the exit code.
int run_shard(const SuiteConfig& suite, const Registry& registry, const ShardSpec& spec,
              const std::string& out, const Args& args);

/// Merges the shards found in `dirs` (shard folders, or folders holding shard-K-of-N folders)
/// into `out`: checks that they are the N shards of one suite, seed and attrib version, copies
/// their units into OUT/store.sqlite and runs the suite on it (every unit reused; the analyses,
/// which need every method, are computed here). Returns the exit code; throws InputError for
/// missing, duplicate, incomplete or mismatched shards.
int merge_shards(const std::vector<std::string>& dirs, const std::string& out, Registry& registry,
                 const Args& args);

}  // namespace attrib::cli
