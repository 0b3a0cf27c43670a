#include "runner.h"

#include <ATen/Parallel.h>
#include <sys/mman.h>
#include <torch/version.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "agreement.h"
#include "attrib/error.h"
#include "attrib/hash.h"
#include "attrib/input_space.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "attrib/user_input.h"
#include "cost.h"
#include "metric.h"
#include "randomisation/randomisation.h"
#include "stats.h"
#include "throughput/throughput.h"

namespace attrib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

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

std::string error_text(const std::exception& e) {
  // c10::Error messages carry a C++ backtrace after the first line; keep the first line.
  std::string s = e.what();
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// The message of the exception in flight, of any type: a plugin may throw something that is not
// a std::exception (`throw 42`), which must become an error row, not end the run.
std::string in_flight_error() {
  try {
    throw;
  } catch (const std::exception& e) {
    return error_text(e);
  } catch (...) {
    return "unknown exception (a type not derived from std::exception)";
  }
}

/// The examples of one (dataset, split), collated once and shared by all methods and metrics.
struct Batches {
  std::vector<Batch> batches;
  std::vector<Annotations> annotations;
  std::vector<std::string> ids;
};

/// Dense collation of examples [begin, end) with inputs and labels on `device`.
Batch dense_batch(const Dataset& ds, const std::vector<DenseExample>& split, size_t begin,
                  size_t end, const at::Device& device) {
  Batch batch = collate_dense(split, begin, end, ds.feature_shape);
  batch.inputs = batch.inputs.to(device);
  batch.labels = batch.labels.to(device);
  return batch;
}

/// The examples of `split` kept for training (`want_val` false) or carved off as validation
/// (`want_val` true): with `val_fraction` > 0, an example is validation when its per-example
/// stream key (seed, id) falls in the lowest `val_fraction` of the 64-bit range, so the carve
/// depends only on the example, never on the order of the file.
template <typename Example>
std::vector<Example> carve(const std::vector<Example>& split, double val_fraction, uint64_t seed,
                           bool want_val) {
  if (val_fraction <= 0) return want_val ? std::vector<Example>() : split;
  const double cut = val_fraction * 18446744073709551616.0;  // 2^64
  std::vector<Example> out;
  for (const auto& e : split) {
    const bool is_val = static_cast<double>(stream_key(seed, e.id, /*stream=*/0x7661)) < cut;
    if (is_val == want_val) out.push_back(e);
  }
  return out;
}

/// Training or validation examples, collated: `split` (with the carve, see above) of whichever
/// modality the dataset has.
Batch training_batch(const Dataset& ds, const std::string& split, const Vocab& vocab,
                     int64_t max_len, double val_fraction, uint64_t seed, bool want_val) {
  if (ds.modality == Modality::kDense) {
    const auto ex = carve(ds.dense_split(split), val_fraction, seed, want_val);
    return collate_dense(ex, 0, ex.size(), ds.feature_shape);
  }
  const auto ex = carve(ds.split(split), val_fraction, seed, want_val);
  return collate_text(ex, 0, ex.size(), vocab, max_len);
}

Batches make_batches(const Dataset& ds, const DatasetConfig& dc, const Vocab& vocab,
                     int64_t per_batch, const at::Device& device) {
  if (ds.modality == Modality::kDense) {
    const auto& split = ds.dense_split(dc.split);
    size_t n = split.size();
    if (dc.max_examples > 0) n = std::min<size_t>(n, dc.max_examples);
    ATTRIB_CHECK(n > 0, "dataset '", ds.name, "': split '", dc.split, "' has no examples");
    Batches out;
    for (size_t b = 0; b < n; b += per_batch) {
      const size_t e = std::min(n, b + static_cast<size_t>(per_batch));
      Batch batch = dense_batch(ds, split, b, e, device);
      out.ids.insert(out.ids.end(), batch.ids.begin(), batch.ids.end());
      out.batches.push_back(std::move(batch));
      out.annotations.push_back(collate_masks(split, b, e, ds.num_features()));
    }
    return out;
  }
  const auto& split = ds.split(dc.split);
  size_t n = split.size();
  if (dc.max_examples > 0) n = std::min<size_t>(n, dc.max_examples);
  ATTRIB_CHECK(n > 0, "dataset '", ds.name, "': split '", dc.split, "' has no examples");
  Batches out;
  for (size_t b = 0; b < n; b += per_batch) {
    const size_t e = std::min(n, b + static_cast<size_t>(per_batch));
    Batch batch = collate_text(split, b, e, vocab, dc.max_len);
    out.annotations.push_back(collate_rationales(split, b, e, batch));
    batch.inputs = batch.inputs.to(device);
    batch.attention_mask = batch.attention_mask.to(device);
    batch.word_ids = batch.word_ids.to(device);
    batch.labels = batch.labels.to(device);
    out.ids.insert(out.ids.end(), batch.ids.begin(), batch.ids.end());
    out.batches.push_back(std::move(batch));
  }
  return out;
}

at::Tensor logits_of(ModelAdapter& model, const Batch& b, int64_t max_rows) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < b.size(); s += max_rows) {
    const int64_t e = std::min(b.size(), s + max_rows);
    at::Tensor mask = b.attention_mask.defined() ? b.attention_mask.slice(0, s, e) : at::Tensor();
    parts.push_back(
        checked_logits(model.forward(b.inputs.slice(0, s, e), mask), model).to(at::kCPU));
  }
  return at::cat(parts);
}

