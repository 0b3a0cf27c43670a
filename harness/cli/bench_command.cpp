#include "bench_command.h"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "attrib/error.h"
#include "attrib/params.h"
#include "progress.h"
#include "runner.h"
#include "throughput/throughput.h"

using nlohmann::json;

int attrib_bench_command(const attrib::SuiteConfig& suite, const attrib::Registry& registry,
                         const std::vector<std::string>& benchmark_flags,
                         const std::vector<std::string>& command_line, bool quiet) {
  const attrib::ThroughputOptions opts = attrib::throughput_options(
      suite.analysis("throughput").is_null()
          ? attrib::resolve_params(attrib::throughput_schema(), json::object(), "throughput")
          : suite.analysis("throughput"),
      "throughput");
  attrib::Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), quiet);
  attrib::RunResults res;  // collects dataset/model records and errors
  // Workloads must outlive registration: the benchmarks run after for_each_model returns.
  std::vector<std::shared_ptr<attrib::ModelAdapter>> models;
  std::vector<std::shared_ptr<attrib::AttributionMethod>> methods;
  std::vector<std::shared_ptr<attrib::Workload>> workloads;
  const attrib::ExplainContext ctx = attrib::explain_context(suite);
  auto add = [&](const std::string& name, std::shared_ptr<attrib::Workload> w) {
    for (int64_t i = 0; i < opts.warmup; ++i) w->run();
    workloads.push_back(w);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [w](benchmark::State& state) {
                                   for (auto _ : state) w->run();
                                   state.counters["explanations_per_second"] = benchmark::Counter(
                                       static_cast<double>(w->examples()),
                                       benchmark::Counter::kIsIterationInvariantRate);
                                   state.counters["examples"] = static_cast<double>(w->examples());
                                 })
        ->Repetitions(static_cast<int>(opts.repetitions))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  attrib::for_each_model(suite, registry, progress, res, [&](attrib::PreparedModel& p) {
    models.push_back(p.model);
    const std::string where = p.dataset->name + "/" + p.config->name + "/";
    for (int64_t bs : opts.batch_sizes) {
      const std::string tail = "/batch:" + std::to_string(bs) + "/device:" + suite.device;
      add("forward_backward/" + where + "model" + tail,
          std::make_shared<attrib::Workload>(*p.model, nullptr, p.batches, p.targets, opts.examples,
                                             bs, ctx));
      for (const auto& m : suite.methods) {
        try {
          registry.check_compatible(m.plugin, *p.model, m.name, p.config->name);
          auto method = registry.create_method(m.plugin, m.params, "methods[" + m.name + "]");
          methods.push_back(method);
          add("explain/" + where + m.name + tail,
              std::make_shared<attrib::Workload>(*p.model, method.get(), p.batches, p.targets,
                                                 opts.examples, bs, ctx));
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

  const json context = attrib::run_context(suite, command_line);
  for (const std::string key : {"attrib_version", "git_commit", "libtorch_version",
                                "build_fingerprint", "device", "suite", "seed", "batch_cap"}) {
    if (!context.contains(key)) continue;
    const json& v = context[key];
    benchmark::AddCustomContext(key.rfind("attrib_", 0) == 0 ? key : "attrib_" + key,
                                v.is_string() ? v.get<std::string>() : v.dump());
  }
  benchmark::AddCustomContext("attrib_threads", context["threads"].dump());
  benchmark::AddCustomContext("attrib_json_schema_version", "1");

  std::vector<std::string> storage = {"attrib bench"};
  storage.insert(storage.end(), benchmark_flags.begin(), benchmark_flags.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return res.errors.empty() ? 0 : 5;
}
