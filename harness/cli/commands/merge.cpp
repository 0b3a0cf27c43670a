// Sharded runs: one shard (`attrib run --shard K/N`, or an MPI rank) and `attrib merge`, which
// checks that it has the N shards of one suite and combines their stores into one run.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "attrib/error.h"
#include "files.h"
#include "interrupt.h"
#include "progress.h"
#include "run_output.h"
#include "runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace attrib::cli {

namespace {

constexpr int kShardSchemaVersion = 1;

Progress make_progress(const Args& args) {
  return Progress(isatty(STDERR_FILENO) && !std::getenv("CI"), args.flag("--quiet"));
}

struct Shard {
  fs::path dir;
  json manifest;
  int64_t index() const { return manifest.value("index", int64_t{0}); }
  int64_t count() const { return manifest.value("count", int64_t{0}); }
};

Shard read_shard(const fs::path& dir) {
  const fs::path file = dir / "shard.json";
  json m;
  try {
    m = read_json_file(file.string());
  } catch (const Error& e) {
    throw InputError(e.what());
  }
  if (!m.is_object() || m.value("shard_schema_version", 0) != kShardSchemaVersion ||
      !m.contains("suite_document") || !m["index"].is_number_integer() ||
      !m["count"].is_number_integer())
    throw InputError(file.string() + ": expected a shard manifest (shard_schema_version " +
                     std::to_string(kShardSchemaVersion) +
                     ", suite_document, index, count), got another file");
  return {dir, m};
}

/// The shards under `dirs`: each is a shard folder or holds shard-K-of-N folders.
std::vector<Shard> find_shards(const std::vector<std::string>& dirs) {
  std::vector<Shard> out;
  for (const std::string& d : dirs) {
    if (fs::exists(fs::path(d) / "shard.json")) {
      out.push_back(read_shard(d));
      continue;
    }
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.is_directory() && e.path().filename().string().rfind("shard-", 0) == 0 &&
          fs::exists(e.path() / "shard.json"))
        found.push_back(e.path());
    if (ec) throw InputError(d + ": cannot read the folder (" + ec.message() + ")");
    if (found.empty())
      throw InputError(d + ": no shard here (expected shard.json, or shard-K-of-N folders)");
    std::sort(found.begin(), found.end());
    for (const fs::path& f : found) out.push_back(read_shard(f));
  }
  return out;
}

/// Throws InputError unless `shards` are exactly shards 1..N of one suite, seed and attrib, each
/// complete.
void check_shards(const std::vector<Shard>& shards) {
  const Shard& first = shards.front();
  const int64_t n = first.count();
  std::map<int64_t, const Shard*> by_index;
  for (const Shard& s : shards) {
    const std::string where = (s.dir / "shard.json").string();
    if (s.count() != n)
      throw InputError(where + ": shard " + std::to_string(s.index()) + " of " +
                       std::to_string(s.count()) + ", but " + first.dir.string() + " is one of " +
                       std::to_string(n) + " shards");
    for (const char* key : {"suite_document", "seed", "attrib_version", "force"})
      if (s.manifest.value(key, json()) != first.manifest.value(key, json()))
        throw InputError(where + ": a shard of another run than " + first.dir.string() + " (its " +
                         key + " differs: suite '" + s.manifest.value("suite", std::string()) +
                         "' vs '" + first.manifest.value("suite", std::string()) +
                         "'); merge only the shards of one suite, seed and attrib version");
    if (!by_index.emplace(s.index(), &s).second)
      throw InputError(where + ": shard " + std::to_string(s.index()) + "/" + std::to_string(n) +
                       " is also in " + by_index[s.index()]->dir.string());
    if (s.manifest.value("status", std::string()) != "complete")
      throw InputError(where + ": shard " + std::to_string(s.index()) + "/" + std::to_string(n) +
                       " is " + s.manifest.value("status", std::string("unfinished")) +
                       "; run it again to finish it, then merge");
  }
  std::string missing;
  for (int64_t k = 1; k <= n; ++k)
    if (!by_index.count(k))
      missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(n);
  if (!missing.empty())
    throw InputError("missing shard(s) " + missing + " of suite '" +
                     first.manifest.value("suite", std::string()) + "': nothing merged");
}

void add_options(CLI::App& app) {
  app.description(
      "Combines the stores of the N shards of a run (`attrib run --shard K/N`) into OUT and "
      "writes\nresults.json and the leaderboards, identical to one unsharded run. Each DIR is a "
      "shard's --out,\nor a folder holding shard-K-of-N folders. The analyses (agreement, "
      "randomisation,\nthroughput) need every method and are computed here.");
  add_value(app, "--out", "DIR", "output folder of the merged run (required)");
  add_value(app, "--plugin-dir", "DIR", "also load plugins from DIR (repeatable)");
  app.add_flag("--quiet", "no progress output");
}

