#pragma once
// The options that `attrib run` and `attrib bench` share, and the suite they select.
#include <CLI/CLI.hpp>

#include "command.h"
#include "config.h"
#include "registry.h"

namespace attrib::cli {

/// --isolate and --method-timeout: which method plugins run in a worker process (isolation.h).
void add_isolation_options(CLI::App& app);
/// Their values; UsageError for a bad one.
IsolationOptions isolation_options(const Args& args);

/// --device, --seed, --threads, --max-examples, --force, --plugin-dir and --quiet.
void add_suite_options(CLI::App& app);

/// The suite file given (or the embedded default) with the option overrides, validated against
/// the plugins, which it loads into `registry` (their load errors are reported on stderr).
SuiteConfig load_suite(const Args& args, Registry& registry);

}  // namespace attrib::cli
