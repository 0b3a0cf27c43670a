#include "suite_args.h"

#include "attrib/error.h"
#include "attrib/params.h"
#include "embedded.h"

using nlohmann::json;

namespace attrib::cli {

void add_isolation_options(CLI::App& app) {
  add_value(app, "--isolate", "auto|all|none",
            "which method plugins run in a child process, where a crash, exit() or time-out\n"
            "becomes an error row (default auto: those from outside the built-in folder)");
  add_value(app, "--method-timeout", "SECONDS",
            "longest one explain() call of an isolated method may take (default 3600)");
}

IsolationOptions isolation_options(const Args& args) {
  IsolationOptions o;
  if (!args.value("--isolate").empty()) o.mode = args.value("--isolate");
  try {
    check_isolation_mode(o.mode);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (!args.value("--method-timeout").empty())
    // Below a year: the deadline must stay representable (poll() waits in milliseconds).
    o.timeout_seconds =
        parse_number("--method-timeout", args.value("--method-timeout"), {0, true, 3.2e7});
  return o;
}

void add_suite_options(CLI::App& app) {
  add_value(app, "--device", "cpu|cuda", "overrides the suite's device");
  add_value(app, "--seed", "N", "overrides the suite's seed (same seed => same numbers)");
  add_value(app, "--threads", "N", "torch threads (default: suite value, else all cores)");
  add_value(app, "--max-examples", "N", "explain at most N examples per dataset (quick runs)");
  add_value(app, "--batch-rows", "cap|measured",
            "overrides the suite's batch_rows: rows per model call = batch_cap, or the model's\n"
            "fastest rows per call measured on this machine (cached; at most batch_cap)");
  app.add_flag("--force",
               "run methods whose cost formula predicts more than 1e9 model rows (refused\n"
               "otherwise, as an error row naming the parameter)");
  add_value(app, "--plugin-dir", "DIR", "extra plugin folder (repeatable)");
  app.add_flag("--quiet", "no progress output");
}

SuiteConfig load_suite(const Args& args, Registry& registry) {
  const std::string device = args.value("--device");
  const std::string seed = args.value("--seed");
  const int64_t threads = args.integer("--threads", -1, 0);
  const int64_t max_examples = args.integer("--max-examples", -1, 1);
  const auto& pos = args.positional();
  if (pos.size() > 1)
    throw UsageError("expected at most one suite file, got " + std::to_string(pos.size()));
  if (!device.empty() && device != "cpu" && device != "cuda")
    throw UsageError("--device: expected cpu or cuda, got \"" + device + "\"");
  const std::string batch_rows = args.value("--batch-rows");
  if (!batch_rows.empty() && batch_rows != "cap" && batch_rows != "measured")
    throw UsageError("--batch-rows: expected cap or measured, got \"" + batch_rows + "\"");
  load_plugins(registry, args.values("--plugin-dir"));
  json doc;
  try {
    doc = pos.empty() ? parse_json_text(default_suite_json(), "<default suite>")
                      : read_json_file(pos[0]);
  } catch (const Error& e) {
    throw InputError(e.what());
  }
  if (doc.is_object()) {
    if (!device.empty()) doc["device"] = device;
    if (!seed.empty()) {
      try {
        doc["seed"] = parse_cli_value(seed);
      } catch (const Error& e) {
        throw InputError(std::string("--seed: ") + e.what());
      }
    }
    if (threads >= 0) doc["threads"] = threads;
    if (!batch_rows.empty()) doc["batch_rows"] = batch_rows;
    if (max_examples > 0 && doc.contains("datasets") && doc["datasets"].is_array())
      for (auto& d : doc["datasets"])
        if (d.is_object()) d["max_examples"] = max_examples;
  }
  SuiteConfig suite;
  try {
    suite = parse_suite(doc, registry);
  } catch (const Error& e) {
    report_load_errors(registry);
    throw InputError((pos.empty() ? std::string("<default suite>") : pos[0]) + ": " + e.what());
  }
  report_load_errors(registry);
  suite.document = doc;
  suite.force = args.flag("--force");
  return suite;
}

}  // namespace attrib::cli
