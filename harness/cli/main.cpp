// attrib command-line interface. Exit codes (also in README and `attrib --help`):
//   0 success; 1 unexpected internal error; 2 usage error; 3 invalid input (suite, JSON, model
//   file, dataset); 4 plugin error (a plugin failed to load, or the one asked for is missing or
//   failed to create); 5 the run finished but some rows failed (results written, errors listed;
//   takes precedence over 4 when both apply).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/params.h"
#include "bench_command.h"
#include "compare_command.h"
#include "config.h"
#include "data/dataset.h"
#include "data_command.h"
#include "embedded.h"
#include "metric.h"
#include "progress.h"
#include "registry.h"
#include "results.h"
#include "runner.h"
#include "train_command.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

enum Exit { kOk = 0, kInternal = 1, kUsage = 2, kInput = 3, kPlugin = 4, kPartial = 5 };

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct PluginError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kMainHelp = R"(attrib - benchmark harness for feature-attribution methods

usage: attrib <command> [options]

commands:
  run [SUITE.json]   run a suite (the embedded default suite when no file is given)
  explain            explain one input with one method and print the attributions as JSON
  plugins            list the loaded plugins (methods, models) and plugin load errors
  metrics            list the metrics with their parameters
  data SPEC          load a dataset and print per-split statistics (attrib data --help)
  train              train a model plugin on a dataset, cached (attrib train --help)
  bench [SUITE.json]  time the suite's methods with Google Benchmark (attrib bench --help)
  compare BASE CUR   compare two results.json files; lists regressions (attrib compare --help)

common options:
  --plugin-dir DIR   search DIR for plugins first (repeatable); then $ATTRIB_PLUGIN_PATH
                     (colon-separated), then the built-in plugin folder
  --threads N        torch intra-op threads (default: all cores)
  -h, --help         help for a command: attrib <command> --help

exit codes:
  0 success          1 internal error      2 usage error        3 invalid input
  4 plugin error (also: a run that finished while some plugin failed to load)
  5 run finished with failed rows (results written; takes precedence over 4)
  6 compare found at least one regression
)";

const char* kRunHelp = R"(usage: attrib run [SUITE.json] [options]

Runs every dataset x model x method x metric of the suite, computes each explanation once and
shares it across metrics, and writes results.json, leaderboard.md and leaderboard.csv.

options:
  --out DIR          output folder (default: results/<suite>-<UTC time>-seed<N>)
  --device cpu|cuda  overrides the suite's device
  --seed N           overrides the suite's seed (same seed => same numbers)
  --threads N        torch threads (default: suite value, else all cores)
  --max-examples N   explain at most N examples per dataset (quick runs)
  --force            run methods whose cost formula predicts more than 1e9 model rows (refused
                     otherwise, as an error row naming the parameter)
  --plugin-dir DIR   extra plugin folder (repeatable)
  --print-default    print the embedded default suite and exit
  --quiet            no progress output
)";

const char* kBenchHelp = R"(usage: attrib bench [SUITE.json] [options] [--benchmark_* flags]

Times every method of the suite (and the model's raw forward+backward as the reference limit) on
every (dataset, model) through Google Benchmark: one benchmark per method x model x batch size x
device, registered at run time, after warm-up, with the suite's "throughput" settings (batch
sizes, repetitions >= 9 by default, examples per repetition). Counter explanations_per_second.
The attrib context (version, git commit, LibTorch, fingerprint, suite, seed, device, threads) is
added to the benchmark context.

options:
  --device cpu|cuda  overrides the suite's device
  --seed N           overrides the suite's seed
  --threads N        torch threads (default: suite value, else all cores)
  --max-examples N   at most N examples per dataset
  --plugin-dir DIR   extra plugin folder (repeatable)
  --quiet            no progress output
  --benchmark_out=FILE --benchmark_out_format=json   JSON report (Google Benchmark flags;
                     also --benchmark_filter=REGEX, --benchmark_repetitions=N, ...)
)";

const char* kExplainHelp =
    R"(usage: attrib explain --model SPEC --method NAME (--input JSON | --text STR) [options]

