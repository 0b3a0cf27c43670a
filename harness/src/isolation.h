#pragma once
// Plugin fault isolation: a method plugin's explain() runs in a forked child process, so that a
// segfault, abort, exit() or endless loop in third-party code becomes an error row for that method
// instead of ending the run.
//
// fork() rather than exec of a fresh worker: the child starts with exactly the model the host
// holds (a trained built-in model, a TorchScript file, another plugin's adapter, or a randomised
// clone made by an analysis), the batch and the targets, with nothing to serialise or reload, and
// computes bit for bit what the host would. Only the explanation travels back, through a pipe.
#include <memory>
#include <string>

#include "attrib/method.h"
#include "registry.h"

namespace attrib {

/// Which method plugins run in a child process (`attrib run --isolate`).
///   "auto": the plugins loaded from outside the built-in folder (third-party code); default
///   "all":  every method plugin
///   "none": none (the host only catches exceptions)
struct IsolationOptions {
  std::string mode = "auto";
  /// The longest one explain() call (one batch) may take in a child before it is killed and
  /// the method gets an error row (`--method-timeout`). Isolated methods only: a call in the host
  /// process cannot be stopped.
  double timeout_seconds = 3600;
};

/// {"mode", "method_timeout_seconds"}: what results' context records.
nlohmann::json isolation_json(const IsolationOptions& options);
/// The options isolation_json recorded; the defaults for null (a shard of an older attrib).
IsolationOptions isolation_from_json(const nlohmann::json& j);

/// Throws attrib::Error unless `mode` is auto, all or none.
void check_isolation_mode(const std::string& mode);

/// Whether `plugin` runs in a child process under `options`.
bool isolated(const PluginInfo& plugin, const IsolationOptions& options);

/// `method` of `plugin` behind a proxy whose explain() forks a child that runs it. A signal, an
/// exit before the result, or a call longer than the time-out (the child is killed) throws
/// attrib::Error naming the plugin, the signal and the batch's first example; an exception in the
/// child is thrown again in the host with its message. On CUDA, where a forked child cannot use
/// the parent's context, the call runs in the host.
std::shared_ptr<AttributionMethod> isolate(std::shared_ptr<AttributionMethod> method,
                                           const std::string& plugin, double timeout_seconds);

}  // namespace attrib
