#pragma once
// `attrib bench`: the suite's throughput workloads through Google Benchmark.
#include <string>
#include <vector>

#include "config.h"
#include "registry.h"

/// Registers one benchmark per (dataset, model, method or reference, batch size) of `suite` and
/// runs them with Google Benchmark; `benchmark_flags` are its --benchmark_* flags. Returns 0, or 5
/// when a dataset, model or method failed (reported on stderr; the other benchmarks still run).
int attrib_bench_command(const attrib::SuiteConfig& suite, const attrib::Registry& registry,
                         const std::vector<std::string>& benchmark_flags,
                         const std::vector<std::string>& command_line, bool quiet);
