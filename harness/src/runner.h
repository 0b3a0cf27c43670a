#pragma once
// Runs a suite: dataset -> model -> method -> explanation cache -> metrics -> results.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attrib/model.h"
#include "config.h"
#include "data/dataset.h"
#include "progress.h"
#include "registry.h"
#include "results.h"

namespace attrib {

/// One (dataset, model) pair of a suite, ready to explain: the explained split collated once.
struct PreparedModel {
  const Dataset* dataset = nullptr;
  const ModelConfig* config = nullptr;
  std::shared_ptr<ModelAdapter> model;
  std::vector<Batch> batches;            ///< explain_batch examples each, on `device`
  std::vector<Annotations> annotations;  ///< per batch
  std::vector<std::string> ids;          ///< example ids in order
  std::vector<at::Tensor> targets;       ///< per batch, int64 [B] on the CPU
  at::Device device = at::kCPU;
  const DatasetConfig* dataset_config = nullptr;
  Vocab vocab;  ///< text: the vocabulary the model was trained with
};

/// Data randomisation (Adebayo et al. 2018; METRICS.md §2.4): model `mc` retrained with the same
/// recipe on its training split with the labels permuted by a seeded Fisher-Yates shuffle, without
/// early stopping so that it can memorise them (cached like any trained model). `record` says how
/// well it did: accuracy on the permuted training labels and on the true validation labels.
struct PermutedLabelModel {
  std::shared_ptr<ModelAdapter> model;
  nlohmann::json record;
};
PermutedLabelModel train_on_permuted_labels(const ModelConfig& mc, const Dataset& ds,
                                            const DatasetConfig& dc, const Vocab& vocab,
                                            const Registry& registry, Progress& progress,
                                            uint64_t seed, int64_t max_rows);

/// Loads every dataset and model of `suite` (training models or reusing cached ones), records
/// them in `res` (datasets, models with accuracy) and calls `fn` for each (dataset, model) pair.
/// A dataset or model that fails is recorded in res.errors and skipped.
void for_each_model(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                    RunResults& res, const std::function<void(PreparedModel&)>& fn);

/// Runs every (dataset, model, method, metric) of `suite`. Each explanation is computed once and
/// shared by all metrics. A failing model, method or metric becomes error rows; the run goes on.
RunResults run_suite(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                     const std::vector<std::string>& command_line);

/// The context block: versions, git commit, host, date, threads, device, seed.
nlohmann::json run_context(const SuiteConfig& suite, const std::vector<std::string>& command_line);

/// A trained model with what produced it.
struct TrainedModel {
  std::shared_ptr<ModelAdapter> model;
  nlohmann::json params;  ///< the plugin parameters, with the dataset-derived ones added
  /// epochs_run, val_accuracy, val_macro_f1, history, options (canonical), n_train, n_val,
  /// train_seconds, cache_key, and cached (true when loaded instead of trained).
  nlohmann::json report;
  std::string checkpoint;  ///< the cached .pt under cache_dir()/models
};

/// Trains model `mc` (mc.train: resolved training options) on `ds`, or loads it from the model
/// cache when the same plugin, parameters, data and options were trained before; a model it
/// trains is saved to the cache. The one place where the harness trains models: suites and
/// `attrib train` share it and therefore the cache. `vocab`: text vocabulary injected into the
/// parameters; `dc`: max_len (text collation, part of the key). Besides the suite's options,
/// mc.train may name "train_split" (default "train") and "val_split" (default "val") or
/// "val_fraction" (> 0: validation carved off the training split by a per-example hash).
/// `use_cache` false: train even when a cached model exists (the new one replaces it).
/// Throws attrib::Error for an unknown plugin, bad parameters or an untrainable model.
TrainedModel train_or_load(const ModelConfig& mc, const Dataset& ds, const DatasetConfig& dc,
                           const Vocab& vocab, const Registry& registry, Progress& progress,
                           bool use_cache = true);

/// Folder where trained built-in models are cached: $ATTRIB_CACHE_DIR, else
/// $XDG_CACHE_HOME/attrib, else ~/.cache/attrib.
std::string cache_dir();

/// The whole content of a file (a model checkpoint: a few MB); throws attrib::Error if unreadable.
std::string file_bytes(const std::string& path);

/// The checkpoint `model.save()` writes, as bytes. It is written to an in-memory file first
/// (memfd), so that a full disk can never abort the process: LibTorch's writer throws from a
/// destructor on a failed write, which terminates. Throws attrib::Error if saving fails.
std::string checkpoint_bytes(ModelAdapter& model);

/// Writes `bytes` to `path` through a temporary name in the same folder and a rename; throws
/// attrib::Error naming the path on any I/O error (full disk, read-only folder), leaving nothing.
void write_file_atomically(const std::string& path, const std::string& bytes);

/// Reduces text attributions [B, T, d] to token scores [B, T] ("sum", "mean", "l2", "l1",
/// "max_abs": the signed value of largest magnitude); [B, T] passes through; special tokens and
/// padding (word_ids < 0) are set to 0. Dense [B, ...] is flattened to [B, n].
at::Tensor token_scores(const at::Tensor& attributions, const Batch& batch,
                        const std::string& reduction);

/// The scores metrics see: token_scores, and for text each word's tokens summed into its first
/// token (other positions 0; with word-level tokens nothing moves).
at::Tensor feature_scores(const at::Tensor& attributions, const Batch& batch,
                          const std::string& reduction);

/// Sets torch's intra-op threads (0 = all cores) and inter-op threads once; returns the count.
int configure_threads(int64_t threads);

}  // namespace attrib
