#pragma once
// The run store: finished work of a run kept in <out>/store.sqlite, so that a run that is killed,
// extended (a new metric or method) or re-run computes only what is missing, and so that the
// attributions can be exported and looked at. Units (explanation batches, metric scores of one
// explanation batch, analyses of one (dataset, model)) are keyed by a hash of everything that
// determines their values (unit_key.h); each finished unit is committed in one transaction. The
// schema is documented in README ("The run store").
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace attrib {

/// One explanation batch: the token scores (after the suite's token reduction, before subword
/// tokens are summed into their word; float32, one row per example) and what the method recorded.
struct ExplanationUnit {
  std::string key;
  nlohmann::json identity;                     ///< the fields the key hashes (unit_key.h)
  std::string dataset, model, method, plugin;  ///< labels of the run that last used the unit
  int64_t batch = 0;                           ///< index of the batch in the explained split
  std::vector<std::string> ids;                ///< example ids, in batch order
  at::Tensor token_scores;                     ///< float32 [B, ...]
  /// Text: int64 [B, T] word index of each token (-1: special or padding) and each example's
  /// tokens as strings (unpadded), so that readers can show and regroup the scores. Dense: empty.
  at::Tensor word_ids;
  std::vector<std::vector<std::string>> tokens;
  nlohmann::json info = nlohmann::json::object();
  double seconds = 0;
  int64_t forward_rows = 0, backward_rows = 0;
  std::map<std::string, std::vector<double>> extras;  ///< per extra output, its values
};

/// One metric's scores of one explanation batch.
struct ScoreUnit {
  std::string key, explanation_key;
  nlohmann::json identity;
  std::string dataset, model, method, metric;
  int64_t batch = 0;
  std::vector<double> scores;
  std::map<std::string, std::vector<double>> components;
  std::map<std::string, std::vector<double>> curves;  ///< Metric::curves(): [B x kCurvePoints]
  nlohmann::json info;                                ///< Metric::info() after the batch
  std::string aggregation;
  double seconds = 0;
  /// Where the seconds went: model rows forwarded and the seconds inside those calls, and rows
  /// taken from shared outputs instead (metric.h SharedForwards). `costed` is false for units of
  /// stores written before attrib kept these.
  bool costed = false;
  int64_t forward_rows = 0, saved_rows = 0;
  double model_seconds = 0;
};

/// One analysis of one (dataset, model): its results entries.
struct AnalysisUnit {
  std::string key;
  nlohmann::json identity;
  std::string analysis, dataset, model;
  nlohmann::json entries = nlohmann::json::array();
  double seconds = 0;
};

/// Units computed by this process and units reused from the store, per kind.
struct StoreCounts {
  int64_t explanations_computed = 0, explanations_reused = 0;
  int64_t scores_computed = 0, scores_reused = 0;
  int64_t analyses_computed = 0, analyses_reused = 0;
  double seconds = 0;  ///< time spent reading and writing the store
  nlohmann::json to_json() const;
};

class RunStore {
 public:
  /// Version of the store's tables. Bump on any change a reader must know about; a store of a
  /// newer version is refused (never written by an older attrib).
  static constexpr int kSchemaVersion = 1;

  /// Opens `path`, creating it (and its tables) when absent. Checks the file with PRAGMA
  /// quick_check and its schema version; throws attrib::Error naming the file for a file that is
  /// not an attrib store, is damaged, or has a newer schema, or that cannot be created (a full
  /// disk: the file is removed again). `read_only` never creates or writes.
  explicit RunStore(const std::string& path, bool read_only = false);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  const std::string& path() const { return path_; }

  /// Starts a run record (its context); later units are attributed to it.
  void begin_run(const nlohmann::json& context);
  /// Ends the run record: "complete" or "incomplete", with the counts.
  void end_run(const std::string& status);

  /// Called once with a message when a write fails (e.g. the disk filled up during the run): the
  /// store then stops reading and writing, and the run goes on without it, so that no computed
  /// result is lost to the store.
  void on_failure(std::function<void(const std::string&)> warn) { warn_ = std::move(warn); }
  bool failed() const { return failed_; }

  std::optional<ExplanationUnit> find_explanation(const std::string& key);
  /// Commits `u` (one transaction).
  void put_explanation(const ExplanationUnit& u);
  std::optional<ScoreUnit> find_score(const std::string& key);
  void put_score(const ScoreUnit& u);
  std::optional<AnalysisUnit> find_analysis(const std::string& key);
  void put_analysis(const AnalysisUnit& u);

  /// Records that this run reused the explanation unit `key` under these labels (export and the
  /// report list the units of the latest run).
  void touch_explanation(const std::string& key, const std::string& dataset,
                         const std::string& model, const std::string& method);

  /// Records that this run reused the score unit `key` (the report's curves are those of the
  /// latest run).
  void touch_score(const std::string& key);

  /// Per (dataset, model, method, metric, curve name) of the latest run: every example's curve,
  /// [examples x kCurvePoints] row-major, in the run's example order.
  struct Curves {
    std::string dataset, model, method, metric, name;
    std::vector<double> data;
  };
  std::vector<Curves> latest_curves();

  /// The keys of the explanation units the latest run used, in the order it used them;
  /// `method` filters when not empty.
  std::vector<std::string> latest_explanation_keys(const std::string& method = "");

  /// put_* and touch_* count computed and reused units; callers count reused analysis units.
  StoreCounts& counts() { return counts_; }

  /// Copies every unit of the store at `other` (a shard's) into this one, in one transaction;
  /// units already here are kept. Checks `other` like the constructor does.
  void absorb(const std::string& other);

 private:
  void exec(const std::string& sql);
  /// One transaction; `unit`: a unit of work (counted by the fault hooks), not run bookkeeping.
  void commit_unit(const std::function<void()>& writes, bool unit = true);
  void fail(const class Error& e);
  std::string path_;
  bool failed_ = false;
  std::function<void(const std::string&)> warn_;
  sqlite3* db_ = nullptr;
  int64_t run_id_ = 0;
  int64_t seq_ = 1;  ///< next explanation_units.seq
  int64_t units_committed_ = 0;
  StoreCounts counts_;
};

}  // namespace attrib
