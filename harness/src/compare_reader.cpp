#include "compare_reader.h"

#include <cmath>
#include <limits>
#include <map>

#include "attrib/error.h"
#include "results.h"

namespace attrib::compare_input {

using nlohmann::json;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const json& member(const json& obj, const char* key) {
  static const json kNull;
  const auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}
}  // namespace

void Reader::fail(const std::string& path, const std::string& expected, const json& got) const {
  throw Error(source_ + ": " + (path.empty() ? "(document)" : path) + ": expected " + expected +
              ", got " + got.type_name());
}
void Reader::fail_text(const std::string& path, const std::string& text) const {
  throw Error(source_ + ": " + path + ": " + text);
}

std::string Reader::string(const json& obj, const std::string& path, const char* key) const {
  const json& v = member(obj, key);
  if (!v.is_string()) fail(path + "." + key, "string", v);
  return v.get<std::string>();
}

std::vector<double> Reader::numbers(const json& v, const std::string& path, bool allow_null) const {
  if (!v.is_array()) fail(path, "array of numbers", v);
  std::vector<double> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& x = v[i];
    if (x.is_number())
      out.push_back(x.get<double>());
    else if (allow_null && x.is_null())
      out.push_back(kNaN);
    else
      fail(path + "[" + std::to_string(i) + "]", allow_null ? "number or null" : "number", x);
  }
  return out;
}

Doc Reader::read(const json& doc) const {
  if (!doc.is_object()) fail("", "a results object", doc);
  const json& version = member(doc, "json_schema_version");
  if (!version.is_number_integer()) fail("json_schema_version", "integer", version);
  if (version.get<std::int64_t>() != kResultsSchemaVersion)
    fail_text("json_schema_version", "expected " + std::to_string(kResultsSchemaVersion) +
                                         " (this attrib's results format), got " + version.dump());
  const json& context = member(doc, "context");
  if (!context.is_null() && !context.is_object()) fail("context", "object", context);
  Doc out;
  const json& rows = member(doc, "rows");
  if (!rows.is_array()) fail("rows", "array", rows);
  std::map<RowKey, std::size_t> seen;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string path = "rows[" + std::to_string(r) + "]";
    const json& j = rows[r];
    if (!j.is_object()) fail(path, "object", j);
    Row row;
    row.index = r;
    row.dataset = string(j, path, "dataset");
    row.model = string(j, path, "model");
    row.method = string(j, path, "method");
    row.metric = string(j, path, "metric");
    const json& dir = member(j, "direction");
    if (!dir.is_number_integer()) fail(path + ".direction", "integer 1 or -1", dir);
    row.direction = dir.get<int>();
    if (row.direction != 1 && row.direction != -1)
      fail_text(path + ".direction", "expected 1 or -1, got " + dir.dump());
    row.method_info = member(j, "method_info");
    row.metric_info = member(j, "metric_info");
    // Results written before the leaderboard recorded its aggregation all took the mean.
    if (row.metric_info.is_object() && !row.metric_info.contains("aggregation"))
      row.metric_info["aggregation"] = "mean";
    const json& error = member(j, "error");
    if (!error.is_null() && !error.is_string()) fail(path + ".error", "string or null", error);
    row.failed = error.is_string();
    if (row.failed) row.error = error.get<std::string>();
    const json& scores = member(j, "scores");
    if (!(row.failed && scores.is_null())) row.scores = numbers(scores, path + ".scores", true);
    const json& ids = member(j, "example_ids");
    if (!ids.is_null()) {
      if (!ids.is_array()) fail(path + ".example_ids", "array of strings", ids);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!ids[i].is_string())
          fail(path + ".example_ids[" + std::to_string(i) + "]", "string", ids[i]);
        row.ids.push_back(ids[i].get<std::string>());
      }
      if (!row.failed && !row.ids.empty() && row.ids.size() != row.scores.size())
        fail_text(path + ".example_ids", "expected one id per score (" +
                                             std::to_string(row.scores.size()) + "), got " +
                                             std::to_string(row.ids.size()));
    }
    const RowKey key{row.dataset, row.model, row.method, row.metric};
    const auto [it, inserted] = seen.emplace(key, r);
    if (!inserted)
      fail_text(path, "duplicate (dataset, model, method, metric) = (" + row.dataset + ", " +
                          row.model + ", " + row.method + ", " + row.metric + "), also at rows[" +
                          std::to_string(it->second) + "]");
    out.rows.push_back(std::move(row));
  }

  // Older results files have no throughput section: nothing to compare then.
  const json& speeds = member(doc, "throughput");
  if (!speeds.is_null() && !speeds.is_array()) fail("throughput", "array", speeds);
  std::map<SpeedKey, std::size_t> seen_speed;
  for (std::size_t t = 0; t < (speeds.is_array() ? speeds.size() : 0); ++t) {
    const std::string path = "throughput[" + std::to_string(t) + "]";
    const json& j = speeds[t];
    if (!j.is_object()) fail(path, "object", j);
    Speed s;
    s.index = t;
    s.dataset = string(j, path, "dataset");
    s.model = string(j, path, "model");
    s.method = string(j, path, "method");
    s.device = string(j, path, "device");
    const json& bs = member(j, "batch_size");
    if (!bs.is_number_integer()) fail(path + ".batch_size", "integer", bs);
    s.batch_size = bs.get<std::int64_t>();
    s.kind = member(j, "kind");
    s.warmup = member(j, "warmup");
    s.examples_per_repetition = member(j, "examples_per_repetition");
    const json& isolated = member(j, "isolated");
    if (!isolated.is_null() && !isolated.is_boolean())
      fail(path + ".isolated", "boolean or null", isolated);
    s.isolated = isolated.is_boolean() && isolated.get<bool>();
    const json& error = member(j, "error");
    if (!error.is_null() && !error.is_string()) fail(path + ".error", "string or null", error);
    if (error.is_string()) s.error = error.get<std::string>();
    const json& fraction = member(j, "fraction_of_limit");
    if (!fraction.is_null() && !fraction.is_number())
      fail(path + ".fraction_of_limit", "number or null", fraction);
    s.fraction_of_limit = fraction;
    const json& seconds = member(j, "seconds");
    if (!(error.is_string() && seconds.is_null()))
      s.seconds = numbers(seconds, path + ".seconds", false);
    for (std::size_t i = 0; i < s.seconds.size(); ++i)
      if (!(s.seconds[i] >= 0.0) || !std::isfinite(s.seconds[i]))
        fail_text(path + ".seconds[" + std::to_string(i) + "]",
                  "expected a finite number >= 0, got " + json(s.seconds[i]).dump());
    const SpeedKey key{s.dataset, s.model, s.method, s.device, s.batch_size};
    const auto [it, inserted] = seen_speed.emplace(key, t);
    if (!inserted)
      fail_text(path,
                "duplicate (dataset, model, method, device, batch_size), also at "
                "throughput[" +
                    std::to_string(it->second) + "]");
    out.speeds.push_back(std::move(s));
  }
  return out;
}

}  // namespace attrib::compare_input
