#include "attrib/params.h"

#include <cmath>

#include "attrib/error.h"
#include "attrib/user_input.h"

namespace attrib {

using nlohmann::json;

std::string describe_json(const json& value) {
  std::string s = value.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

json parse_cli_value(const std::string& text) {
  // Not JSON: a plain string. Too deep or an out-of-range number: an error, not a string.
  bool syntax_error = false;
  json v;
  try {
    v = parse_json_checked(text, "", &syntax_error);
  } catch (const Error& e) {
    throw Error(describe_json(json(text)) + ": " + e.what());
  }
  if (syntax_error) return json(text);
  return v;
}

namespace {

std::string bounds_text(const json& spec) {
  std::string out;
  if (spec.contains("minimum")) out += " >= " + spec["minimum"].dump();
  if (spec.contains("maximum")) out += (out.empty() ? " <= " : " and <= ") + spec["maximum"].dump();
  return out;
}

std::string expected_text(const json& spec) {
  const std::string type = spec.value("type", "any");
  if (spec.contains("enum")) {
    std::string out = "one of ";
    for (size_t i = 0; i < spec["enum"].size(); ++i)
      out += (i ? ", " : "") + spec["enum"][i].dump();
    return out;
  }
  return type + bounds_text(spec);
}

bool type_matches(const std::string& type, const json& v) {
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return true;  // "any"
}

void check_value(const std::string& path, const json& spec, const json& v) {
  const std::string type = spec.value("type", "any");
  auto fail = [&] {
    throw Error(path + ": expected " + expected_text(spec) + ", got " + describe_json(v));
  };
  if (!type_matches(type, v)) fail();
  if (spec.contains("enum")) {
    bool found = false;
    for (const auto& e : spec["enum"]) found = found || e == v;
    if (!found) fail();
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail();
    if (spec.contains("minimum") && x < spec["minimum"].get<double>()) fail();
    if (spec.contains("maximum") && x > spec["maximum"].get<double>()) fail();
  }
}

}  // namespace

json resolve_params(const json& schema, const json& given, const std::string& path) {
  json out = json::object();
  if (!given.is_null() && !given.is_object())
    throw Error(path + ": expected an object of parameters, got " + describe_json(given));
  if (!given.is_null()) {
    for (const auto& [key, value] : given.items()) {
      if (!schema.is_object() || !schema.contains(key)) {
        std::string known;
        if (schema.is_object())
          for (const auto& [k, _] : schema.items()) known += (known.empty() ? "" : ", ") + k;
        throw Error(path + "." + key +
                    ": unknown parameter (known: " + (known.empty() ? "none" : known) + ")");
      }
      check_value(path + "." + key, schema[key], value);
      // An integer given for a number parameter is stored as a number.
      out[key] = (schema[key].value("type", "") == "number") ? json(value.get<double>()) : value;
    }
  }
  if (schema.is_object()) {
    for (const auto& [key, spec] : schema.items()) {
      if (out.contains(key)) continue;
      if (spec.contains("default")) {
        out[key] = spec["default"];
      } else if (spec.value("required", false)) {
        throw Error(path + "." + key + ": missing required parameter (expected " +
                    expected_text(spec) + ")");
      }
    }
  }
  return out;
}

}  // namespace attrib