Explains one input and prints {"attributions": [[...]], "extras": {...}, ...} as JSON.

  --model SPEC       torchscript:PATH (any TorchScript model following the contract) or
                     PLUGIN[:PATH] (a model plugin; PATH is its checkpoint)
  --method NAME      a method plugin (see `attrib plugins`)
  --param K=V        method parameter (repeatable); V is parsed as JSON, else taken as a string
  --model-param K=V  model plugin parameter (repeatable)
  --input JSON       dense input: one example as a JSON array, {"batch": [...]} for several,
                     or @FILE to read the JSON from a file
  --text STR         text input, tokenised on whitespace with the model's vocabulary
  --target K         class to explain (default: predicted)
  --seed N           seed for random methods (default 0)
  --batch-cap N      most rows per model forward (default 256)
  --reduction R      text: embedding reduction sum|mean|l2|l1|max_abs (default sum)
  --json             compact JSON (default: indented)
)";

const char* kPluginsHelp = R"(usage: attrib plugins [--json] [--plugin-dir DIR]

Lists plugins with kind, version, ABI, capabilities, parameters (defaults, ranges), cost and
citation, then every plugin file that failed to load with its one-line reason (exit code 4 then).
)";

const char* kMetricsHelp = R"(usage: attrib metrics [--json]

Lists the metrics with their suite, direction, needs, parameters and reference profiles (the
parameter sets that reproduce ERASER, ferret, Quantus or OpenXAI numbers: "profile" in a suite).
)";

class Args {
 public:
  explicit Args(std::vector<std::string> a) : a_(std::move(a)) {}
  bool flag(const std::string& name) {
    auto it = std::find(a_.begin(), a_.end(), name);
    if (it == a_.end()) return false;
    a_.erase(it);
    return true;
  }
  std::vector<std::string> values(const std::string& name) {
    std::vector<std::string> out;
    for (size_t i = 0; i < a_.size();) {
      if (a_[i] == name) {
        if (i + 1 >= a_.size()) throw UsageError(name + ": expected a value");
        out.push_back(a_[i + 1]);
        a_.erase(a_.begin() + i, a_.begin() + i + 2);
      } else if (a_[i].rfind(name + "=", 0) == 0) {
        out.push_back(a_[i].substr(name.size() + 1));
        a_.erase(a_.begin() + i);
      } else {
        ++i;
      }
    }
    return out;
  }
  std::string value(const std::string& name, const std::string& fallback = "") {
    auto v = values(name);
    if (v.size() > 1) throw UsageError(name + ": given " + std::to_string(v.size()) + " times");
    return v.empty() ? fallback : v[0];
  }
  int64_t integer(const std::string& name, int64_t fallback, int64_t minimum) {
    const std::string v = value(name);
    if (v.empty()) return fallback;
    try {
      size_t pos = 0;
      const long long x = std::stoll(v, &pos);
      if (pos != v.size() || x < minimum) throw std::invalid_argument(v);
      return x;
    } catch (const std::exception&) {
      throw UsageError(name + ": expected an integer >= " + std::to_string(minimum) + ", got \"" +
                       v + "\"");
    }
  }
  /// Remaining positional arguments; an unknown option is a usage error.
  std::vector<std::string> positional() {
    for (const auto& s : a_)
      if (s.size() > 1 && s[0] == '-') throw UsageError("unknown option " + s);
    return a_;
  }

 private:
  std::vector<std::string> a_;
};

void load_plugins(attrib::Registry& registry, Args& args) {
  registry.load_directories(attrib::Registry::search_path(args.values("--plugin-dir")));
}

void report_load_errors(const attrib::Registry& registry) {
  for (const auto& e : registry.errors()) std::cerr << "plugin load error: " << e.message << "\n";
}

json key_values(const std::vector<std::string>& items, const std::string& option) {
  json out = json::object();
  for (const auto& kv : items) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(option + ": expected KEY=VALUE, got \"" + kv + "\"");
    try {
      out[kv.substr(0, eq)] = attrib::parse_cli_value(kv.substr(eq + 1));
    } catch (const attrib::Error& e) {
      throw InputError(option + " " + kv.substr(0, eq) + ": " + e.what());
    }
  }
  return out;
}

std::string render_params(const json& schema) {
  std::string out;
  for (const auto& [k, s] : schema.items()) {
    out += "      " + k + " (" + s.value("type", "any") + ")";
    if (s.contains("default")) out += " = " + attrib::describe_json(s["default"]);
    if (s.contains("enum")) out += "  one of " + s["enum"].dump();
    if (s.contains("minimum") || s.contains("maximum"))
      out += "  range [" + (s.contains("minimum") ? s["minimum"].dump() : "-inf") + ", " +
             (s.contains("maximum") ? s["maximum"].dump() : "inf") + "]";
    if (s.contains("description")) out += "  -- " + s["description"].get<std::string>();
    out += "\n";
  }
  return out;
}

