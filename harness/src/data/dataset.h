#pragma once
// Datasets: examples with labels and optional annotations, a vocabulary, and collation into the
// SDK's Batch. A dataset SPEC is `FORMAT:PATH` or `synthetic:GENERATOR`.
// Examples, vocabularies and collation have their own headers, included here so that one
// include gives a caller the whole data API.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/model.h"
#include "data/collate.h"
#include "data/examples.h"
#include "data/vocab.h"

namespace attrib {

/// A loaded dataset with its splits. Text datasets fill train/val/test; dense datasets
/// (modality kDense) fill dense_train/dense_val/dense_test and the feature description.
struct Dataset {
  std::string name;
  std::string spec;
  nlohmann::json params;  ///< resolved generator/reader options
  Modality modality = Modality::kText;
  std::vector<std::string> class_names;
  std::vector<TextExample> train, val, test;
  std::vector<int64_t> feature_shape;  ///< dense: shape of one example, e.g. {13} or {1, 28, 28}
  std::vector<std::string> feature_names;  ///< dense: one per value of x (tabular), else empty
  nlohmann::json encoding;  ///< dense: how features were derived (one-hot maps, scaling, ...)
  std::vector<DenseExample> dense_train, dense_val, dense_test;
  std::string hash;  ///< content hash of all splits (recorded with results)

  const std::vector<TextExample>& split(const std::string& name) const;
  const std::vector<DenseExample>& dense_split(const std::string& name) const;
  /// Examples in split `name` of whichever modality the dataset has.
  size_t split_size(const std::string& name) const;
  /// Values per dense example: the product of feature_shape (0 for text).
  int64_t num_features() const;
};

/// Parameter schema of a dataset SPEC's options (for suite validation).
nlohmann::json dataset_params_schema(const std::string& spec);

/// Loads or generates a dataset: looks the SPEC up in the format table (data/formats.h), resolves
/// `params` against its schema and reads. Throws attrib::Error naming the spec (or file:line) on
/// failure. (No run seed: a generator's or a seeded split's seed is one of its params, so that a
/// suite's data stay fixed when its run seed changes.)
Dataset load_dataset(const std::string& name, const std::string& spec,
                     const nlohmann::json& params);

/// As load_dataset, also filling `report` with what the reader read and dropped: {"format",
/// "sources": {split: file}, "splits": {split: {"rows": n, "dropped": {reason: n}}}, "notes":
/// {...}} (an empty object for synthetic:planted_text, which reads nothing).
Dataset load_dataset_reported(const std::string& name, const std::string& spec,
                              const nlohmann::json& params, nlohmann::json* report);

}  // namespace attrib
