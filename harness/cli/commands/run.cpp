// `attrib run [SUITE.json]`: runs a suite and writes results.json and the leaderboards.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "command.h"
#include "embedded.h"
#include "interrupt.h"
#include "mpi_world.h"
#include "progress.h"
#include "results.h"
#include "run_output.h"
#include "runner.h"
#include "store/store.h"
#include "suite_args.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace attrib::cli {

namespace {

std::string default_out_dir(const std::string& suite, uint64_t seed) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return "results/" + suite + "-" + buf + "-seed" + std::to_string(seed);
}

void add_options(CLI::App& app) {
  app.description(
      "Runs every dataset x model x method x metric of the suite, computes each explanation once "
      "and\nshares it across metrics, and writes results.json, leaderboard.md and "
      "leaderboard.csv.\nFinished work is kept in OUT/store.sqlite: re-running on the same --out "
      "computes only\nwhat is missing (an interrupted run, a new metric or method).");
  add_value(app, "--out", "DIR", "output folder (default: results/<suite>-<UTC time>-seed<N>)");
  add_suite_options(app);
  add_isolation_options(app);
  add_value(app, "--shard", "K/N",
            "compute only shard K of N (its own --out; `attrib merge` combines the shards)");
  app.add_flag("--fresh", "start over: delete OUT/store.sqlite instead of resuming from it");
  app.add_flag("--no-store", "keep no store: nothing to resume, export or re-score later");
  app.add_flag("--print-default", "print the embedded default suite and exit");
}

int run(const Args& args) {
  if (args.flag("--print-default")) {
    std::cout << default_suite_json();
    return kOk;
  }
  std::string out = args.value("--out");
  const MpiWorld& mpi = mpi_world();
  Registry registry;
  SuiteConfig suite = load_suite(args, registry);
  suite.isolation = isolation_options(args);
  // Ranks on one machine share its cores (unless --threads or the suite says otherwise).
  const int n_threads = configure_threads(
      suite.threads > 0 || mpi.local_size <= 1
          ? suite.threads
          : std::max<int64_t>(1, std::thread::hardware_concurrency() / mpi.local_size));
  if (mpi.active() || args.given("--shard")) {
    if (args.flag("--no-store")) throw UsageError("--no-store: a shard keeps its work in a store");
    if (!mpi.active()) {
      if (out.empty()) throw UsageError("--shard: give each shard its own --out DIR");
      return run_shard(suite, registry, parse_shard(args.value("--shard")), out, args);
    }
    if (args.given("--shard"))
      throw UsageError("--shard: under mpirun each rank takes shard rank+1 of the ranks");
    if (out.empty()) throw UsageError("--out: every rank must write under the same --out DIR");
    const ShardSpec spec{mpi.rank + 1, mpi.size};
    const std::string dir = shard_dir(out, spec);
    int code = kInternal;
    try {
      code = run_shard(suite, registry, spec, dir, args);
    } catch (const std::exception& e) {  // every rank must reach the gather below
      std::cerr << "attrib: shard " << spec.label() << ": " << e.what() << "\n";
      code = dynamic_cast<const UsageError*>(&e) ? kUsage : kInput;
    }
    const std::vector<int> codes = mpi_gather_codes(code);
    if (mpi.rank != 0) return code;
    bool failed = false;
    for (size_t r = 0; r < codes.size(); ++r) {
      if (codes[r] == kOk || codes[r] == kPartial) continue;  // error rows are redone by merge
      failed = true;
      const ShardSpec s{static_cast<int64_t>(r) + 1, mpi.size};
      std::cerr << "attrib: shard " << s.label() << " (rank " << r << ") failed with exit "
                << codes[r] << "; its finished units are kept in " << shard_dir(out, s)
                << "; run the same mpirun again to resume\n";
    }
    if (failed) return codes[0] == kInterrupted ? kInterrupted : kInput;
    return merge_shards({out}, out, registry, args);
  }
  if (out.empty()) out = default_out_dir(suite.name, suite.seed);
  claim_out_dir(out);
  std::unique_ptr<RunStore> store = open_store(out, args);
  Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), args.flag("--quiet"));
  if (store) store->on_failure([&](const std::string& m) { progress.note("warning: " + m); });
  progress.note("attrib run: suite '" + suite.name + "', seed " + std::to_string(suite.seed) +
                ", device " + suite.device + ", " + std::to_string(n_threads) + " threads");
  install_interrupt_handlers();
  RunResults results = run_suite(suite, registry, progress, args.command_line(), store.get());
  if (store) progress.note("store: " + store_summary(store->counts()) + " (" + store->path() + ")");
  return finish_run(out, results, suite, registry, store.get(), args);
}

}  // namespace

const Command kRunCommand = {
    "run",
    "[SUITE.json]",
    "run a suite (the embedded default suite when no file is given)",
    "[SUITE.json] [options]",
    add_options,
    run,
};

}  // namespace attrib::cli
