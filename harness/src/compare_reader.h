#pragma once
// `attrib compare`'s reading of a results document: the metric rows and throughput entries it
// compares, checked field by field (errors name the source and the JSON path).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace attrib::compare_input {

struct Row {
  std::size_t index = 0;
  std::string dataset, model, method, metric;
  int direction = 1;
  nlohmann::json method_info, metric_info;
  std::vector<std::string> ids;
  std::vector<double> scores;
  bool failed = false;
  std::string error;
};

struct Speed {
  std::size_t index = 0;
  std::string dataset, model, method, device;
  std::int64_t batch_size = 0;
  nlohmann::json kind, warmup, examples_per_repetition;
  bool isolated = false;  // timed in a worker process (a fork per call)
  std::vector<double> seconds;
  std::string error;                 // "error" field, if any
  nlohmann::json fraction_of_limit;  // number, or null when absent (older results) or undefined
};

struct Doc {
  std::vector<Row> rows;
  std::vector<Speed> speeds;
};

using RowKey = std::tuple<std::string, std::string, std::string, std::string>;
using SpeedKey = std::tuple<std::string, std::string, std::string, std::string, std::int64_t>;

/// Reads results documents of one source (a file name in every error message).
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  /// The rows and throughput entries of `doc`; throws attrib::Error naming source and path:
  ///   baseline.json: rows[3].scores: expected array of numbers, got string
  Doc read(const nlohmann::json& doc) const;

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& expected,
                         const nlohmann::json& got) const;
  [[noreturn]] void fail_text(const std::string& path, const std::string& text) const;
  std::string string(const nlohmann::json& obj, const std::string& path, const char* key) const;
  std::vector<double> numbers(const nlohmann::json& v, const std::string& path,
                              bool allow_null) const;

  std::string source_;
};

}  // namespace attrib::compare_input
