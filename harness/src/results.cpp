#include "results.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "analysis.h"
#include "attrib/error.h"
#include "common/stats.h"
#include "json_values.h"
#include "leaderboard.h"
#include "reporters.h"

namespace attrib {

namespace {

using nlohmann::json;

// Writes `text` to a temporary file beside `path` and flushes it to the disk; returns the
// temporary name. A failure (a full disk shows up at write, flush or close) removes it and
// throws naming `path`.
std::filesystem::path write_temporary(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  const auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw Error(path.string() + ": " + what + " (" + reason + ")");
  };
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot open for writing");
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() &&
                       std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  if (std::fclose(f) != 0 || !written) {
    if (!written) errno = saved;
    fail("write failed");
  }
  return tmp;
}

}  // namespace

nlohmann::json results_document(const RunResults& results, const nlohmann::json& leaderboards) {
  json rows = json::array();
  for (const ScoreRow& row : results.rows) {
    json scores = json::array();
    for (double v : row.scores) scores.push_back(num(v));
    json components = json::object();
    for (const auto& [name, part] : row.components) {
      json values = json::array();
      for (double v : part) values.push_back(num(v));
      components[name] = std::move(values);
    }
    rows.push_back({{"dataset", row.dataset},
                    {"model", row.model},
                    {"method", row.method},
                    {"metric", row.metric},
                    {"direction", row.direction},
                    {"method_info", row.method_info},
                    {"metric_info", row.metric_info},
                    {"n", row.scores.size() - stats::count_undefined(row.scores)},
                    {"n_undefined", stats::count_undefined(row.scores)},
                    {"example_ids", row.example_ids},
                    {"scores", std::move(scores)},
                    {"aggregation", row.aggregation},
                    {"components", std::move(components)},
                    {"error", row.error.empty() ? json(nullptr) : json(row.error)}});
  }
  json errors = results.errors.is_array() ? results.errors : json::array();
  if (const json& extra = at_or_null(leaderboards, "errors"); extra.is_array())
    for (const json& e : extra) errors.push_back(e);
  json doc;
  doc["json_schema_version"] = kResultsSchemaVersion;
#ifdef ATTRIB_VERSION
  doc["attrib_version"] = ATTRIB_VERSION;
#endif
  doc["context"] = results.context;
  doc["suite"] = results.suite;
  doc["datasets"] = results.datasets;
  doc["models"] = results.models;
  doc["explanations"] = results.explanations;
  doc["scoring"] = results.scoring;
  for (const AnalysisSpec& a : analysis_catalogue()) {
    const auto it = results.analyses.find(a.name);
    doc[a.name] = it == results.analyses.end() ? json::array() : it->second;
  }
  doc["rows"] = std::move(rows);
  doc["leaderboards"] = leaderboards;
  doc["errors"] = std::move(errors);
  return doc;
}

void write_results(const std::string& dir, const RunResults& results, const StatsOptions& options) {
  const std::filesystem::path root(dir);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  ATTRIB_CHECK(!ec, dir, ": cannot create the results directory (", ec.message(), ")");
  const json doc = results_document(results, compute_leaderboards(results, options));
  // All three under temporary names first, then renamed: a full disk or a crash leaves the old
  // files or the new ones, never a half-written one.
  const std::vector<std::pair<std::filesystem::path, std::string>> files = {
      {root / "results.json", doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n"},
      {root / "leaderboard.md", leaderboard_markdown(doc)},
      {root / "leaderboard.csv", leaderboard_csv(doc)}};
  std::vector<std::filesystem::path> temporaries;
  try {
    for (const auto& [path, text] : files) temporaries.push_back(write_temporary(path, text));
    for (size_t i = 0; i < files.size(); ++i) {
      std::filesystem::rename(temporaries[i], files[i].first, ec);
      ATTRIB_CHECK(!ec, files[i].first.string(), ": cannot rename ", temporaries[i].string(),
                   " to it (", ec.message(), ")");
    }
  } catch (const Error&) {
    for (const auto& t : temporaries) std::filesystem::remove(t, ec);
    throw;
  }
}

}  // namespace attrib