int cmd_plugins(Args& args) {
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << kPluginsHelp;
    return kOk;
  }
  const bool as_json = args.flag("--json");
  attrib::Registry registry;
  load_plugins(registry, args);
  args.positional();
  if (as_json) {
    json doc = {{"abi_version", ATTRIB_ABI_VERSION},
                {"fingerprint", attrib::host_fingerprint()},
                {"search_path", attrib::Registry::search_path({})},
                {"plugins", json::array()},
                {"errors", json::array()}};
    for (const auto& p : registry.plugins())
      doc["plugins"].push_back({{"name", p.name},
                                {"kind", p.kind == ATTRIB_KIND_METHOD ? "method" : "model"},
                                {"version", p.version},
                                {"abi_version", p.abi_version},
                                {"fingerprint", p.fingerprint},
                                {"path", p.path},
                                {"capabilities", attrib::capability_names(p.capabilities)},
                                {"metadata", p.metadata}});
    for (const auto& e : registry.errors())
      doc["errors"].push_back({{"path", e.path}, {"message", e.message}});
    std::cout << doc.dump(2) << "\n";
  } else {
    for (uint32_t kind : {ATTRIB_KIND_METHOD, ATTRIB_KIND_MODEL}) {
      std::cout << (kind == ATTRIB_KIND_METHOD ? "methods" : "models") << ":\n";
      for (const auto& p : registry.plugins()) {
        if (p.kind != kind) continue;
        std::string caps;
        for (const auto& c : attrib::capability_names(p.capabilities))
          caps += (caps.empty() ? "" : ", ") + c;
        std::cout << "  " << p.name << " " << p.version << "  (ABI " << p.abi_version << ")  "
                  << (kind == ATTRIB_KIND_METHOD ? "needs: " : "offers: ")
                  << (caps.empty() ? "-" : caps) << "\n";
        if (p.metadata.contains("description"))
          std::cout << "    " << p.metadata["description"].get<std::string>() << "\n";
        if (p.metadata.contains("cost"))
          std::cout << "    cost per explanation: " << p.metadata["cost"].dump() << "\n";
        std::cout << render_params(p.metadata.value("params", json::object()));
      }
    }
  }
  report_load_errors(registry);
  return registry.errors().empty() ? kOk : kPlugin;
}

int cmd_metrics(Args& args) {
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << kMetricsHelp;
    return kOk;
  }
  const bool as_json = args.flag("--json");
  args.positional();
  json doc = json::array();
  for (const auto& m : attrib::metric_catalogue()) {
    json profiles = json::array();
    for (const auto& p : m.profiles)
      profiles.push_back({{"name", p.name}, {"reference", p.reference}, {"params", p.params}});
    if (as_json) {
      doc.push_back({{"name", m.name},
                     {"family", m.family},
                     {"description", m.description},
                     {"citation", m.citation},
                     {"direction", m.direction > 0 ? "higher is better" : "lower is better"},
                     {"needs", m.needs},
                     {"params", m.params},
                     {"profiles", profiles}});
    } else {
      std::cout << m.name << " [" << m.family << "] " << (m.direction > 0 ? "(higher" : "(lower")
                << " is better)\n    " << m.description << "\n"
                << render_params(m.params);
      for (const auto& p : m.profiles)
        std::cout << "    profile " << p.name << ": " << p.reference << "\n      sets "
                  << p.params.dump() << "\n";
    }
  }
  if (as_json) std::cout << doc.dump(2) << "\n";
  return kOk;
}

std::string default_out_dir(const std::string& suite, uint64_t seed) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return "results/" + suite + "-" + buf + "-seed" + std::to_string(seed);
}

