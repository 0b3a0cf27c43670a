#pragma once
// Parameter schemas and their validation.
//
// A plugin's metadata JSON has the form
//   {"description": "...", "citation": "...",
//    "params": {"n_steps": {"type": "integer", "default": 50, "minimum": 1, "maximum": 100000,
//                           "description": "..."},
//               "rule": {"type": "string", "default": "gausslegendre", "enum": ["..."]}},
//    "cost": {"forward_rows": "n_steps + 2", "backward_rows": "n_steps"},
//    "extras": ["convergence_delta"]}
// Types: "integer", "number", "boolean", "string", "array", "object".
#include <nlohmann/json.hpp>
#include <string>

#include "attrib/export.h"

namespace attrib {

/// Validates `given` (a JSON object, may be null) against `schema` (the "params" object of a
/// metadata document) and returns it with every default filled in. `path` prefixes error messages,
/// e.g. "methods[2].params". Unknown keys, wrong types and out-of-range values throw attrib::Error:
///   methods[2].params.n_steps: expected integer >= 1, got "fifty"
ATTRIB_SDK_API nlohmann::json resolve_params(const nlohmann::json& schema,
                                             const nlohmann::json& given, const std::string& path);

/// Parses a command-line value: JSON when it parses (42, 0.5, true, "x", [1,2]), else a string.
ATTRIB_SDK_API nlohmann::json parse_cli_value(const std::string& text);

/// Short JSON rendering of `value` for messages, e.g. "fifty" with quotes, 3, [..] truncated.
ATTRIB_SDK_API std::string describe_json(const nlohmann::json& value);

}  // namespace attrib
