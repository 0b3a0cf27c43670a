#pragma once
// Dense (tabular and image) datasets: readers for `csv:FILE`, `arff:FILE`, `idx:DIR` and
// `images:DIR`, and the generators `synthetic:tabular_linear`, `synthetic:tabular_nonlinear` and
// `synthetic:block_mnist`. Errors on bad input read FILE:LINE: what was expected, what was found
// (FILE: byte N for binary IDX files).
#include <nlohmann/json.hpp>
#include <string>

#include "dataset.h"

namespace attrib {

/// Where the dataset-fashion-mnist Debian package installs its IDX files; the default of
/// `idx:` (empty DIR) and of block_mnist's `dir`.
extern const char* const kFashionMnistDir;

/// True for the dense specs above.
bool is_dense_spec(const std::string& spec);

/// Parameter schema of a dense spec.
nlohmann::json dense_params_schema(const std::string& spec);

/// Reads or generates a dense dataset with resolved `params`. `report` (when given) receives
/// {"format", "sources", "splits": {split: {"rows", "dropped"}}, "notes"} as the text readers do.
Dataset read_dense_dataset(const std::string& name, const std::string& spec,
                           const nlohmann::json& params, nlohmann::json* report);

}  // namespace attrib
