#pragma once
// The one place where the harness trains models, and the model cache it keeps. Suites (prepare
// stage, data randomisation) and `attrib train` share it and therefore the cache.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "attrib/model.h"
#include "config.h"
#include "data/dataset.h"
#include "progress.h"
#include "registry.h"

namespace attrib {

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
/// trains is saved to the cache. `vocab`: text vocabulary injected into the parameters; `dc`:
/// max_len (text collation, part of the key). Besides the suite's options, mc.train may name
/// "train_split" (default "train") and "val_split" (default "val") or "val_fraction" (> 0:
/// validation carved off the training split by a per-example hash). `use_cache` false: train
/// even when a cached model exists (the new one replaces it).
/// Throws attrib::Error for an unknown plugin, bad parameters or an untrainable model.
TrainedModel train_or_load(const ModelConfig& mc, const Dataset& ds, const DatasetConfig& dc,
                           const Vocab& vocab, const Registry& registry, Progress& progress,
                           bool use_cache = true);

/// Training or validation examples, collated (CPU): `split`, or with `val_fraction` > 0 the part
/// of it kept for training (`want_val` false) or carved off as validation (`want_val` true).
Batch training_batch(const Dataset& ds, const std::string& split, const Vocab& vocab,
                     int64_t max_len, double val_fraction, uint64_t seed, bool want_val);

/// `params` with the dataset-derived parameters the plugin's `schema` declares and the user did
/// not set (num_classes, class names, input shape, vocabulary, special ids, max_len).
nlohmann::json with_dataset_params(nlohmann::json params, const nlohmann::json& schema,
                                   const Dataset& ds, const Vocab& vocab, const DatasetConfig& dc);

/// Folder where trained built-in models are cached: $ATTRIB_CACHE_DIR, else
/// $XDG_CACHE_HOME/attrib, else ~/.cache/attrib.
std::string cache_dir();

/// The checkpoint `model.save()` writes, as bytes. It is written to an in-memory file first
/// (memfd), so that a full disk can never abort the process: LibTorch's writer throws from a
/// destructor on a failed write, which terminates. Throws attrib::Error if saving fails.
std::string checkpoint_bytes(ModelAdapter& model);

}  // namespace attrib