// The suite of `attrib run` / `attrib bench`: the file given (or the embedded default) with the
// --device/--seed/--threads/--max-examples overrides, validated against the loaded plugins.
attrib::SuiteConfig load_suite(Args& args, attrib::Registry& registry) {
  const std::string device = args.value("--device");
  const std::string seed = args.value("--seed");
  const int64_t threads = args.integer("--threads", -1, 0);
  const int64_t max_examples = args.integer("--max-examples", -1, 1);
  const bool force = args.flag("--force");
  load_plugins(registry, args);
  auto pos = args.positional();
  if (pos.size() > 1)
    throw UsageError("expected at most one suite file, got " + std::to_string(pos.size()));
  if (!device.empty() && device != "cpu" && device != "cuda")
    throw UsageError("--device: expected cpu or cuda, got \"" + device + "\"");
  json doc;
  try {
    doc = pos.empty() ? attrib::parse_json_text(attrib::default_suite_json(), "<default suite>")
                      : attrib::read_json_file(pos[0]);
  } catch (const attrib::Error& e) {
    throw InputError(e.what());
  }
  if (doc.is_object()) {
    if (!device.empty()) doc["device"] = device;
    if (!seed.empty()) {
      try {
        doc["seed"] = attrib::parse_cli_value(seed);
      } catch (const attrib::Error& e) {
        throw InputError(std::string("--seed: ") + e.what());
      }
    }
    if (threads >= 0) doc["threads"] = threads;
    if (max_examples > 0 && doc.contains("datasets") && doc["datasets"].is_array())
      for (auto& d : doc["datasets"])
        if (d.is_object()) d["max_examples"] = max_examples;
  }
  attrib::SuiteConfig suite;
  try {
    suite = attrib::parse_suite(doc, registry);
  } catch (const attrib::Error& e) {
    report_load_errors(registry);
    throw InputError((pos.empty() ? std::string("<default suite>") : pos[0]) + ": " + e.what());
  }
  report_load_errors(registry);
  suite.force = force;
  return suite;
}

std::string errno_text(int err) { return std::strerror(err); }

// Makes `out` and checks that it takes a file (a probe is written, flushed and removed) before any
// dataset or model work, so that an unwritable --out does not throw a whole run away. Then locks
// it (flock on OUT/.attrib.lock, held until exit) so that two runs never overwrite each other's
// files; the lock file keeps the holder's pid for the second run's message.
void claim_out_dir(const std::string& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError("--out " + out + ": cannot create the folder (" + ec.message() + ")");
  const std::string probe =
      (fs::path(out) / (".attrib-probe-" + std::to_string(getpid()))).string();
  {
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f)
      throw InputError("--out " + out + ": cannot write in the folder (" + errno_text(errno) + ")");
    const std::string text(4096, '\n');
    const bool written =
        std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    int err = errno;
    const bool closed = std::fclose(f) == 0;
    if (written && !closed) err = errno;
    std::remove(probe.c_str());
    if (!written || !closed)
      throw InputError("--out " + out + ": cannot write in the folder (" + errno_text(err) + ")");
  }
  const std::string lock = (fs::path(out) / ".attrib.lock").string();
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(lock + ": cannot open the lock file (" + errno_text(errno) + ")");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {0};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) throw InputError(lock + ": cannot lock (" + errno_text(err) + ")");
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    pid.erase(std::remove(pid.begin(), pid.end(), '\n'), pid.end());
    throw InputError(out + " is in use by another attrib run (pid " +
                     (pid.empty() ? std::string("unknown") : pid) + ")");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw InputError(lock + ": cannot write (" + errno_text(errno) + ")");
  // fd stays open (and locked) until the process exits.
}

int cmd_run(Args& args, const std::vector<std::string>& argv) {
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << kRunHelp;
    return kOk;
  }
  if (args.flag("--print-default")) {
    std::cout << attrib::default_suite_json();
    return kOk;
  }
  const bool quiet = args.flag("--quiet");
  std::string out = args.value("--out");
  attrib::Registry registry;
  const attrib::SuiteConfig suite = load_suite(args, registry);
  const int n_threads = attrib::configure_threads(suite.threads);
  if (out.empty()) out = default_out_dir(suite.name, suite.seed);
  claim_out_dir(out);
  attrib::Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), quiet);
  progress.note("attrib run: suite '" + suite.name + "', seed " + std::to_string(suite.seed) +
                ", device " + suite.device + ", " + std::to_string(n_threads) + " threads");
  attrib::RunResults results = attrib::run_suite(suite, registry, progress, argv);
  json load_errors = json::array();
  for (const auto& e : registry.errors())
    load_errors.push_back({{"path", e.path}, {"message", e.message}});
  results.context["plugin_load_errors"] = load_errors;
  attrib::write_results(out, results, suite.stats);
  std::cout << "results:     " << (fs::path(out) / "results.json").string() << "\n"
            << "leaderboard: " << (fs::path(out) / "leaderboard.md").string() << "\n"
            << "csv:         " << (fs::path(out) / "leaderboard.csv").string() << "\n";
  const bool load_failed = !registry.errors().empty();
  if (load_failed) {
    // Listed again at the end: the first report scrolled away behind the progress output.
    report_load_errors(registry);
    std::cerr << registry.errors().size()
              << " plugin file(s) failed to load (see `attrib plugins`)\n";
  }
  if (!results.errors.empty()) {
    std::cerr << results.errors.size() << " part(s) of the run failed; see \"errors\" in "
              << (fs::path(out) / "results.json").string() << "\n";
    return kPartial;  // before kPlugin: missing numbers matter more than an unused plugin
  }
  return load_failed ? kPlugin : kOk;
}

