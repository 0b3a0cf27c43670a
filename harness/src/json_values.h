#pragma once
// Small helpers for reading and writing numbers in results documents, shared by the results
// writer, the leaderboards and the reporters.
#include <limits>
#include <nlohmann/json.hpp>

#include "common/stats.h"

namespace attrib {

/// x, or null when it is undefined (NaN/Inf): JSON has no NaN.
inline nlohmann::json num(double x) {
  return stats::is_defined(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

/// The number j[key], or NaN when j is not an object or the member is missing or not a number.
inline double get_num(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::numeric_limits<double>::quiet_NaN();
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>()
                                          : std::numeric_limits<double>::quiet_NaN();
}

/// j[key], or null when j is not an object or has no such member.
inline const nlohmann::json& at_or_null(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null_json = nullptr;
  if (!j.is_object()) return null_json;
  const auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

}  // namespace attrib