int run(const Args& args) {
  if (args.positional().empty()) throw UsageError("expected the shard folders to merge");
  const std::string out = args.value("--out");
  if (out.empty()) throw UsageError("--out: expected the merged run's folder");
  Registry registry;
  load_plugins(registry, args.values("--plugin-dir"));
  report_load_errors(registry);
  return merge_shards(args.positional(), out, registry, args);
}

}  // namespace

std::string shard_dir(const std::string& out, const ShardSpec& spec) {
  return (fs::path(out) /
          ("shard-" + std::to_string(spec.index) + "-of-" + std::to_string(spec.count)))
      .string();
}

int run_shard(const SuiteConfig& suite, const Registry& registry, const ShardSpec& spec,
              const std::string& out, const Args& args) {
  claim_out_dir(out);
  std::unique_ptr<RunStore> store = open_store(out, args);
  Progress progress = make_progress(args);
  store->on_failure([&](const std::string& m) { progress.note("warning: " + m); });
  progress.note("attrib run: suite '" + suite.name + "', seed " + std::to_string(suite.seed) +
                ", shard " + spec.label());
  install_interrupt_handlers();
  ShardPlanner planner(spec);
  const auto t0 = std::chrono::steady_clock::now();
  RunResults results =
      run_suite(suite, registry, progress, args.command_line(), store.get(), &planner);
  const bool incomplete = results.context.value("incomplete", false) || store->failed();
  const json manifest = {
      {"shard_schema_version", kShardSchemaVersion},
      {"suite", suite.name},
      {"suite_document", suite.document},
      {"force", suite.force},
      {"isolation", isolation_json(suite.isolation)},
      {"seed", suite.seed},
      {"attrib_version", ATTRIB_VERSION},
      {"index", spec.index},
      {"count", spec.count},
      {"status", incomplete ? "incomplete" : "complete"},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
      {"plan", results.context["shard"]},
      {"store", results.context["store"]},
      {"errors", results.errors},
      {"context", results.context}};
  write_file_atomically((fs::path(out) / "shard.json").string(), manifest.dump(2));
  progress.note("shard " + spec.label() + ": " + store_summary(store->counts()));
  if (incomplete) {
    std::cerr << "attrib: shard " << spec.label() << " interrupted; resume with:\n  "
              << resume_command(args.command_line(), out) << "\n";
    return kInterrupted;
  }
  std::cout << "shard " << spec.label() << ": " << (fs::path(out) / "shard.json").string()
            << "\nmerge the shards with: attrib merge SHARD_DIR... --out DIR\n";
  return results.errors.empty() ? kOk : kPartial;
}

int merge_shards(const std::vector<std::string>& dirs, const std::string& out, Registry& registry,
                 const Args& args) {
  const std::vector<Shard> shards = find_shards(dirs);
  check_shards(shards);
  SuiteConfig suite;
  try {
    suite = parse_suite(shards.front().manifest["suite_document"], registry);
  } catch (const Error& e) {
    throw InputError((shards.front().dir / "shard.json").string() +
                     ": suite_document: " + e.what());
  }
  suite.force = shards.front().manifest.value("force", false);
  // The analyses re-explain: they isolate the methods as the shards did.
  suite.isolation = isolation_from_json(shards.front().manifest.value("isolation", json()));
  configure_threads(suite.threads);
  claim_out_dir(out);
  RunStore store((fs::path(out) / "store.sqlite").string());
  Progress progress = make_progress(args);
  store.on_failure([&](const std::string& m) { progress.note("warning: " + m); });
  json merged = json::array();
  for (const Shard& s : shards) {
    store.absorb((s.dir / "store.sqlite").string());
    merged.push_back({{"dir", s.dir.string()},
                      {"index", s.index()},
                      {"seconds", s.manifest.value("seconds", 0.0)},
                      {"units", s.manifest.value("store", json()).value("units", json())}});
  }
  progress.note("attrib merge: " + std::to_string(shards.size()) + " shards of suite '" +
                suite.name + "' into " + out);
  install_interrupt_handlers();
  RunResults results = run_suite(suite, registry, progress, args.command_line(), &store);
  results.context["merged_shards"] = merged;
  const StoreCounts& c = store.counts();
  progress.note("store: " + store_summary(c));
  if (c.explanations_computed > 0 || c.scores_computed > 0)
    progress.note("note: " + std::to_string(c.explanations_computed + c.scores_computed) +
                  " units were in no shard's store (e.g. a failed method) and were computed here");
  return finish_run(out, results, suite, registry, &store, args);
}

const Command kMergeCommand = {
    "merge",
    "DIR...",
    "merge the shards of a sharded run into one run (results, leaderboards, store)",
    "DIR... --out DIR",
    add_options,
    run,
};

}  // namespace attrib::cli
