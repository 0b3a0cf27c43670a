#pragma once
// Python literals as repr() prints them (HateXplain stores its annotations so): no dataset
// knowledge, just the value as JSON.
#include <nlohmann/json.hpp>
#include <string>

namespace attrib {

/// Parses a Python literal (as printed by repr()): str ('..' or "..", escapes, u/r prefixes),
/// int, float, True/False/None, list, tuple (as an array) and dict (keys become strings).
/// Errors read "FILE:LINE: WHAT: expected ..., found ..." where LINE is `line` plus the newlines
/// before the error position.
nlohmann::json parse_python_literal(const std::string& text, const std::string& file = "<literal>",
                                    size_t line = 1, const std::string& what = "literal");

}  // namespace attrib
