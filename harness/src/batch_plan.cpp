#include "batch_plan.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "attrib/error.h"
#include "common/model_limit.h"
#include "files.h"
#include "prepare.h"
#include "store/unit_key.h"
#include "train.h"

namespace attrib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Seconds timed per rung: enough for a stable median on a 2-core machine, a few seconds per model
// in all.
constexpr double kPlanSecondsPerRung = 0.15;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

}  // namespace

int64_t BatchPlan::rows_for(const PluginInfo& method) const {
  const json& cost = method.metadata.contains("cost") ? method.metadata["cost"] : json();
  const json& backward =
      cost.is_object() && cost.contains("backward_rows") ? cost["backward_rows"] : json();
  const bool forward_only = backward.is_string() && backward.get<std::string>() == "0";
  return forward_only ? forward_rows : gradient_rows;
}

json machine_identity() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return {{"host", host},
          {"cpu_model", cpu_model()},
          {"logical_cpus", std::thread::hardware_concurrency()}};
}

BatchPlan plan_batches(const SuiteConfig& suite, const PreparedModel& p) {
  BatchPlan plan;
  plan.forward_rows = plan.gradient_rows = suite.batch_cap;
  if (suite.batch_rows != "measured") {
    plan.record = {{"mode", "cap"},
                   {"forward_rows", plan.forward_rows},
                   {"gradient_rows", plan.gradient_rows}};
    return plan;
  }
  plan.measured = true;
  const json key = {{"model_hash", p.model_hash},       {"device", suite.device},
                    {"threads", at::get_num_threads()}, {"batch_cap", suite.batch_cap},
                    {"machine", machine_identity()},    {"build", host_fingerprint()}};
  const fs::path file = fs::path(cache_dir()) / "batch_plans" / (unit_key(key) + ".json");
  json limit;
  bool cached = false;
  {
    std::ifstream in(file);
    // A damaged or foreign file is measured again and replaced, never trusted.
    const json doc = in ? json::parse(in, nullptr, /*allow_exceptions=*/false) : json();
    if (doc.is_object() && doc.value("key", json()) == key && doc.contains("limit") &&
        doc["limit"].is_object()) {
      const json& l = doc["limit"];
      auto rows = [&](const char* mode) {
        const json& m = l.contains(mode) ? l[mode] : json();
        return m.is_object() && m.contains("best_rows") && m["best_rows"].is_number_integer()
                   ? m["best_rows"].get<int64_t>()
                   : int64_t{0};
      };
      const int64_t f = rows("forward"), g = rows("forward_backward");
      if (f >= 1 && f <= suite.batch_cap && g >= 1 && g <= suite.batch_cap) {
        limit = l;
        cached = true;
      }
    }
  }
  if (!cached) {
    // On the first batch of the split: real calls' rows, text padded as they are.
    const Batch& examples = p.batches.front();
    limit = measure_limit(*p.model, examples, p.targets.front().to(examples.inputs.device()),
                          suite.batch_cap, kPlanSecondsPerRung)
                .to_json();
    try {
      fs::create_directories(file.parent_path());
      write_file_atomically(file.string(), json{{"key", key}, {"limit", limit}}.dump(1));
    } catch (const std::exception&) {
      // An unwritable cache costs a measurement next time, nothing else.
    }
  }
  plan.forward_rows = limit["forward"]["best_rows"];
  plan.gradient_rows = limit["forward_backward"]["best_rows"];
  plan.record = {{"mode", "measured"},
                 {"forward_rows", plan.forward_rows},
                 {"gradient_rows", plan.gradient_rows},
                 {"batch_cap", suite.batch_cap},
                 {"cached", cached},
                 {"cache_file", file.string()},
                 {"limit", limit}};
  return plan;
}

}  // namespace attrib
