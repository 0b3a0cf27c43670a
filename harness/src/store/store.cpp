#include "store/store.h"

#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>

#include "attrib/error.h"
#include "metric.h"
#include "store/sqlite.h"

namespace attrib {

using nlohmann::json;
using store_detail::blob_doubles;
using store_detail::doubles_blob;
using store_detail::parse_column;
using store_detail::Stmt;

namespace {

// The tables (README "The run store" documents them for readers outside attrib). Blobs are
// little-endian arrays: attributions float32 (one row per example, `shape` its dimensions),
// word_ids int32 (text only), scores, components and extras float64 (one value per example of the
// unit). Analysis entries are CBOR (RFC 8949), which keeps NaN and Inf that JSON text cannot hold.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY, started_utc TEXT NOT NULL, finished_utc TEXT, status TEXT NOT NULL,
  context TEXT NOT NULL, counts TEXT);
CREATE TABLE IF NOT EXISTS explanation_units(
  key TEXT PRIMARY KEY, identity TEXT NOT NULL, dataset TEXT NOT NULL, model TEXT NOT NULL,
  method TEXT NOT NULL, plugin TEXT NOT NULL, batch INTEGER NOT NULL, info TEXT NOT NULL,
  seconds REAL NOT NULL, forward_rows INTEGER NOT NULL, backward_rows INTEGER NOT NULL,
  run_id INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attributions(
  unit TEXT NOT NULL REFERENCES explanation_units(key), position INTEGER NOT NULL,
  example_id TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL,
  word_ids BLOB, tokens TEXT, PRIMARY KEY(unit, position));
CREATE TABLE IF NOT EXISTS extras(
  unit TEXT NOT NULL REFERENCES explanation_units(key), name TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(unit, name));
CREATE TABLE IF NOT EXISTS score_units(
  key TEXT PRIMARY KEY, explanation_unit TEXT NOT NULL, identity TEXT NOT NULL,
  dataset TEXT NOT NULL, model TEXT NOT NULL, method TEXT NOT NULL, metric TEXT NOT NULL,
  batch INTEGER NOT NULL, scores BLOB NOT NULL, info TEXT NOT NULL, aggregation TEXT NOT NULL,
  seconds REAL NOT NULL, run_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS score_components(
  unit TEXT NOT NULL REFERENCES score_units(key), name TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(unit, name));
CREATE TABLE IF NOT EXISTS score_curves(
  unit TEXT NOT NULL REFERENCES score_units(key), name TEXT NOT NULL, points INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(unit, name));
CREATE TABLE IF NOT EXISTS score_costs(
  unit TEXT PRIMARY KEY REFERENCES score_units(key), forward_rows INTEGER NOT NULL,
  saved_rows INTEGER NOT NULL, model_seconds REAL NOT NULL);
CREATE TABLE IF NOT EXISTS analysis_units(
  key TEXT PRIMARY KEY, identity TEXT NOT NULL, analysis TEXT NOT NULL, dataset TEXT NOT NULL,
  model TEXT NOT NULL, entries BLOB NOT NULL, seconds REAL NOT NULL, run_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS explanation_units_by_run ON explanation_units(run_id, seq);
)sql";

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// Test hooks for the kill tests (README "The run store"): ATTRIB_FAULT_KILL_AFTER_UNITS=N
/// SIGKILLs the process right after its Nth committed unit, ATTRIB_FAULT_KILL_IN_UNIT=N inside the
/// Nth unit's transaction (written, not committed), ATTRIB_FAULT_SIGINT_AFTER_UNITS=N sends the
/// process SIGINT after its Nth unit (the interrupt path, deterministically).
int64_t fault_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : 0;
}

std::map<std::string, std::vector<double>> load_blobs(sqlite3* db, const std::string& path,
                                                      const char* sql, const std::string& key) {
  std::map<std::string, std::vector<double>> out;
  Stmt q(db, path, sql);
  q.text(1, key);
  while (q.step())
    out[q.col_text(0)] = blob_doubles(q.col_blob(1), path + ": unit " + key + " " + q.col_text(0));
  return out;
}

/// Adds the time of its scope to `total`: the store's own cost, reported with the counts.
struct ScopeTimer {
  explicit ScopeTimer(double& total) : total_(total) {}
  ~ScopeTimer() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  double& total_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace

json StoreCounts::to_json() const {
  return {
      {"explanation_units", {{"computed", explanations_computed}, {"reused", explanations_reused}}},
      {"score_units", {{"computed", scores_computed}, {"reused", scores_reused}}},
      {"analysis_units", {{"computed", analyses_computed}, {"reused", analyses_reused}}},
      {"store_seconds", seconds}};
}

RunStore::RunStore(const std::string& path, bool read_only) : path_(path) {
  const bool existed = std::filesystem::exists(path);
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path + ": cannot open the run store (" + why + ")");
  }
  try {
    // Another process (a concurrent export, a shard) may hold a lock for a moment: wait for it.
    sqlite3_busy_timeout(db_, 10000);
    // quick_check first: it is what reads the header, so a file that is not SQLite fails here.
    std::string check;
    {
      Stmt q(db_, path_, "PRAGMA quick_check");
      while (q.step()) check += (check.empty() ? "" : "; ") + q.col_text(0);
    }
    if (check != "ok")
      throw Error(path_ + ": the run store is damaged (quick_check: " + check + ")");
    int64_t version = 0;
    bool has_meta = false;
    {
      Stmt q(db_, path_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
      has_meta = q.step() && q.col_int(0) > 0;
    }
    if (has_meta) {
      Stmt q(db_, path_, "SELECT value FROM meta WHERE key='schema_version'");
      if (q.step()) version = std::atoll(q.col_text(0).c_str());
      if (version <= 0)
        throw Error(path_ + ": not an attrib run store (no schema_version in its meta table)");
    } else {
      Stmt q(db_, path_, "SELECT count(*) FROM sqlite_master");
      if (q.step() && q.col_int(0) > 0)
        throw Error(path_ + ": not an attrib run store (an SQLite file with other tables)");
    }
    if (version > kSchemaVersion)
      throw Error(path_ + ": the run store has schema version " + std::to_string(version) +
                  ", this attrib reads up to " + std::to_string(kSchemaVersion) +
                  " (written by a newer attrib; use it, or --fresh to start over)");
    if (read_only) {
      if (!has_meta) throw Error(path_ + ": not an attrib run store (empty)");
      return;
    }
    // WAL: readers (export, report) never block the run. synchronous=NORMAL: a commit is not
    // fsynced, so a power loss may drop the last units (recomputed on resume) but never corrupts
    // the store; a killed process loses nothing committed. FULL would fsync every unit.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    if (has_meta) {
      exec(kSchema);  // tables added within this schema version (IF NOT EXISTS)
    } else {
      exec("BEGIN IMMEDIATE");
      exec(kSchema);
      Stmt(db_, path_, "INSERT INTO meta(key, value) VALUES('schema_version', ?)")
          .text(1, std::to_string(kSchemaVersion))
          .run();
      Stmt(db_, path_, "INSERT INTO meta(key, value) VALUES('created_by', ?)")
          .text(1, "attrib " ATTRIB_VERSION)
          .run();
      exec("COMMIT");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (!existed && !read_only) {  // e.g. a full disk: leave nothing half-created behind
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        std::filesystem::remove(path + suffix, ec);
    }
    throw;
  }
}

RunStore::~RunStore() {
  if (db_) sqlite3_close(db_);
}

void RunStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw Error(path_ + ": store error: " + msg);
  }
}

