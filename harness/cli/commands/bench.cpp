// `attrib bench [SUITE.json]`: the suite's throughput workloads through Google Benchmark.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "attrib/error.h"
#include "attrib/params.h"
#include "command.h"
#include "progress.h"
#include "runner.h"
#include "suite_args.h"
#include "throughput/throughput.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Times every method of the suite (and the model's raw forward+backward as the reference "
      "limit) on\nevery (dataset, model) through Google Benchmark: one benchmark per method x "
      "model x batch size x\ndevice, registered at run time, after warm-up, with the suite's "
      "\"throughput\" settings (batch\nsizes, repetitions >= 9 by default, examples per "
      "repetition). Counter explanations_per_second.\nThe attrib context (version, git commit, "
      "LibTorch, fingerprint, suite, seed, device, threads) is\nadded to the benchmark context. "
      "Before the benchmarks, the model's limit (forward and\nforward+backward rows/s at its "
      "best rows per call up to batch_cap) is measured; counter\nfraction_of_limit is the share "
      "of it each workload reaches for the model rows it needs.");
  add_suite_options(app);
  app.footer(
      "Google Benchmark's own flags pass through: --benchmark_out=FILE "
      "--benchmark_out_format=json\n(JSON report), --benchmark_filter=REGEX, "
      "--benchmark_repetitions=N, ...");
}

// Registers one benchmark per (dataset, model, method or reference, batch size) of the suite and
// runs them; Args::passthrough() holds the --benchmark_* flags. Returns 0, or 5 when a dataset,
// model or method failed (reported on stderr; the other benchmarks still run).
int run(const Args& args) {
  Registry registry;
  const SuiteConfig suite = load_suite(args, registry);
  configure_threads(suite.threads);
  const ThroughputOptions opts =
      throughput_options(suite.analysis("throughput").is_null()
                             ? resolve_params(throughput_schema(), json::object(), "throughput")
                             : suite.analysis("throughput"),
                         "throughput");
  Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), args.flag("--quiet"));
  RunResults res;  // collects dataset/model records and errors
  // Workloads must outlive registration: the benchmarks run after for_each_model returns.
  std::vector<std::shared_ptr<ModelAdapter>> models;
  std::vector<std::shared_ptr<AttributionMethod>> methods;
  std::vector<std::shared_ptr<Workload>> workloads;
  const ExplainContext ctx = explain_context(suite);
  auto add = [&](const std::string& name, std::shared_ptr<Workload> w, const ModelLimit* limit) {
    // At least one untimed run: it also counts the workload's model rows.
    for (int64_t i = 0; i < std::max<int64_t>(1, opts.warmup); ++i) w->run();
    workloads.push_back(w);
    // The model alone needs `limit_seconds` for the workload's rows; as an iteration-invariant
    // rate, the counter is limit_seconds / seconds per iteration, the fraction of the limit.
    const double limit_seconds = limit ? limit->seconds(static_cast<double>(w->forward_rows()),
                                                        static_cast<double>(w->backward_rows()))
                                       : 0.0;
    benchmark::RegisterBenchmark(
        name.c_str(),
        [w, limit_seconds](benchmark::State& state) {
          for (auto _ : state) w->run();
          state.counters["explanations_per_second"] = benchmark::Counter(
              static_cast<double>(w->examples()), benchmark::Counter::kIsIterationInvariantRate);
          state.counters["examples"] = static_cast<double>(w->examples());
          if (limit_seconds > 0)
            state.counters["fraction_of_limit"] =
                benchmark::Counter(limit_seconds, benchmark::Counter::kIsIterationInvariantRate);
        })
        ->Repetitions(static_cast<int>(opts.repetitions))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  std::vector<std::unique_ptr<ModelLimit>> limits;
  json limit_context = json::object();
  for_each_model(suite, registry, progress, res, [&](PreparedModel& p) {
    models.push_back(p.model);
    const std::string where = p.dataset->name + "/" + p.config->name + "/";
    // The model's own limit, measured before any benchmark runs; each method's counter
    // fraction_of_limit is taken of it.
    const ModelLimit* limit = nullptr;
    if (opts.limit) {
      try {
        at::Tensor targets;
        const Batch examples = first_examples(p.batches, p.targets, opts.examples, &targets);
        limits.push_back(std::make_unique<ModelLimit>(
            measure_limit(*p.model, examples, targets, ctx.max_rows, opts.limit_min_seconds)));
        limit = limits.back().get();
        limit_context[p.dataset->name + "/" + p.config->name] = limit->to_json();
      } catch (const std::exception& e) {
        std::string what = e.what();
        res.errors.push_back({{"where", "limit on " + where}, {"message", what}});
        std::cerr << "attrib bench: the model limit on " << where << ": " << what << "\n";
      }
    }
    for (int64_t bs : opts.batch_sizes) {
      const std::string tail = "/batch:" + std::to_string(bs) + "/device:" + suite.device;
      add("forward_backward/" + where + "model" + tail,
          std::make_shared<Workload>(*p.model, nullptr, p.batches, p.targets, opts.examples, bs,
                                     ctx),
          limit);
      for (const auto& m : suite.methods) {
        try {
          registry.check_compatible(m.plugin, *p.model, m.name, p.config->name);
          auto method = registry.create_method(m.plugin, m.params, "methods[" + m.name + "]");
          methods.push_back(method);
          // The rows per call the method explains with in a run (batch_plan.h).
          const ExplainContext method_ctx = explain_context(
              suite, nullptr, p.plan.rows_for(*registry.find(m.plugin, ATTRIB_KIND_METHOD)));
          add("explain/" + where + m.name + tail,
              std::make_shared<Workload>(*p.model, method.get(), p.batches, p.targets,
                                         opts.examples, bs, method_ctx),
              limit);
        } catch (const std::exception& e) {
          std::string what = e.what();
          res.errors.push_back({{"where", "methods[" + m.name + "] on " + where},
                                {"message", what.substr(0, what.find('\n'))}});
          std::cerr << "attrib bench: methods[" << m.name << "] on " << where << ": "
                    << what.substr(0, what.find('\n')) << "\n";
        }
      }
    }
  });

  const json context = run_context(suite, args.command_line());
  for (const std::string key : {"attrib_version", "git_commit", "libtorch_version",
                                "build_fingerprint", "device", "suite", "seed", "batch_cap"}) {
    if (!context.contains(key)) continue;
    const json& v = context[key];
    benchmark::AddCustomContext(key.rfind("attrib_", 0) == 0 ? key : "attrib_" + key,
                                v.is_string() ? v.get<std::string>() : v.dump());
  }
  benchmark::AddCustomContext("attrib_threads", context["threads"].dump());
  if (!limit_context.empty())
    benchmark::AddCustomContext("attrib_model_limits", limit_context.dump());
  benchmark::AddCustomContext("attrib_json_schema_version", "1");

  std::vector<std::string> storage = {"attrib bench"};
  storage.insert(storage.end(), args.passthrough().begin(), args.passthrough().end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  // The library has printed which flag it does not know.
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return kUsage;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return res.errors.empty() ? kOk : kPartial;
}

}  // namespace

const Command kBenchCommand = {
    "bench",
    "[SUITE.json]",
    "time the suite's methods with Google Benchmark",
    "[SUITE.json] [options] [--benchmark_* flags]",
    add_options,
    run,
    "--benchmark_",
};

}  // namespace attrib::cli
