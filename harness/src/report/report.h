#pragma once
// The HTML report of a run: one self-contained page (inline CSS and SVG, a little JavaScript for
// sorting and filtering only; no network, every chart renders without JavaScript) built from the
// results document and, for the example explorer, the attributions in the run store. README
// ("The HTML report") describes its sections.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace attrib {

class RunStore;

struct ReportOptions {
  /// Most examples shown per (dataset, model) in the example explorer: the best, worst and
  /// most-disagreed-upon example of every metric first, then a sample seeded by the run's seed.
  int64_t examples = 50;
};

/// The page for `document` (results_document() or a parsed results.json). `store` (may be null:
/// the explorer then says why it is empty) supplies the attributions of the latest run.
std::string report_html(const nlohmann::json& document, RunStore* store,
                        const ReportOptions& options = {});

/// Reads RUN_DIR/results.json and, when present and `use_store`, RUN_DIR/store.sqlite (read-only),
/// and writes the page to `out_path` (atomically). Throws attrib::Error naming the file on a
/// missing or malformed results.json or an unreadable store. Returns the page's size in bytes.
size_t write_report(const std::string& run_dir, const std::string& out_path,
                    const ReportOptions& options = {}, bool use_store = true);

}  // namespace attrib