void RunStore::commit_unit(const std::function<void()>& writes, bool unit) {
  if (failed_) return;
  try {
    exec("BEGIN IMMEDIATE");
    try {
      writes();
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    if (unit && ++units_committed_ == fault_env("ATTRIB_FAULT_KILL_IN_UNIT")) std::raise(SIGKILL);
    exec("COMMIT");
  } catch (const Error& e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    fail(e);
    return;
  }
  if (!unit) return;
  if (units_committed_ == fault_env("ATTRIB_FAULT_KILL_AFTER_UNITS")) std::raise(SIGKILL);
  if (units_committed_ == fault_env("ATTRIB_FAULT_SIGINT_AFTER_UNITS")) std::raise(SIGINT);
}

void RunStore::fail(const Error& e) {
  if (failed_) return;
  failed_ = true;
  if (warn_)
    warn_(std::string(e.what()) + "; the run goes on without keeping its work in the store");
}

void RunStore::begin_run(const json& context) {
  commit_unit(
      [&] {
        Stmt(db_, path_, "INSERT INTO runs(started_utc, status, context) VALUES(?, 'running', ?)")
            .text(1, utc_now())
            .text(2, context.dump())
            .run();
        run_id_ = sqlite3_last_insert_rowid(db_);
        // The order of use within the run, counted here rather than with a max() scan per unit.
        Stmt q(db_, path_, "SELECT coalesce(max(seq), 0) + 1 FROM explanation_units");
        q.step();
        seq_ = q.col_int(0);
      },
      /*unit=*/false);
}

void RunStore::end_run(const std::string& status) {
  commit_unit(
      [&] {
        Stmt(db_, path_, "UPDATE runs SET finished_utc = ?, status = ?, counts = ? WHERE id = ?")
            .text(1, utc_now())
            .text(2, status)
            .text(3, counts_.to_json().dump())
            .integer(4, run_id_)
            .run();
      },
      /*unit=*/false);
}

std::optional<ExplanationUnit> RunStore::find_explanation(const std::string& key) {
  ScopeTimer timer(counts_.seconds);
  if (failed_) return std::nullopt;
  Stmt q(db_, path_,
         "SELECT identity, dataset, model, method, plugin, batch, info, seconds, forward_rows, "
         "backward_rows FROM explanation_units WHERE key = ?");
  q.text(1, key);
  if (!q.step()) return std::nullopt;
  const std::string where = path_ + ": explanation unit " + key;
  ExplanationUnit u;
  u.key = key;
  u.identity = parse_column(q.col_text(0), where + " identity");
  u.dataset = q.col_text(1);
  u.model = q.col_text(2);
  u.method = q.col_text(3);
  u.plugin = q.col_text(4);
  u.batch = q.col_int(5);
  u.info = parse_column(q.col_text(6), where + " info");
  u.seconds = q.col_real(7);
  u.forward_rows = q.col_int(8);
  u.backward_rows = q.col_int(9);
  Stmt a(db_, path_,
         "SELECT example_id, dtype, shape, data, word_ids, tokens FROM attributions WHERE unit = ? "
         "ORDER BY position");
  a.text(1, key);
  std::vector<at::Tensor> rows, words;
  while (a.step()) {
    if (sqlite3_column_type(a.handle(), 4) != SQLITE_NULL) {
      const std::string w = a.col_blob(4);
      at::Tensor t = at::empty({static_cast<int64_t>(w.size() / 4)}, at::kInt);
      if (!w.empty()) std::memcpy(t.data_ptr<int32_t>(), w.data(), t.numel() * 4);
      words.push_back(t.to(at::kLong));
      u.tokens.push_back(
          parse_column(a.col_text(5), where + " tokens").get<std::vector<std::string>>());
    }
    u.ids.push_back(a.col_text(0));
    ATTRIB_CHECK(a.col_text(1) == "float32", where, ": expected dtype float32, got ",
                 a.col_text(1));
    const std::vector<int64_t> shape =
        parse_column(a.col_text(2), where + " shape").get<std::vector<int64_t>>();
    const std::string data = a.col_blob(3);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    ATTRIB_CHECK(static_cast<int64_t>(data.size()) == n * 4, where, ": example ", u.ids.back(),
                 ": expected ", n * 4, " bytes for shape ", a.col_text(2), ", got ", data.size());
    at::Tensor t = at::empty(shape, at::kFloat);
    if (n) std::memcpy(t.data_ptr<float>(), data.data(), data.size());
    rows.push_back(t);
  }
  ATTRIB_CHECK(!rows.empty(), where, ": has no attributions");
  u.token_scores = at::stack(rows);
  if (!words.empty()) {
    ATTRIB_CHECK(words.size() == rows.size(), where, ": word ids for some examples only");
    u.word_ids = at::stack(words);
  }
  u.extras = load_blobs(db_, path_, "SELECT name, data FROM extras WHERE unit = ?", key);
  return u;
}

void RunStore::put_explanation(const ExplanationUnit& u) {
  ScopeTimer timer(counts_.seconds);
  const at::Tensor t = u.token_scores.to(at::kCPU, at::kFloat).contiguous();
  ATTRIB_CHECK(t.size(0) == static_cast<int64_t>(u.ids.size()), "explanation unit ", u.key, ": ",
               t.size(0), " maps for ", u.ids.size(), " example ids");
  commit_unit([&] {
    Stmt(db_, path_, "DELETE FROM attributions WHERE unit = ?").text(1, u.key).run();
    Stmt(db_, path_, "DELETE FROM extras WHERE unit = ?").text(1, u.key).run();
    Stmt(db_, path_,
         "INSERT OR REPLACE INTO explanation_units(key, identity, dataset, model, method, plugin, "
         "batch, info, seconds, forward_rows, backward_rows, run_id, seq) "
         "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .text(1, u.key)
        .text(2, u.identity.dump())
        .text(3, u.dataset)
        .text(4, u.model)
        .text(5, u.method)
        .text(6, u.plugin)
        .integer(7, u.batch)
        .text(8, u.info.dump())
        .real(9, u.seconds)
        .integer(10, u.forward_rows)
        .integer(11, u.backward_rows)
        .integer(12, run_id_)
        .integer(13, seq_++)
        .run();
    Stmt ins(db_, path_,
             "INSERT INTO attributions(unit, position, example_id, dtype, shape, data, word_ids, "
             "tokens) VALUES(?, ?, ?, 'float32', ?, ?, ?, ?)");
    const at::Tensor words =
        u.word_ids.defined() ? u.word_ids.to(at::kCPU, at::kInt).contiguous() : at::Tensor();
    for (int64_t i = 0; i < t.size(0); ++i) {
      const at::Tensor row = t[i];
      ins.text(1, u.key)
          .integer(2, i)
          .text(3, u.ids[static_cast<size_t>(i)])
          .text(4, json(row.sizes().vec()).dump())
          .blob(5, row.data_ptr<float>(), static_cast<size_t>(row.numel()) * sizeof(float));
      if (words.defined()) {
        ins.blob(6, words[i].data_ptr<int32_t>(), static_cast<size_t>(words.size(1)) * 4)
            .text(7, json(u.tokens.at(static_cast<size_t>(i))).dump());
      } else {
        ins.null(6).null(7);
      }
      ins.run();
    }
    Stmt ex(db_, path_, "INSERT INTO extras(unit, name, data) VALUES(?, ?, ?)");
    for (const auto& [name, values] : u.extras) {
      const std::string b = doubles_blob(values);
      ex.text(1, u.key).text(2, name).blob(3, b.data(), b.size()).run();
    }
  });
  ++counts_.explanations_computed;
}

void RunStore::touch_explanation(const std::string& key, const std::string& dataset,
                                 const std::string& model, const std::string& method) {
  ScopeTimer timer(counts_.seconds);
  ++counts_.explanations_reused;
  if (failed_) return;
  try {
    Stmt(db_, path_,
         "UPDATE explanation_units SET dataset = ?, model = ?, method = ?, run_id = ?, seq = ? "
         "WHERE key = ?")
        .text(1, dataset)
        .text(2, model)
        .text(3, method)
        .integer(4, run_id_)
        .integer(5, seq_++)
        .text(6, key)
        .run();
  } catch (const Error& e) {
    fail(e);
  }
}

std::optional<ScoreUnit> RunStore::find_score(const std::string& key) {
  ScopeTimer timer(counts_.seconds);
  if (failed_) return std::nullopt;
  Stmt q(db_, path_,
         "SELECT s.explanation_unit, s.identity, s.dataset, s.model, s.method, s.metric, s.batch, "
         "s.scores, s.info, s.aggregation, s.seconds, c.forward_rows, c.saved_rows, "
         "c.model_seconds FROM score_units s LEFT JOIN score_costs c ON c.unit = s.key "
         "WHERE s.key = ?");
  q.text(1, key);
  if (!q.step()) return std::nullopt;
  const std::string where = path_ + ": score unit " + key;
  ScoreUnit u;
  u.key = key;
  u.explanation_key = q.col_text(0);
  u.identity = parse_column(q.col_text(1), where + " identity");
  u.dataset = q.col_text(2);
  u.model = q.col_text(3);
  u.method = q.col_text(4);
  u.metric = q.col_text(5);
  u.batch = q.col_int(6);
  u.scores = blob_doubles(q.col_blob(7), where + " scores");
  u.info = parse_column(q.col_text(8), where + " info");
  u.aggregation = q.col_text(9);
  u.seconds = q.col_real(10);
  if (!q.col_null(11)) {  // units of stores written before attrib kept the cost have none
    u.costed = true;
    u.forward_rows = q.col_int(11);
    u.saved_rows = q.col_int(12);
    u.model_seconds = q.col_real(13);
  }
  u.components =
      load_blobs(db_, path_, "SELECT name, data FROM score_components WHERE unit = ?", key);
  u.curves = load_blobs(db_, path_, "SELECT name, data FROM score_curves WHERE unit = ?", key);
  return u;
}

void RunStore::put_score(const ScoreUnit& u) {
  ScopeTimer timer(counts_.seconds);
  commit_unit([&] {
    Stmt(db_, path_, "DELETE FROM score_components WHERE unit = ?").text(1, u.key).run();
    Stmt(db_, path_, "DELETE FROM score_curves WHERE unit = ?").text(1, u.key).run();
    const std::string b = doubles_blob(u.scores);
    Stmt(db_, path_,
         "INSERT OR REPLACE INTO score_units(key, explanation_unit, identity, dataset, model, "
         "method, metric, batch, scores, info, aggregation, seconds, run_id) "
         "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .text(1, u.key)
        .text(2, u.explanation_key)
        .text(3, u.identity.dump())
        .text(4, u.dataset)
        .text(5, u.model)
        .text(6, u.method)
        .text(7, u.metric)
        .integer(8, u.batch)
        .blob(9, b.data(), b.size())
        .text(10, u.info.dump())
        .text(11, u.aggregation)
        .real(12, u.seconds)
        .integer(13, run_id_)
        .run();
    Stmt c(db_, path_, "INSERT INTO score_components(unit, name, data) VALUES(?, ?, ?)");
    for (const auto& [name, values] : u.components) {
      const std::string cb = doubles_blob(values);
      c.text(1, u.key).text(2, name).blob(3, cb.data(), cb.size()).run();
    }
    Stmt cv(db_, path_, "INSERT INTO score_curves(unit, name, points, data) VALUES(?, ?, ?, ?)");
    for (const auto& [name, values] : u.curves) {
      const std::string vb = doubles_blob(values);
      cv.text(1, u.key).text(2, name).integer(3, kCurvePoints).blob(4, vb.data(), vb.size()).run();
    }
    Stmt(db_, path_, "DELETE FROM score_costs WHERE unit = ?").text(1, u.key).run();
    if (u.costed)
      Stmt(db_, path_,
           "INSERT INTO score_costs(unit, forward_rows, saved_rows, model_seconds) "
           "VALUES(?, ?, ?, ?)")
          .text(1, u.key)
          .integer(2, u.forward_rows)
          .integer(3, u.saved_rows)
          .real(4, u.model_seconds)
          .run();
  });
  ++counts_.scores_computed;
}

std::optional<AnalysisUnit> RunStore::find_analysis(const std::string& key) {
  ScopeTimer timer(counts_.seconds);
  if (failed_) return std::nullopt;
  Stmt q(db_, path_,
         "SELECT identity, analysis, dataset, model, entries, seconds FROM analysis_units "
         "WHERE key = ?");
  q.text(1, key);
  if (!q.step()) return std::nullopt;
  const std::string where = path_ + ": analysis unit " + key;
  AnalysisUnit u;
  u.key = key;
  u.identity = parse_column(q.col_text(0), where + " identity");
  u.analysis = q.col_text(1);
  u.dataset = q.col_text(2);
  u.model = q.col_text(3);
  try {
    u.entries = json::from_cbor(q.col_blob(4));
  } catch (const std::exception& e) {
    throw Error(where + " entries: expected CBOR, got bytes that do not decode (" + e.what() + ")");
  }
  u.seconds = q.col_real(5);
  return u;
}

void RunStore::put_analysis(const AnalysisUnit& u) {
  ScopeTimer timer(counts_.seconds);
  const std::vector<uint8_t> entries = json::to_cbor(u.entries);
  commit_unit([&] {
    Stmt(db_, path_,
         "INSERT OR REPLACE INTO analysis_units(key, identity, analysis, dataset, model, entries, "
         "seconds, run_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
        .text(1, u.key)
        .text(2, u.identity.dump())
        .text(3, u.analysis)
        .text(4, u.dataset)
        .text(5, u.model)
        .blob(6, entries.data(), entries.size())
        .real(7, u.seconds)
        .integer(8, run_id_)
        .run();
  });
  ++counts_.analyses_computed;
}

void RunStore::touch_score(const std::string& key) {
  ScopeTimer timer(counts_.seconds);
  ++counts_.scores_reused;
  if (failed_) return;
  try {
    Stmt(db_, path_, "UPDATE score_units SET run_id = ? WHERE key = ?")
        .integer(1, run_id_)
        .text(2, key)
        .run();
  } catch (const Error& e) {
    fail(e);
  }
}

std::vector<RunStore::Curves> RunStore::latest_curves() {
  std::vector<Curves> out;
  std::map<std::string, size_t> index;
  Stmt q(db_, path_,
         "SELECT e.dataset, e.model, e.method, s.metric, c.name, c.data FROM score_curves c "
         "JOIN score_units s ON c.unit = s.key JOIN explanation_units e ON s.explanation_unit = "
         "e.key WHERE s.run_id = (SELECT max(run_id) FROM score_units) ORDER BY e.seq, s.batch");
  while (q.step()) {
    Curves c{q.col_text(0), q.col_text(1), q.col_text(2), q.col_text(3), q.col_text(4), {}};
    const std::string k =
        c.dataset + '\n' + c.model + '\n' + c.method + '\n' + c.metric + '\n' + c.name;
    auto [it, added] = index.emplace(k, out.size());
    if (added) out.push_back(std::move(c));
    const std::vector<double> v = blob_doubles(q.col_blob(5), path_ + ": curve " + k);
    std::vector<double>& all = out[it->second].data;
    all.insert(all.end(), v.begin(), v.end());
  }
  return out;
}

void RunStore::absorb(const std::string& other) {
  { RunStore check(other, /*read_only=*/true); }  // quick_check and schema version
  Stmt(db_, path_, "ATTACH DATABASE ? AS shard").text(1, other).run();
  try {
    exec("BEGIN IMMEDIATE");
    for (const char* table : {"explanation_units", "attributions", "extras", "score_units",
                              "score_components", "score_curves", "analysis_units"})
      exec(std::string("INSERT OR IGNORE INTO main.") + table + " SELECT * FROM shard." + table);
    // Stores of attrib before the costs were kept have no score_costs table.
    bool costs = false;
    {
      Stmt q(db_, path_,
             "SELECT count(*) FROM shard.sqlite_master WHERE type='table' AND name='score_costs'");
      costs = q.step() && q.col_int(0) > 0;
    }
    if (costs) exec("INSERT OR IGNORE INTO main.score_costs SELECT * FROM shard.score_costs");
    // Run ids are the shard's own: the copied units belong to no run of this store until a run
    // here uses them (otherwise a shard's later run id would pass for this store's latest run).
    for (const char* table : {"explanation_units", "score_units", "analysis_units"})
      exec(std::string("UPDATE main.") + table +
           " SET run_id = 0 WHERE key IN (SELECT key FROM shard." + table + ")");
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(db_, "DETACH DATABASE shard", nullptr, nullptr, nullptr);
    throw;
  }
  exec("DETACH DATABASE shard");
}

std::vector<std::string> RunStore::latest_explanation_keys(const std::string& method) {
  std::vector<std::string> keys;
  Stmt q(db_, path_,
         "SELECT key FROM explanation_units WHERE run_id = (SELECT max(run_id) FROM "
         "explanation_units) AND (? = '' OR method = ?) ORDER BY seq");
  q.text(1, method).text(2, method);
  while (q.step()) keys.push_back(q.col_text(0));
  return keys;
}

}  // namespace attrib