json tensor_to_json(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  if (c.dim() == 0) return c.item<double>();
  json out = json::array();
  for (int64_t i = 0; i < c.size(0); ++i) out.push_back(tensor_to_json(c[i]));
  return out;
}

at::Tensor json_to_tensor(const json& v, const std::string& where) {
  if (v.is_number()) return at::scalar_tensor(v.get<double>(), at::kFloat);
  if (!v.is_array() || v.empty())
    throw InputError(where + ": expected a number or a non-empty array, got " +
                     attrib::describe_json(v));
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < v.size(); ++i)
    parts.push_back(json_to_tensor(v[i], where + "[" + std::to_string(i) + "]"));
  for (const auto& p : parts)
    if (p.sizes() != parts[0].sizes())
      throw InputError(where + ": ragged array (elements of shapes " +
                       std::to_string(parts[0].numel()) + " and " + std::to_string(p.numel()) +
                       " values)");
  return at::stack(parts);
}

int cmd_explain(Args& args) {
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << kExplainHelp;
    return kOk;
  }
  const bool compact = args.flag("--json");
  const std::string model_spec = args.value("--model");
  const std::string method_name = args.value("--method");
  const json params = key_values(args.values("--param"), "--param");
  json model_params = key_values(args.values("--model-param"), "--model-param");
  const std::string input = args.value("--input");
  const std::string text = args.value("--text");
  const std::string target = args.value("--target", "predicted");
  const int64_t seed = args.integer("--seed", 0, 0);
  const int64_t batch_cap = args.integer("--batch-cap", 256, 1);
  const std::string reduction = args.value("--reduction", "sum");
  const int64_t threads = args.integer("--threads", 0, 0);
  attrib::Registry registry;
  load_plugins(registry, args);
  args.positional();
  if (model_spec.empty()) throw UsageError("explain: --model is required");
  if (method_name.empty()) throw UsageError("explain: --method is required");
  if (input.empty() == text.empty())
    throw UsageError("explain: give exactly one of --input and --text");
  attrib::configure_threads(threads);
  report_load_errors(registry);
  // The --input JSON is checked before a model is loaded.
  json input_json;
  if (!input.empty()) {
    try {
      input_json = input[0] == '@' ? attrib::read_json_file(input.substr(1))
                                   : attrib::parse_json_text(input, "--input");
    } catch (const attrib::Error& e) {
      throw InputError(e.what());
    }
  }

  // Model SPEC: PLUGIN[:PATH].
  const auto colon = model_spec.find(':');
  const std::string plugin = model_spec.substr(0, colon);
  const attrib::PluginInfo* mp = registry.find(plugin, ATTRIB_KIND_MODEL);
  if (colon != std::string::npos && mp) {
    const json schema = mp->metadata.value("params", json::object());
    model_params[schema.contains("path") ? "path" : "checkpoint"] = model_spec.substr(colon + 1);
  }
  std::shared_ptr<attrib::ModelAdapter> model;
  std::shared_ptr<attrib::AttributionMethod> method;
  try {
    model = registry.create_model(plugin, model_params, "--model-param");
    method = registry.create_method(method_name, params, "--param");
  } catch (const attrib::Error& e) {
    throw PluginError(e.what());
  }
  const attrib::ModelInfo& info = model->info();
  const attrib::PluginInfo* pm = registry.find(method_name, ATTRIB_KIND_METHOD);
  if (const uint64_t missing = pm->capabilities & ~info.capabilities) {
    std::string names;
    for (const auto& n : attrib::capability_names(missing))
      names += (names.empty() ? "" : ", ") + n;
    throw InputError("method '" + method_name + "' needs model capabilities [" + names +
                     "] that model '" + info.name + "' lacks");
  }

  attrib::Batch batch;
  json tokens;
  attrib::Vocab vocab;
  if (!text.empty()) {
    if (info.modality != attrib::Modality::kText)
      throw InputError("--text: model '" + info.name + "' takes dense inputs; use --input");
    if (info.vocab.empty())
      throw InputError("--text: model '" + info.name +
                       "' carries no vocabulary (metadata 'vocab'); pass token ids with --input");
    attrib::TextExample ex{"input-0", attrib::whitespace_tokens(text), -1, {}};
    if (ex.tokens.empty()) throw InputError("--text: no tokens in the given text");
    tokens = ex.tokens;
    std::vector<attrib::TextExample> one = {ex};
    vocab = attrib::model_vocab(info, attrib::Vocab());
    // The model's own length limit when it declares one (metadata max_len), cut at a word.
    int64_t max_len = 1 << 20;
    if (info.metadata.is_object() && info.metadata.contains("max_len") &&
        info.metadata["max_len"].is_number_integer())
      max_len = std::max<int64_t>(1, info.metadata["max_len"].get<int64_t>());
    batch = attrib::collate_text(one, 0, 1, vocab, max_len);
    const int64_t kept = batch.word_ids.max().item<int64_t>() + 1;
    if (kept < static_cast<int64_t>(ex.tokens.size())) {
      std::cerr << "attrib explain: --text: kept the first " << kept << " of " << ex.tokens.size()
                << " words (the model takes at most " << max_len << " tokens)\n";
      tokens = json(std::vector<std::string>(ex.tokens.begin(), ex.tokens.begin() + kept));
    }
  } else {
    const json& v = input_json;
    const bool many = v.is_object() && v.contains("batch");
    at::Tensor x = json_to_tensor(many ? v["batch"] : v, many ? "--input.batch" : "--input");
    if (!many) x = x.unsqueeze(0);
    if (info.modality == attrib::Modality::kText) {
      batch.modality = attrib::Modality::kText;
      batch.inputs = x.to(at::kLong);
      batch.attention_mask = at::ones_like(batch.inputs);
      batch.word_ids = at::arange(x.size(1)).unsqueeze(0).expand({x.size(0), -1}).contiguous();
    } else {
      batch.inputs = x;
    }
    for (int64_t i = 0; i < x.size(0); ++i) batch.ids.push_back("input-" + std::to_string(i));
    batch.labels = at::full({x.size(0)}, -1, at::kLong);
  }
  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    logits = model->forward(batch.inputs, batch.attention_mask).to(at::kCPU);
  }
  at::Tensor targets;
  if (target == "predicted") {
    targets = logits.argmax(1);
  } else {
    const int64_t k = std::atoll(target.c_str());
    if (target.find_first_not_of("0123456789") != std::string::npos || k >= logits.size(1))
      throw UsageError("--target: expected 'predicted' or a class index in [0, " +
                       std::to_string(logits.size(1) - 1) + "], got \"" + target + "\"");
    targets = at::full({batch.size()}, k, at::kLong);
  }
  attrib::ExplainContext ctx{static_cast<uint64_t>(seed), batch_cap};
  attrib::Explanation e = method->explain(*model, batch, targets, ctx);
  json doc = {
      {"model", model_spec},
      {"method", method_name},
      {"params", registry.resolve(method_name, ATTRIB_KIND_METHOD, params, "--param")},
      {"target", tensor_to_json(targets)},
      {"logits", tensor_to_json(logits)},
      {"attributions", tensor_to_json(e.attributions)},
      {"attribution_shape", e.attributions.sizes().vec()},
      {"sum",
       tensor_to_json(e.attributions.to(at::kDouble).reshape({e.attributions.size(0), -1}).sum(1))},
      {"info", e.info},
      {"forward_rows", e.forward_rows},
      {"backward_rows", e.backward_rows}};
  json extras = json::object();
  for (const auto& [k, v] : e.extras) extras[k] = tensor_to_json(v);
  doc["extras"] = extras;
  if (info.modality == attrib::Modality::kText) {
    // One score per word (a word's subword tokens summed); the model's own tokens beside them
    // when they differ from the words.
    const at::Tensor per_token = attrib::token_scores(e.attributions, batch, reduction);
    const at::Tensor starts = attrib::word_starts(batch.word_ids.to(at::kCPU));
    const at::Tensor per_word = attrib::feature_scores(e.attributions, batch, reduction);
    doc["tokens"] = tokens;
    doc["token_scores"] = tensor_to_json(per_word);
    const bool subwords = starts.sum().item<int64_t>() < batch.word_ids.ge(0).sum().item<int64_t>();
    if (starts.size(0) == 1 && subwords) {
      doc["token_scores"] = tensor_to_json(per_word.masked_select(starts).unsqueeze(0));
      json pieces = json::array();
      const at::Tensor ids = batch.inputs.to(at::kCPU).contiguous();
      for (int64_t t = 0; t < ids.size(1); ++t) {
        const int64_t id = ids[0][t].item<int64_t>();
        pieces.push_back(id >= 0 && id < vocab.size() ? vocab.tokens()[id] : std::to_string(id));
      }
      doc["subword_tokens"] = pieces;
      doc["subword_word_ids"] = tensor_to_json(batch.word_ids.to(at::kCPU));
      doc["subword_scores"] = tensor_to_json(per_token);
      doc["subword_aggregation"] = "sum";
    }
    doc["token_reduction"] = reduction;
  }
  std::cout << (compact ? doc.dump() : doc.dump(2)) << "\n";
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv + 1, argv + argc);
  std::vector<std::string> argv_copy(argv, argv + argc);
  if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
    std::cout << kMainHelp;
    return all.empty() ? kUsage : kOk;
  }
  if (all[0] == "--version") {
    std::cout << "attrib " << ATTRIB_VERSION << " (ABI " << ATTRIB_ABI_VERSION << ", "
              << attrib::host_fingerprint() << ")\n";
    return kOk;
  }
  const std::string command = all[0];
  Args args(std::vector<std::string>(all.begin() + 1, all.end()));
  try {
    if (command == "plugins") return cmd_plugins(args);
    if (command == "metrics") return cmd_metrics(args);
    if (command == "run") return cmd_run(args, argv_copy);
    if (command == "bench") {
      // Google Benchmark's own flags (--benchmark_*) go to the library.
      std::vector<std::string> ours, lib;
      for (const auto& a : std::vector<std::string>(all.begin() + 1, all.end()))
        (a.rfind("--benchmark_", 0) == 0 ? lib : ours).push_back(a);
      Args bench_args(ours);
      if (bench_args.flag("--help") || bench_args.flag("-h")) {
        std::cout << kBenchHelp;
        return kOk;
      }
      const bool quiet = bench_args.flag("--quiet");
      attrib::Registry registry;
      const attrib::SuiteConfig suite = load_suite(bench_args, registry);
      attrib::configure_threads(suite.threads);
      return attrib_bench_command(suite, registry, lib, argv_copy, quiet);
    }
    if (command == "explain") return cmd_explain(args);
    if (command == "data")
      return attrib_data_command(std::vector<std::string>(all.begin() + 1, all.end()));
    if (command == "train")
      return attrib_train_command(std::vector<std::string>(all.begin() + 1, all.end()), argv_copy);
    if (command == "compare")
      return attrib_compare_command(std::vector<std::string>(all.begin() + 1, all.end()));
    std::cerr << "attrib: unknown command '" << command << "'\n" << kMainHelp;
    return kUsage;
  } catch (const UsageError& e) {
    std::cerr << "attrib " << command << ": " << e.what() << " (see attrib " << command
              << " --help)\n";
    return kUsage;
  } catch (const InputError& e) {
    std::cerr << "attrib " << command << ": " << e.what() << "\n";
    return kInput;
  } catch (const PluginError& e) {
    std::cerr << "attrib " << command << ": " << e.what() << "\n";
    return kPlugin;
  } catch (const attrib::Error& e) {
    std::cerr << "attrib " << command << ": " << e.what() << "\n";
    return kInput;
  } catch (const std::exception& e) {
    std::string s = e.what();
    std::cerr << "attrib " << command << ": internal error: " << s.substr(0, s.find('\n')) << "\n";
    return kInternal;
  }
}
