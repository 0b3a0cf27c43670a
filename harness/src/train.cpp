#include "train.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "attrib/error.h"
#include "attrib/hash.h"
#include "attrib/random.h"
#include "attrib/user_input.h"
#include "files.h"

namespace attrib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// The content hashes of the cache (key, checkpoint) with the basis they have always used, so that
/// existing cache entries stay valid.
std::string content_hash(std::string_view bytes) {
  Fnv1a h(kFnv1aLegacyBasis);
  h.add(bytes);
  return h.hex();
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

/// The recipe of mc.train as TrainOptions, and in one canonical form (numbers as doubles where
/// they are real-valued) so that `attrib train` and a suite that ask for the same training share
/// one cache entry.
struct Recipe {
  TrainOptions opts;
  std::string train_split, val_split;
  double val_fraction = 0;
  json canonical;
};

Recipe recipe_of(const ModelConfig& mc) {
  Recipe r;
  TrainOptions& opts = r.opts;
  opts.epochs = mc.train.at("epochs").get<int64_t>();
  opts.batch_size = mc.train.at("batch_size").get<int64_t>();
  opts.learning_rate = mc.train.at("learning_rate").get<double>();
  opts.weight_decay = mc.train.at("weight_decay").get<double>();
  opts.patience = mc.train.at("patience").get<int64_t>();
  opts.seed = mc.train.at("seed").get<uint64_t>();
  // Optional: which splits train and validate; val_fraction > 0 carves validation off the
  // training split (for corpora shipped without one of them).
  r.train_split = mc.train.value("train_split", std::string("train"));
  r.val_split = mc.train.value("val_split", std::string("val"));
  r.val_fraction = mc.train.value("val_fraction", 0.0);
  ATTRIB_CHECK(r.val_fraction >= 0 && r.val_fraction < 1, "models[", mc.name,
               "].train.val_fraction: expected a number in [0, 1), got ", r.val_fraction);
  r.canonical = {{"epochs", opts.epochs},
                 {"batch_size", opts.batch_size},
                 {"learning_rate", opts.learning_rate},
                 {"weight_decay", opts.weight_decay},
                 {"patience", opts.patience},
                 {"seed", opts.seed}};
  if (r.train_split != "train") r.canonical["train_split"] = r.train_split;
  if (r.val_fraction > 0)
    r.canonical["val_fraction"] = r.val_fraction;
  else if (r.val_split != "val")
    r.canonical["val_split"] = r.val_split;
  return r;
}

/// Loads the cache entry (`pt`, `report`) into `out` when it is intact; false (with a warning)
/// when it is damaged: an entry is used only when its checkpoint has the size and hash its report
/// recorded and loads, so a truncated one (a full disk, a copy cut short) is trained again.
bool load_cached(const ModelConfig& mc, const Dataset& ds, const Registry& registry,
                 Progress& progress, const fs::path& pt, const fs::path& report,
                 TrainedModel& out) {
  std::string why;
  try {
    std::ifstream in(report);
    json r = json::parse(in, nullptr, false);
    const std::string bytes = file_bytes(pt);
    if (!r.is_object()) {
      why = "its report is not valid JSON";
    } else if (r.contains("checkpoint_bytes") &&
               (r["checkpoint_bytes"] != bytes.size() ||
                r.value("checkpoint_fnv1a", std::string()) != content_hash(bytes))) {
      why = "the checkpoint has " + std::to_string(bytes.size()) +
            " bytes or a hash other than the " + r["checkpoint_bytes"].dump() + " bytes recorded";
    } else {
      json p = out.params;
      p["checkpoint"] = pt.string();
      out.model = registry.create_model(mc.plugin, p, "models[" + mc.name + "].params");
      out.report = std::move(r);
      out.report["cached"] = true;
      progress.note("model " + mc.name + " on " + ds.name + ": loaded from cache " + pt.string());
      return true;
    }
  } catch (...) {
    why = in_flight_error();
  }
  progress.note("warning: model cache entry " + pt.string() + " is damaged (" + why +
                "); training again");
  return false;
}

/// Writes a trained model's cache entry under temporary names and renames, so that concurrent
/// runs sharing the cache never read a half-written entry (the report, renamed last, marks the
/// entry complete). A cache that cannot be written (full disk, read-only folder) costs only the
/// caching: the trained model is used as it is, with a warning.
void store_in_cache(const fs::path& dir, const fs::path& pt, const fs::path& report,
                    Progress& progress, TrainedModel& out) {
  try {
    fs::create_directories(dir);
    const std::string bytes = checkpoint_bytes(*out.model);
    json entry = out.report;
    entry["checkpoint_bytes"] = bytes.size();
    entry["checkpoint_fnv1a"] = content_hash(bytes);
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
}

/// An exclusive flock on a cache entry's lock file while it is checked and trained, released
/// when the process ends in any way. A cache folder that takes no lock file (read-only) works
/// without one.
class CacheLock {
 public:
  explicit CacheLock(const fs::path& path) {
    if (path.empty()) return;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~CacheLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

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
  Recipe rc = recipe_of(mc);
  TrainOptions& opts = rc.opts;

  // Identical (plugin, params, data, training options) => identical model: reuse it. The file
  // name carries the plugin, not the suite's model name, so every caller finds the same entry.
  json key_doc = {
      {"plugin", mc.plugin},   {"version", plugin->version}, {"fingerprint", plugin->fingerprint},
      {"params", out.params},  {"dataset_hash", ds.hash},    {"dataset_params", ds.params},
      {"train", rc.canonical}, {"max_len", dc.max_len}};
  const std::string key = content_hash(key_doc.dump());
  const fs::path dir = fs::path(cache_dir()) / "models";
  // Plugin names come from plugin files anyone can put on the search path; one must not reach
  // outside the cache folder.
  ATTRIB_CHECK(is_safe_path_component(mc.plugin), "models[", mc.name, "].plugin: plugin name \"",
               mc.plugin, "\" cannot name a cache file (expected ", kSafePathComponentRule, ")");
  const fs::path pt = dir / (mc.plugin + "-" + key + ".pt");
  const fs::path report = dir / (mc.plugin + "-" + key + ".json");
  out.checkpoint = pt.string();
  // Shards and MPI ranks prepare the same models at once: one trains, the others wait for the
  // lock and then load its cache entry.
  const CacheLock lock(use_cache ? dir / (mc.plugin + "-" + key + ".lock") : fs::path());
  if (use_cache && fs::exists(pt) && fs::exists(report) && schema.contains("checkpoint") &&
      load_cached(mc, ds, registry, progress, pt, report, out))
    return out;
  out.model = registry.create_model(mc.plugin, out.params, "models[" + mc.name + "].params");
  ATTRIB_CHECK(out.model->has(ATTRIB_CAP_TRAINABLE), "models[", mc.name, "]: plugin '", mc.plugin,
               "' is not trainable, but training options were given");
  progress.stage("train " + mc.name + " on " + ds.name, opts.epochs);
  opts.on_epoch = [&](int64_t, int64_t, double, double) { progress.advance(); };
  const Batch train = training_batch(ds, rc.train_split, vocab, dc.max_len, rc.val_fraction,
                                     opts.seed, /*want_val=*/false);
  const Batch val =
      rc.val_fraction > 0
          ? training_batch(ds, rc.train_split, vocab, dc.max_len, rc.val_fraction, opts.seed, true)
          : training_batch(ds, rc.val_split, vocab, dc.max_len, 0.0, opts.seed, false);
  const auto t0 = std::chrono::steady_clock::now();
  TrainReport r = out.model->train(train, val, opts);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.done("val accuracy " + std::to_string(r.val_accuracy));
  out.report = {{"epochs_run", r.epochs_run},
                {"val_accuracy", r.val_accuracy},
                {"val_macro_f1", r.val_macro_f1},
                {"history", r.history},
                {"options", rc.canonical},
                {"n_train", train.size()},
                {"n_val", val.size()},
                {"train_seconds", secs},
                {"cache_key", key}};
  store_in_cache(dir, pt, report, progress, out);
  out.report["cached"] = false;
  return out;
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

std::string cache_dir() {
  if (const char* d = std::getenv("ATTRIB_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/attrib";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/attrib";
  return ".attrib-cache";
}

}  // namespace attrib
