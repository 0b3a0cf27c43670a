#include "runner.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include "attrib/error.h"
#include "interrupt.h"
#include "memory_policy.h"
#include "score.h"
#include "store/unit_key.h"

namespace attrib {

using nlohmann::json;

namespace {

std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// The analyse stage for one prepared (dataset, model): each analysis of the suite, in catalogue
/// order, over the explanations; its entries go under its name in the results.
/// With a `store`, each analysis of the pair is one unit: read when the store holds it; computed
/// and committed otherwise, unless it reported a failure (then it runs again next time).
void analyse(const PreparedModel& p, const std::vector<MethodExplanations>& explained,
             const SuiteConfig& suite, const Registry& registry, Progress& progress,
             RunStore* store, RunResults& res) {
  if (suite.analyses.empty()) return;
  const ExplainContext ctx = explain_context(suite, &p, p.plan.forward_rows);
  AnalysisInput in{p.dataset->name, p.config->name, *p.model, p.batches,
                   p.targets,       p.ids,          explained};
  if (p.dataset->modality == Modality::kDense) in.feature_shape = p.dataset->feature_shape;
  in.device = suite.device;
  in.context = ctx;
  in.batch_cap = suite.batch_cap;
  in.bootstrap_resamples = suite.stats.bootstrap_resamples;
  in.confidence = suite.stats.confidence;
  in.explain = [&](AttributionMethod& method, ModelAdapter& model,
                   const std::vector<Batch>& batches, const std::vector<at::Tensor>& targets) {
    // A re-explanation uses the rows per call of the method's own explanations.
    ExplainContext c = ctx;
    for (const MethodExplanations& ex : explained)
      if (ex.method.get() == &method && ex.max_rows > 0) c.max_rows = ex.max_rows;
    return explain_batches(method, model, batches, targets, c, p.device, suite.token_reduction);
  };
  in.retrain = retrainer(p, registry, progress);
  in.fail = [&](const std::string& where, const std::string& message) {
    res.errors.push_back({{"where", where}, {"message", message}});
    progress.note("error: " + where + ": " + message);
  };
  for (const AnalysisConfig& a : suite.analyses) {
    check_interrupted();
    json& all = res.analyses[a.name];
    if (all.is_null()) all = json::array();
    AnalysisUnit u;
    u.identity = analysis_identity(p, a, explained, suite);
    u.key = unit_key(u.identity);
    if (std::optional<AnalysisUnit> stored = store ? store->find_analysis(u.key) : std::nullopt) {
      for (auto& e : stored->entries) all.push_back(std::move(e));
      ++store->counts().analyses_reused;
      progress.note(a.name + " (" + p.config->name + ", " + p.dataset->name + "): from the store");
      continue;
    }
    const size_t errors_before = res.errors.size();
    try {
      const auto t0 = std::chrono::steady_clock::now();
      for (auto& e : find_analysis(a.name).create(a.params)->run(in, progress))
        u.entries.push_back(std::move(e));
      u.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (const auto& e : u.entries) all.push_back(e);
      u.analysis = a.name;
      u.dataset = p.dataset->name;
      u.model = p.config->name;
      if (store && res.errors.size() == errors_before) store->put_analysis(u);
    } catch (const Interrupted&) {
      throw;
    } catch (...) {
      in.fail(a.name + " on " + p.config->name + "/" + p.dataset->name, in_flight_error());
    }
  }
}

}  // namespace

int blas_threads() {
  using GetFn = int (*)();
  static const auto get =
      reinterpret_cast<GetFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

int configure_threads(int64_t threads) {
  static bool interop_set = false;
  // OpenBLAS splits a product by its own thread count, and that changes the floating-point
  // result. It starts with the CPUs the process may use (its affinity: mpirun binds ranks to
  // cores, taskset and cgroups restrict them), so a bound process gave other numbers than an
  // unbound one. Pinned to the machine's hardware threads, every process on a machine computes
  // alike; the count is recorded in context.threads.blas.
  using SetFn = void (*)(int);
  if (const auto set = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  // More threads than cores only oversubscribes (and 100000 threads would exhaust memory).
  if (threads > cores)
    std::cerr << "attrib: warning: " << threads << " threads requested; using the " << cores
              << " hardware threads\n";
  const int n = static_cast<int>(threads > 0 ? std::min(threads, cores) : cores);
  at::set_num_threads(n);
  if (!interop_set) {
    interop_set = true;
    try {
      at::set_num_interop_threads(std::max(1, n / 2));
    } catch (const std::exception&) {
      // Already started by an earlier parallel call: keep its setting.
    }
  }
  return n;
}

json run_context(const SuiteConfig& suite, const std::vector<std::string>& command_line) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::string commit = command_output("git -C '" ATTRIB_SOURCE_DIR "' rev-parse HEAD 2>/dev/null");
  std::string dirty =
      command_output("git -C '" ATTRIB_SOURCE_DIR "' status --porcelain -uno 2>/dev/null");
  return {{"attrib_version", ATTRIB_VERSION},
          {"abi_version", ATTRIB_ABI_VERSION},
          {"libtorch_version", TORCH_VERSION},
          {"build_fingerprint", host_fingerprint()},
          {"git_commit", commit.empty() ? "unknown" : commit},
          {"git_dirty", !dirty.empty()},
          {"host", host},
          {"date_utc", utc_now()},
          {"threads",
           {{"intra_op", at::get_num_threads()},
            {"inter_op", at::get_num_interop_threads()},
            {"blas", blas_threads()},
            // How idle OpenMP threads wait (main.cpp sets PASSIVE unless the user chose).
            {"omp_wait_policy",
             std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset"}}},
          {"memory", memory_policy()},
          {"device", suite.device},
          {"cuda_available", at::hasCUDA()},
          {"seed", suite.seed},
          {"batch_cap", suite.batch_cap},
          {"batch_rows", suite.batch_rows},
          {"machine", machine_identity()},
          {"explain_batch", suite.explain_batch},
          {"isolation", isolation_json(suite.isolation)},
          {"suite", suite.name},
          {"command_line", command_line}};
}

RunResults run_suite(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                     const std::vector<std::string>& command_line, RunStore* store,
                     ShardPlanner* shard) {
  RunResults res;
  res.context = run_context(suite, command_line);
  res.suite = suite.resolved;
  if (store) store->begin_run(res.context);
  try {
    for_each_model(suite, registry, progress, res, [&](PreparedModel& p) {
      if (shard) shard->plan(p, suite, registry);
      const std::vector<MethodExplanations> explained =
          explain_methods(p, suite, registry, progress, res, store, shard);
      score_metrics(p, explained, suite, registry, progress, res, store, shard);
      if (!shard) analyse(p, explained, suite, registry, progress, store, res);
    });
  } catch (const Interrupted&) {
    res.context["incomplete"] = true;
  }
  if (store) {
    store->end_run(res.context.value("incomplete", false) ? "incomplete" : "complete");
    res.context["store"] = {{"path", store->path()}, {"units", store->counts().to_json()}};
  }
  if (shard) {
    const auto& loads = shard->loads();
    const auto& naive = shard->naive_loads();
    auto max_over_mean = [](const std::vector<double>& v) {
      double sum = 0, mx = 0;
      for (double x : v) sum += x, mx = std::max(mx, x);
      return sum > 0 ? mx / (sum / v.size()) : 1.0;
    };
    res.context["shard"] = {{"index", shard->spec().index},
                            {"count", shard->spec().count},
                            {"estimated_rows", loads},
                            {"max_over_mean", max_over_mean(loads)},
                            {"round_robin_max_over_mean", max_over_mean(naive)}};
  }
  return res;
}

}  // namespace attrib
