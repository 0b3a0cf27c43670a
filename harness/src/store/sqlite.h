#pragma once
// The run store's thin layer over SQLite's C API (store.cpp only): a prepared statement whose
// errors name the store file, and the blob and JSON column codecs.
#include <sqlite3.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/error.h"

namespace attrib::store_detail {

using nlohmann::json;

/// A prepared statement; every error names the store file and SQLite's message.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) fail();
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& text(int i, const std::string& v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& integer(int i, int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& null(int i) {
    check(sqlite3_bind_null(s_, i));
    return *this;
  }
  sqlite3_stmt* handle() const { return s_; }
  Stmt& real(int i, double v) {
    check(sqlite3_bind_double(s_, i, v));
    return *this;
  }
  Stmt& blob(int i, const void* data, size_t n) {
    // A zero-length blob still binds as a blob (not NULL).
    check(sqlite3_bind_blob64(s_, i, n ? data : "", n, SQLITE_TRANSIENT));
    return *this;
  }
  /// Steps once: true while a row is available.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail();
    return false;
  }
  void run() {
    step();
    sqlite3_reset(s_);
  }
  std::string col_text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  int64_t col_int(int i) const { return sqlite3_column_int64(s_, i); }
  double col_real(int i) const { return sqlite3_column_double(s_, i); }
  bool col_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  std::string col_blob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail();
  }
  [[noreturn]] void fail() {
    throw Error(path_ + ": store error: " + sqlite3_errmsg(db_) + " (SQLite code " +
                std::to_string(sqlite3_extended_errcode(db_)) + ")");
  }
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* s_ = nullptr;
};

inline std::string doubles_blob(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

inline std::vector<double> blob_doubles(const std::string& b, const std::string& where) {
  ATTRIB_CHECK(b.size() % sizeof(double) == 0, where, ": expected float64 values, got a blob of ",
               b.size(), " bytes");
  std::vector<double> v(b.size() / sizeof(double));
  if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

/// A JSON column written by attrib; a value that does not parse means the store was altered.
inline json parse_column(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, false);
  ATTRIB_CHECK(!j.is_discarded(), where, ": expected JSON, got ", text.substr(0, 40));
  return j;
}

}  // namespace attrib::store_detail
