#pragma once
// The per-split statistics `attrib data` prints: what a dataset holds and what its reader
// dropped, from the loaded Dataset and the reader's report (load_dataset_reported).
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace attrib {

/// Per-split statistics of a loaded dataset: examples, label distribution, annotated examples,
/// mean rationale length (tokens marked, over annotated examples), mean length, plus the reader's
/// dropped counts from `report`.
nlohmann::json dataset_summary(const Dataset& d, const nlohmann::json& report);

/// Human-readable rendering of dataset_summary().
std::string render_dataset_summary(const nlohmann::json& summary);

}  // namespace attrib
