#pragma once
// Export of the attributions a run kept in its store, one feature score per word (text) or per
// input element (dense): JSONL in the `precomputed` method plugin's own format (so an export can
// be evaluated again as a method), or a NumPy .npz archive.
#include <ostream>
#include <set>
#include <string>

#include "store/store.h"

namespace attrib {

/// Which explanations to export (empty: all) from the units of the store's latest run.
struct ExportFilter {
  std::string method, dataset, model;
};

struct ExportSummary {
  int64_t examples = 0;           ///< (example, method) pairs written
  std::set<std::string> methods;  ///< methods written
};

/// One line per (example, method): {"id", "method", "dataset", "model", "scores": [...]}.
ExportSummary export_jsonl(RunStore& store, std::ostream& out, const ExportFilter& filter);

/// Per (dataset, model, method) "DATASET/MODEL/METHOD/" + "scores" (float32: [N, words] padded
/// with NaN for text, [N, *input shape] for dense), "ids" (unicode) and, for text, "lengths"
/// (int64 words per example).
ExportSummary export_npz(RunStore& store, const std::string& path, const ExportFilter& filter);

}  // namespace attrib