/// Adds dataset-derived parameters the plugin declares and the user did not set.
json with_dataset_params(json params, const json& schema, const Dataset& ds, const Vocab& vocab,
                         const DatasetConfig& dc) {
  auto inject = [&](const char* key, const json& value) {
    if (schema.contains(key) && !params.contains(key)) params[key] = value;
  };
  inject("num_classes", ds.class_names.size());
  inject("class_names", ds.class_names);
  if (ds.modality == Modality::kDense) {
    inject("input_shape", ds.feature_shape);
    inject("num_features", ds.num_features());
    if (!ds.feature_names.empty()) inject("feature_names", ds.feature_names);
  }
  if (ds.modality == Modality::kText) {
    inject("vocab", vocab.tokens());
    inject("tokenizer", vocab.kind_name());
    inject("pad_id", Vocab::kPad);
    inject("unk_id", Vocab::kUnk);
    inject("mask_id", Vocab::kMask);
    inject("max_len", std::max<int64_t>(dc.max_len, 2));
  }
  return params;
}

struct LoadedModel {
  std::shared_ptr<ModelAdapter> model;
  json record;
};

LoadedModel acquire_model(const ModelConfig& mc, const Dataset& ds, const DatasetConfig& dc,
                          const Vocab& vocab, const Registry& registry, const SuiteConfig& suite,
                          Progress& progress) {
  const PluginInfo* plugin = registry.find(mc.plugin, ATTRIB_KIND_MODEL);
  ATTRIB_CHECK(plugin != nullptr, "model plugin '", mc.plugin, "' is not loaded");
  const json schema = plugin->metadata.value("params", json::object());
  json params = with_dataset_params(mc.params, schema, ds, vocab, dc);
  const std::string where = "models[" + mc.name + "].params";
  LoadedModel out;
  out.record = {{"name", mc.name},
                {"plugin", mc.plugin},
                {"plugin_version", plugin->version},
                {"dataset", ds.name}};
  if (mc.train.is_null()) {
    out.model = registry.create_model(mc.plugin, params, where);
  } else {
    TrainedModel t = train_or_load(mc, ds, dc, vocab, registry, progress, /*use_cache=*/true);
    out.model = t.model;
    out.record["train"] = t.report;
    out.record["checkpoint"] = t.checkpoint;
  }
  if (suite.device == "cuda") out.model->to(at::Device(at::kCUDA));
  const ModelInfo& info = out.model->info();
  out.record["capabilities"] = capability_names(info.capabilities);
  out.record["capability_notes"] = info.capability_notes;
  out.record["num_classes"] = info.num_classes;
  out.record["artifact_hash"] = info.artifact_hash;
  out.record["params"] = params.contains("vocab") ? json(json::object()) : params;
  if (params.contains("vocab")) {
    json p = params;
    p["vocab"] = std::to_string(params["vocab"].size()) + " tokens";
    out.record["params"] = p;
  }
  return out;
}

json method_info_of(const MethodConfig& m, const PluginInfo& p, const json& explainer_info,
                    const SuiteConfig& suite) {
  return {{"plugin", m.plugin},     {"version", p.version},
          {"params", m.params},     {"choices", explainer_info},
          {"target", suite.target}, {"token_reduction", suite.token_reduction}};
}

}  // namespace

TrainedModel train_or_load(const ModelConfig& mc, const Dataset& ds, const DatasetConfig& dc,
                           const Vocab& vocab, const Registry& registry, Progress& progress,
                           bool use_cache) {
  const PluginInfo* plugin = registry.find(mc.plugin, ATTRIB_KIND_MODEL);
  ATTRIB_CHECK(plugin != nullptr, "model plugin '", mc.plugin, "' is not loaded");
  ATTRIB_CHECK(mc.train.is_object(), "models[", mc.name,
               "]: expected training options (a train block), got none");
  const json schema = plugin->metadata.value("params", json::object());
  TrainedModel out;
  out.params = with_dataset_params(mc.params, schema, ds, vocab, dc);
  const std::string where = "models[" + mc.name + "].params";

  TrainOptions opts;
  opts.epochs = mc.train.at("epochs").get<int64_t>();
  opts.batch_size = mc.train.at("batch_size").get<int64_t>();
  opts.learning_rate = mc.train.at("learning_rate").get<double>();
  opts.weight_decay = mc.train.at("weight_decay").get<double>();
  opts.patience = mc.train.at("patience").get<int64_t>();
  opts.seed = mc.train.at("seed").get<uint64_t>();
  // Optional: which splits train and validate; val_fraction > 0 carves validation off the
  // training split (for corpora shipped without one of them).
  const std::string train_split = mc.train.value("train_split", std::string("train"));
  const std::string val_split = mc.train.value("val_split", std::string("val"));
  const double val_fraction = mc.train.value("val_fraction", 0.0);
  ATTRIB_CHECK(val_fraction >= 0 && val_fraction < 1, "models[", mc.name,
               "].train.val_fraction: expected a number in [0, 1), got ", val_fraction);

  // The options in one canonical form (numbers as doubles where they are real-valued), so that
  // `attrib train` and a suite that ask for the same training share one cache entry.
  json options = {{"epochs", opts.epochs},
                  {"batch_size", opts.batch_size},
                  {"learning_rate", opts.learning_rate},
                  {"weight_decay", opts.weight_decay},
                  {"patience", opts.patience},
                  {"seed", opts.seed}};
  if (train_split != "train") options["train_split"] = train_split;
  if (val_fraction > 0)
    options["val_fraction"] = val_fraction;
  else if (val_split != "val")
    options["val_split"] = val_split;

  // Identical (plugin, params, data, training options) => identical model: reuse it. The file
  // name carries the plugin, not the suite's model name, so every caller finds the same entry.
  json key_doc = {
      {"plugin", mc.plugin},  {"version", plugin->version}, {"fingerprint", plugin->fingerprint},
      {"params", out.params}, {"dataset_hash", ds.hash},    {"dataset_params", ds.params},
      {"train", options},     {"max_len", dc.max_len}};
  const std::string key = hex64(fnv1a_legacy(key_doc.dump()));
  const fs::path dir = fs::path(cache_dir()) / "models";
  // Plugin names come from plugin files anyone can put on the search path; one must not reach
  // outside the cache folder.
  ATTRIB_CHECK(is_safe_path_component(mc.plugin), "models[", mc.name, "].plugin: plugin name \"",
               mc.plugin, "\" cannot name a cache file (expected ", kSafePathComponentRule, ")");
  const fs::path pt = dir / (mc.plugin + "-" + key + ".pt");
  const fs::path report = dir / (mc.plugin + "-" + key + ".json");
  out.checkpoint = pt.string();
  if (use_cache && fs::exists(pt) && fs::exists(report) && schema.contains("checkpoint")) {
    // An entry is used only when its checkpoint has the size and hash its report recorded and
    // loads; a truncated or damaged one (a full disk, a copy cut short) is trained again.
    std::string why;
    try {
      std::ifstream in(report);
      json r = json::parse(in, nullptr, false);
      const std::string bytes = file_bytes(pt);
      if (!r.is_object()) {
        why = "its report is not valid JSON";
      } else if (r.contains("checkpoint_bytes") &&
                 (r["checkpoint_bytes"] != bytes.size() ||
                  r.value("checkpoint_fnv1a", std::string()) != hex64(fnv1a_legacy(bytes)))) {
        why = "the checkpoint has " + std::to_string(bytes.size()) +
              " bytes or a hash other than the " + r["checkpoint_bytes"].dump() + " bytes recorded";
      } else {
        json p = out.params;
        p["checkpoint"] = pt.string();
        out.model = registry.create_model(mc.plugin, p, where);
        out.report = std::move(r);
        out.report["cached"] = true;
        progress.note("model " + mc.name + " on " + ds.name + ": loaded from cache " + pt.string());
        return out;
      }
    } catch (...) {
      why = in_flight_error();
    }
    progress.note("warning: model cache entry " + pt.string() + " is damaged (" + why +
                  "); training again");
  }
  out.model = registry.create_model(mc.plugin, out.params, where);
  ATTRIB_CHECK(out.model->has(ATTRIB_CAP_TRAINABLE), "models[", mc.name, "]: plugin '", mc.plugin,
               "' is not trainable, but training options were given");
  progress.stage("train " + mc.name + " on " + ds.name, opts.epochs);
  opts.on_epoch = [&](int64_t, int64_t, double, double) { progress.advance(); };
  const Batch train = training_batch(ds, train_split, vocab, dc.max_len, val_fraction, opts.seed,
                                     /*want_val=*/false);
  const Batch val =
      val_fraction > 0
          ? training_batch(ds, train_split, vocab, dc.max_len, val_fraction, opts.seed, true)
          : training_batch(ds, val_split, vocab, dc.max_len, 0.0, opts.seed, false);
  const auto t0 = std::chrono::steady_clock::now();
  TrainReport r = out.model->train(train, val, opts);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.done("val accuracy " + std::to_string(r.val_accuracy));
  out.report = {{"epochs_run", r.epochs_run},
                {"val_accuracy", r.val_accuracy},
                {"val_macro_f1", r.val_macro_f1},
                {"history", r.history},
                {"options", options},
                {"n_train", train.size()},
                {"n_val", val.size()},
                {"train_seconds", secs},
                {"cache_key", key}};
  // Written under temporary names and renamed, so that concurrent runs sharing the cache never
  // read a half-written entry (the report, renamed last, marks the entry complete). A cache that
  // cannot be written (full disk, read-only folder) costs only the caching: the trained model is
  // used as it is, with a warning.
  try {
    fs::create_directories(dir);
    const std::string bytes = checkpoint_bytes(*out.model);
    json entry = out.report;
    entry["checkpoint_bytes"] = bytes.size();
    entry["checkpoint_fnv1a"] = hex64(fnv1a_legacy(bytes));
    write_file_atomically(pt.string(), bytes);
    write_file_atomically(report.string(), entry.dump(2));
    out.report = std::move(entry);
  } catch (...) {
    progress.note("warning: could not write the model cache entry " + pt.string() + " (" +
                  in_flight_error() + "); the trained model is used without caching");
    std::error_code ec;
    fs::remove(report, ec);  // a checkpoint without its report is never used
    out.checkpoint.clear();
  }
  out.report["cached"] = false;
  return out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ATTRIB_CHECK(in.good(), "cannot read ", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string checkpoint_bytes(ModelAdapter& model) {
  const int fd = ::memfd_create("attrib-checkpoint", 0);
  ATTRIB_CHECK(fd >= 0,
               "cannot create an in-memory file for the checkpoint: ", std::strerror(errno));
  std::string bytes;
  try {
    model.save("/proc/self/fd/" + std::to_string(fd));
    bytes = file_bytes("/proc/self/fd/" + std::to_string(fd));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  ATTRIB_CHECK(!bytes.empty(), "model '", model.info().name, "' saved an empty checkpoint");
  return bytes;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out.good()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("cannot write " + path + " (" + std::strerror(errno) + ")");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + " (" + ec.message() + ")");
  }
}

std::string cache_dir() {
  if (const char* d = std::getenv("ATTRIB_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/attrib";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/attrib";
  return ".attrib-cache";
}

int configure_threads(int64_t threads) {
  static bool interop_set = false;
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

// A method's output, checked before anything is scored: a tensor of floating point, one map per
// example of the batch, dense maps with one value per input element, and finite values (a NaN or
// Inf map is an error row for the method, never a map that metrics rank).
void check_attributions(const at::Tensor& a, const Batch& batch) {
  ATTRIB_CHECK(a.defined(), "attributions: the method returned an undefined tensor");
  ATTRIB_CHECK(at::isFloatingType(a.scalar_type()),
               "attributions: expected a floating-point tensor, got ", a.scalar_type());
  ATTRIB_CHECK(a.dim() >= 1 && a.size(0) == batch.size(), "attributions: expected ", batch.size(),
               " maps (one per example), got shape ", a.sizes());
  if (batch.modality != Modality::kText) {
    const int64_t per_example = batch.inputs.numel() / std::max<int64_t>(1, batch.size());
    ATTRIB_CHECK(a.numel() == batch.size() * per_example, "attributions: expected ", per_example,
                 " values per example (the input's shape), got shape ", a.sizes());
  }
}

void check_finite(const at::Tensor& scores, const Batch& batch) {
  const at::Tensor bad = scores.isfinite().logical_not().reshape({scores.size(0), -1}).any(1);
  if (!bad.any().item<bool>()) return;
  const int64_t i = bad.to(at::kLong).argmax().item<int64_t>();
  throw Error("attributions: non-finite values (NaN or Inf) in the map of example '" +
              batch.ids.at(static_cast<size_t>(i)) + "' (" +
              std::to_string(bad.sum().item<int64_t>()) + " of " + std::to_string(batch.size()) +
              " examples in the batch)");
}

at::Tensor token_scores(const at::Tensor& attributions, const Batch& batch,
                        const std::string& reduction) {
  check_attributions(attributions, batch);
  at::Tensor a = attributions.to(at::kCPU, at::kFloat);
  if (batch.modality != Modality::kText) {
    a = a.reshape({a.size(0), -1});
    check_finite(a, batch);
    return a;
  }
  if (a.dim() == 3) {
    if (reduction == "sum") {
      a = a.sum(2);
    } else if (reduction == "mean") {
      a = a.mean(2);
    } else if (reduction == "l2") {
      a = a.norm(2, 2);
    } else if (reduction == "l1") {
      a = a.abs().sum(2);
    } else if (reduction == "max_abs") {
      at::Tensor idx = a.abs().argmax(2, /*keepdim=*/true);
      a = a.gather(2, idx).squeeze(2);
    } else {
      throw Error("token_reduction '" + reduction + "': expected sum, mean, l2, l1 or max_abs");
    }
  }
  ATTRIB_CHECK(a.dim() == 2 && a.size(0) == batch.size() && a.size(1) == batch.inputs.size(1),
               "attributions: expected [B, T] or [B, T, d] with B = ", batch.size(),
               ", T = ", batch.inputs.size(1), ", got ", a.sizes());
  a = a.masked_fill(batch.word_ids.to(at::kCPU) < 0, 0.0f);
  check_finite(a, batch);  // after masking: padding and special positions do not count
  return a;
}

at::Tensor feature_scores(const at::Tensor& attributions, const Batch& batch,
                          const std::string& reduction) {
  const at::Tensor a = token_scores(attributions, batch, reduction);
  if (batch.modality != Modality::kText) return a;
  // Subword tokens add up to their word, which is scored at its first token.
  return sum_to_word_starts(a, batch.word_ids.to(at::kCPU));
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
           {{"intra_op", at::get_num_threads()}, {"inter_op", at::get_num_interop_threads()}}},
          {"device", suite.device},
          {"cuda_available", at::hasCUDA()},
          {"seed", suite.seed},
          {"batch_cap", suite.batch_cap},
          {"explain_batch", suite.explain_batch},
          {"suite", suite.name},
          {"command_line", command_line}};
}

PermutedLabelModel train_on_permuted_labels(const ModelConfig& mc, const Dataset& ds,
                                            const DatasetConfig& dc, const Vocab& vocab,
                                            const Registry& registry, Progress& progress,
                                            uint64_t seed, int64_t max_rows) {
  ATTRIB_CHECK(mc.train.is_object(), "data randomisation: model '", mc.name,
               "' has no train block; the test retrains its architecture on permuted labels");
  const std::string split = mc.train.value("train_split", std::string("train"));
  Dataset perm = ds;
  std::mt19937_64 rng(stream_key(seed, "data-randomisation", 0x6c61));
  auto permute = [&](auto& examples) {
    for (size_t i = examples.size(); i > 1; --i) {
      const size_t j = stats::uniform_index(rng, i);
      std::swap(examples[i - 1].label, examples[j].label);
    }
  };
  if (ds.modality == Modality::kDense)
    permute(split == "train" ? perm.dense_train
            : split == "val" ? perm.dense_val
                             : perm.dense_test);
  else
    permute(split == "train" ? perm.train : split == "val" ? perm.val : perm.test);
  perm.hash = ds.hash + "|labels permuted, seed " + std::to_string(seed);
  ModelConfig pm = mc;
  pm.name = mc.name + "[permuted labels]";
  pm.train["patience"] = pm.train["epochs"];  // no early stopping: let it memorise
  TrainedModel t = train_or_load(pm, perm, dc, vocab, registry, progress);
  const double val_fraction = pm.train.value("val_fraction", 0.0);
  const Batch fit = training_batch(perm, split, vocab, dc.max_len, val_fraction,
                                   pm.train.at("seed").get<uint64_t>(), false);
  const at::Tensor pred = logits_of(*t.model, fit, max_rows).argmax(1);
  const double memorised =
      fit.size() > 0 ? (pred == fit.labels.to(at::kCPU)).to(at::kDouble).mean().item<double>() : 0;
  PermutedLabelModel out{t.model, json::object()};
  out.record = {{"labels", "training split '" + split + "' permuted (Fisher-Yates, seeded)"},
                {"label_seed", seed},
                {"train_accuracy_on_permuted_labels", memorised},
                {"val_accuracy_true_labels", t.report.value("val_accuracy", 0.0)},
                {"epochs_run", t.report.value("epochs_run", 0)},
                {"early_stopping", "off (patience = epochs)"},
                {"cached", t.report.value("cached", false)},
                {"checkpoint", t.checkpoint}};
  return out;
}

void for_each_model(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                    RunResults& res, const std::function<void(PreparedModel&)>& fn) {
  if (suite.device == "cuda" && !at::hasCUDA())
    throw Error("device: 'cuda' requested, but this LibTorch build has no CUDA device available");
  const at::Device device = suite.device == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  auto fail = [&](const std::string& where, const std::string& message) {
    res.errors.push_back({{"where", where}, {"message", message}});
    progress.note("error: " + where + ": " + message);
  };
  for (const auto& dc : suite.datasets) {
    Dataset ds;
    try {
      progress.stage("dataset " + dc.name, 1);
      ds = load_dataset(dc.name, dc.spec, dc.params);
      progress.done(std::to_string(ds.split_size("train")) + " train / " +
                    std::to_string(ds.split_size("val")) + " val / " +
                    std::to_string(ds.split_size("test")) + " test examples");
    } catch (...) {
      fail("datasets[" + dc.name + "]", in_flight_error());
      continue;
    }
    const Vocab dataset_vocab = fit_vocab(ds.train, dc.tokenizer, dc.vocab_min_freq, dc.vocab_size);
    // vocab_size is filled in below from the vocabularies the models use (the train split may be
    // empty, e.g. HateXplain trained on val).
    const size_t dataset_entry = res.datasets.size();
    json model_vocab_sizes = json::object();
    res.datasets.push_back({{"name", ds.name},
                            {"spec", ds.spec},
                            {"params", ds.params},
                            {"hash", ds.hash},
                            {"split", dc.split},
                            {"sizes",
                             {{"train", ds.split_size("train")},
                              {"val", ds.split_size("val")},
                              {"test", ds.split_size("test")}}},
                            {"tokenizer", dc.tokenizer},
                            {"vocab_size", nullptr},
                            {"vocab_min_freq", dc.vocab_min_freq}});

    for (const auto& mc : suite.models) {
      LoadedModel lm;
      Vocab used_vocab;
      Batches data;
      std::vector<at::Tensor> targets;
      try {
        // The vocabulary comes from the examples the model is trained on (as in `attrib train`).
        const std::string fit_split =
            mc.train.is_object() ? mc.train.value("train_split", std::string("train")) : "train";
        used_vocab =
            fit_split == "train" || ds.modality != Modality::kText
                ? dataset_vocab
                : fit_vocab(ds.split(fit_split), dc.tokenizer, dc.vocab_min_freq, dc.vocab_size);
        lm = acquire_model(mc, ds, dc, used_vocab, registry, suite, progress);
        used_vocab = model_vocab(lm.model->info(), used_vocab);
        const Vocab& vocab = used_vocab;
        data = make_batches(ds, dc, vocab, suite.explain_batch, device);
        int64_t correct = 0, total = 0;
        for (const auto& b : data.batches) {
          at::Tensor pred = logits_of(*lm.model, b, suite.batch_cap).argmax(1);
          correct += (pred == b.labels.to(at::kCPU)).sum().item<int64_t>();
          total += b.size();
          targets.push_back(suite.target == "gold" ? b.labels.to(at::kCPU) : pred);
        }
        lm.record["accuracy"] = {
            {"split", dc.split}, {"value", double(correct) / total}, {"n", total}};
        if (ds.modality == Modality::kText) {
          lm.record["vocab_size"] = vocab.size();
          model_vocab_sizes[mc.name] = vocab.size();
        }
        res.models.push_back(lm.record);
      } catch (...) {
        fail("models[" + mc.name + "] on " + ds.name, in_flight_error());
        continue;
      }
      PreparedModel p{&ds,
                      &mc,
                      lm.model,
                      std::move(data.batches),
                      std::move(data.annotations),
                      std::move(data.ids),
                      std::move(targets),
                      device,
                      &dc,
                      used_vocab};
      fn(p);
    }
    // The dataset's vocabulary size is that of its models' vocabulary when they share one;
    // otherwise null, with each model's size under vocab_sizes (and in models[].vocab_size).
    json& entry = res.datasets[dataset_entry];
    std::set<int64_t> sizes;
    for (const auto& [name, size] : model_vocab_sizes.items()) sizes.insert(size.get<int64_t>());
    if (sizes.size() == 1) entry["vocab_size"] = *sizes.begin();
    if (sizes.size() > 1) entry["vocab_sizes"] = model_vocab_sizes;
  }
}

RunResults run_suite(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                     const std::vector<std::string>& command_line) {
  RunResults res;
  res.context = run_context(suite, command_line);
  res.suite = suite.resolved;
  auto fail = [&](const std::string& where, const std::string& message) {
    res.errors.push_back({{"where", where}, {"message", message}});
    progress.note("error: " + where + ": " + message);
  };
  for_each_model(suite, registry, progress, res, [&](PreparedModel& data) {
    const Dataset& ds = *data.dataset;
    const ModelConfig& mc = *data.config;
    const at::Device device = data.device;
    std::vector<at::Tensor>& targets = data.targets;
    ModelAdapter& model = *data.model;

    // Explanations: computed once, shared by every metric.
    struct Explained {
      const MethodConfig* config;
      json info;
      std::vector<at::Tensor> scores;  // per batch [B, n]
      std::string error;
      std::shared_ptr<AttributionMethod> method;
    };
    // Feature scores of `method` on `batches` of `model` for the given targets.
    auto explain_scores = [&](AttributionMethod& method, ModelAdapter& model,
                              const std::vector<Batch>& batches,
                              const std::vector<at::Tensor>& tgts) {
      std::vector<at::Tensor> out;
      ExplainContext ctx{suite.seed, suite.batch_cap};
      for (size_t bi = 0; bi < batches.size(); ++bi) {
        Explanation e = method.explain(model, batches[bi], tgts[bi].to(device), ctx);
        out.push_back(feature_scores(e.attributions, batches[bi], suite.token_reduction));
      }
      return out;
    };
    std::vector<Explained> explained;
    // Features per explained example (words for text), for the methods' cost estimates.
    std::vector<int64_t> features_per_example;
    for (const Batch& b : data.batches) {
      if (b.modality == Modality::kText) {
        const at::Tensor words = word_starts(b.word_ids.to(at::kCPU)).sum(1).to(at::kLong);
        for (int64_t i = 0; i < b.size(); ++i)
          features_per_example.push_back(words[i].item<int64_t>());
      } else {
        for (int64_t i = 0; i < b.size(); ++i) features_per_example.push_back(b.inputs[i].numel());
      }
    }
    for (const auto& m : suite.methods) {
      Explained ex{&m, json::object(), {}, "", nullptr};
      const PluginInfo* plugin = registry.find(m.plugin, ATTRIB_KIND_METHOD);
      json summary = {{"dataset", ds.name},
                      {"model", mc.name},
                      {"method", m.name},
                      {"plugin", m.plugin},
                      {"params", m.params}};
      try {
        const uint64_t missing = plugin->capabilities & ~data.model->info().capabilities;
        if (missing) {
          std::string names;
          for (const auto& n : capability_names(missing)) names += (names.empty() ? "" : ", ") + n;
          throw Error("method '" + m.name + "' needs model capabilities [" + names +
                      "] that model '" + mc.name + "' lacks");
        }
        if (!suite.force) check_cost(m.name, plugin->metadata, m.params, features_per_example);
        auto method = registry.create_method(m.plugin, m.params, "methods[" + m.name + "].params");
        ex.method = method;
        ExplainContext ctx{suite.seed, suite.batch_cap};
        progress.stage("explain " + m.name + " (" + mc.name + ", " + ds.name + ")",
                       static_cast<int64_t>(data.batches.size()));
        const auto t0 = std::chrono::steady_clock::now();
        int64_t fwd = 0, bwd = 0;
        std::map<std::string, std::vector<double>> extras;
        for (size_t bi = 0; bi < data.batches.size(); ++bi) {
          const Batch& b = data.batches[bi];
          Explanation e = method->explain(model, b, targets[bi].to(device), ctx);
          if (bi == 0) ex.info = e.info;
          ex.scores.push_back(feature_scores(e.attributions, b, suite.token_reduction));
          fwd += e.forward_rows;
          bwd += e.backward_rows;
          for (const auto& [k, v] : e.extras) {
            at::Tensor t = v.to(at::kCPU, at::kDouble).contiguous();
            extras[k].insert(extras[k].end(), t.data_ptr<double>(),
                             t.data_ptr<double>() + t.numel());
          }
          progress.advance();
        }
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        summary["choices"] = ex.info;
        summary["seconds"] = secs;
        summary["n_examples"] = data.ids.size();
        summary["explanations_per_second"] = secs > 0 ? data.ids.size() / secs : 0.0;
        summary["forward_rows"] = fwd;
        summary["backward_rows"] = bwd;
        json ej = json::object();
        for (const auto& [k, v] : extras) {
          double sum_abs = 0, max_abs = 0;
          for (double x : v) {
            sum_abs += std::fabs(x);
            max_abs = std::max(max_abs, std::fabs(x));
          }
          ej[k] = {{"mean_abs", v.empty() ? 0.0 : sum_abs / v.size()}, {"max_abs", max_abs}};
        }
        summary["extras"] = ej;
        summary["status"] = "ok";
        progress.done(std::to_string(data.ids.size()) + " explanations");
      } catch (...) {
        ex.error = in_flight_error();
        summary["status"] = "error";
        summary["error"] = ex.error;
        fail("methods[" + m.name + "] on " + mc.name + "/" + ds.name, ex.error);
      }
      res.explanations.push_back(summary);
      explained.push_back(std::move(ex));
    }

    for (const auto& mt : suite.metrics) {
      const MetricSpec& spec = find_metric(mt.metric);
      progress.stage("metric " + mt.name + " (" + mc.name + ", " + ds.name + ")",
                     static_cast<int64_t>(explained.size() * data.batches.size()));
      // One metric instance scores every method of this (dataset, model), so that a metric
      // whose perturbations do not depend on the attribution can forward each of them once.
      std::unique_ptr<Metric> metric;
      std::string create_error;
      try {
        metric = spec.create(mt.params);
      } catch (...) {
        create_error = in_flight_error();
      }
      for (const auto& ex : explained) {
        const PluginInfo* plugin = registry.find(ex.config->plugin, ATTRIB_KIND_METHOD);
        ScoreRow row;
        row.dataset = ds.name;
        row.model = mc.name;
        row.method = ex.config->name;
        row.metric = mt.name;
        row.direction = spec.direction;
        row.method_info = method_info_of(*ex.config, *plugin, ex.info, suite);
        row.metric_info = {{"metric", spec.name}, {"seed", suite.seed}, {"choices", mt.params}};
        if (!mt.profile.empty()) row.metric_info["profile"] = mt.profile;
        if (!ex.error.empty()) {
          row.error = "explanation failed: " + ex.error;
          res.rows.push_back(std::move(row));
          continue;
        }
        try {
          if (!metric) throw Error(create_error);
          for (size_t bi = 0; bi < data.batches.size(); ++bi) {
            MetricInput in{model,          data.batches[bi],      ex.scores[bi],
                           targets[bi],    &data.annotations[bi], suite.seed,
                           suite.batch_cap};
            auto s = metric->score(in);
            row.scores.insert(row.scores.end(), s.begin(), s.end());
            for (auto& [name, part] : metric->components()) {
              std::vector<double>& all = row.components[name];
              all.insert(all.end(), part.begin(), part.end());
            }
            progress.advance();
          }
          row.example_ids = data.ids;
          row.aggregation = metric->aggregation();
          for (const auto& [name, part] : row.components)
            ATTRIB_CHECK(part.size() == row.scores.size(), "metric ", mt.name, ": component '",
                         name, "' has ", part.size(), " values for ", row.scores.size(),
                         " examples");
          row.metric_info["choices"] = metric->info();
          row.metric_info["aggregation"] = row.aggregation;
        } catch (...) {
          row.scores.clear();
          row.components.clear();
          row.error = in_flight_error();
          fail("metrics[" + mt.name + "] for " + ex.config->name, row.error);
        }
        res.rows.push_back(std::move(row));
      }
      progress.done("scored " + std::to_string(explained.size()) + " methods");
    }

    if (!suite.agreement.is_null()) {
      // Methods whose explanations succeeded, compared on every explained example.
      std::vector<std::string> names;
      std::vector<std::vector<at::Tensor>> scores;
      for (const auto& ex : explained)
        if (ex.error.empty()) {
          names.push_back(ex.config->name);
          scores.push_back(ex.scores);
        }
      if (names.size() >= 2) {
        std::vector<at::Tensor> valid;
        for (const auto& b : data.batches)
          valid.push_back(b.modality == Modality::kText ? word_starts(b.word_ids.to(at::kCPU))
                                                        : at::Tensor());
        AgreementOptions ao;
        ao.k = suite.agreement["k"];
        ao.abs = suite.agreement["abs"];
        ao.measures = suite.agreement["measures"].get<std::vector<std::string>>();
        ao.bootstrap_resamples = suite.stats.bootstrap_resamples;
        ao.confidence = suite.stats.confidence;
        ao.seed = suite.seed;
        ao.tie_break = suite.agreement["tie_break"];
        ao.tie_seed = suite.seed;
        ao.example_ids = data.ids;
        ao.dense_rank_match = suite.agreement["rank_match"] == "position_and_dense_rank";
        try {
          json m = agreement_matrices(names, scores, valid, ao);
          m["dataset"] = ds.name;
          m["model"] = mc.name;
          res.agreement.push_back(std::move(m));
        } catch (...) {
          fail("agreement on " + mc.name + "/" + ds.name, in_flight_error());
        }
      }
    }

    if (!suite.randomisation.is_null()) {
      const RandomisationOptions ro = randomisation_options(suite.randomisation, "randomisation");
      // The first max_examples explained examples, with their trained-model scores.
      std::vector<Batch> rb;
      std::vector<at::Tensor> rt, rvalid;
      int64_t have = 0;
      for (size_t bi = 0; bi < data.batches.size() && have < ro.max_examples; ++bi) {
        const int64_t take = std::min(data.batches[bi].size(), ro.max_examples - have);
        rb.push_back(slice_batch(data.batches[bi], 0, take));
        rt.push_back(targets[bi].slice(0, 0, take));
        // Text: the words (at their first token) are features; dense: every element (filled
        // per method).
        rvalid.push_back(rb.back().modality == Modality::kText
                             ? word_starts(rb.back().word_ids.to(at::kCPU))
                             : at::Tensor());
        have += take;
      }
      // Data randomisation: one model retrained on permuted labels, shared by every method.
      PermutedLabelModel permuted;
      std::string permuted_error;
      if (std::find(ro.tests.begin(), ro.tests.end(), "data") != ro.tests.end()) {
        try {
          permuted = train_on_permuted_labels(mc, ds, *data.dataset_config, data.vocab, registry,
                                              progress, suite.seed, suite.batch_cap);
          if (suite.device == "cuda") permuted.model->to(device);
        } catch (...) {
          permuted_error = in_flight_error();
        }
      }
      progress.stage("randomisation (" + mc.name + ", " + ds.name + ")",
                     static_cast<int64_t>(explained.size()));
      for (const auto& ex : explained) {
        json where = {{"dataset", ds.name}, {"model", mc.name}, {"method", ex.config->name}};
        if (!ex.error.empty()) {
          where["error"] = "explanation failed: " + ex.error;
          res.randomisation.push_back(where);
          progress.advance();
          continue;
        }
        std::vector<at::Tensor> original;
        for (size_t bi = 0; bi < rb.size(); ++bi)
          original.push_back(ex.scores[bi].slice(0, 0, rb[bi].size()));
        std::vector<at::Tensor> valid = rvalid;
        for (size_t bi = 0; bi < valid.size(); ++bi)
          if (!valid[bi].defined()) valid[bi] = at::ones(original[bi].sizes(), at::kBool);
        RandomisationInput in{
            model,
            rb,
            rt,
            original,
            valid,
            [&](ModelAdapter& model, const std::vector<at::Tensor>& tg) {
              return explain_scores(*ex.method, model, rb, tg);
            },
            suite.seed,
            where,
            permuted.model.get(),
            permuted.record,
            permuted_error,
            ds.modality == Modality::kDense ? ds.feature_shape : std::vector<int64_t>{}};
        json entries =
            run_randomisation(ro, in, suite.stats.bootstrap_resamples, suite.stats.confidence);
        for (auto& e : entries) {
          if (e.contains("error"))
            fail("randomisation[" + e["test"].get<std::string>() + "] for " + ex.config->name,
                 e["error"]);
          res.randomisation.push_back(std::move(e));
        }
        progress.advance();
      }
      progress.done("randomisation of " + std::to_string(explained.size()) + " methods");
    }

    if (!suite.throughput.is_null()) {
      const ThroughputOptions to = throughput_options(suite.throughput, "throughput");
      const ExplainContext ctx{suite.seed, suite.batch_cap};
      progress.stage("throughput (" + mc.name + ", " + ds.name + ")",
                     static_cast<int64_t>((explained.size() + 1) * to.batch_sizes.size()));
      for (int64_t bs : to.batch_sizes) {
        for (size_t k = 0; k <= explained.size(); ++k) {
          const bool reference = k == explained.size();
          json entry = {
              {"dataset", ds.name},
              {"model", mc.name},
              {"method", reference ? "model_forward_backward" : explained[k].config->name},
              {"kind", reference ? "reference" : "method"},
              {"device", suite.device},
              {"batch_size", bs},
              {"threads", at::get_num_threads()}};
          try {
            if (!reference && !explained[k].error.empty())
              throw Error("explanation failed: " + explained[k].error);
            Workload w(model, reference ? nullptr : explained[k].method.get(), data.batches,
                       targets, to.examples, bs, ctx);
            entry.update(time_workload(w, to.warmup, to.repetitions));
          } catch (...) {
            entry["error"] = in_flight_error();
            fail("throughput[" + entry["method"].get<std::string>() + "]", in_flight_error());
          }
          res.throughput.push_back(std::move(entry));
          progress.advance();
        }
      }
      progress.done(std::to_string(res.throughput.size()) + " workloads timed");
    }
  });
  return res;
}

}  // namespace attrib
