#pragma once
// Checks on what users hand attrib: JSON (suite files, --input, result files, command-line
// values) parsed without recursion and with limits, so that a hostile document is an error
// message and not a crash; names that become parts of file paths.
#include <nlohmann/json.hpp>
#include <string>

#include "attrib/export.h"

namespace attrib {

/// Deepest nesting of arrays/objects accepted. nlohmann's parser is iterative, but copying,
/// dumping and comparing a document recurse, so a very deep one would overflow the stack later.
constexpr int kMaxJsonDepth = 512;

/// Parses `text`. Throws attrib::Error "SOURCE:LINE:COL: ..." (just "column COL: ..." when
/// `source` is empty and the text is one line) on a syntax error, on nesting deeper than
/// kMaxJsonDepth and on a number outside the range of a double ("expected a finite number").
/// When `syntax_error` is given, a syntax error sets it and returns a discarded value instead.
ATTRIB_SDK_API nlohmann::json parse_json_checked(const std::string& text, const std::string& source,
                                                 bool* syntax_error = nullptr);

/// True when `name` can be one component of a file path: 1 to 100 letters, digits, '.', '_' or
/// '-', and not "." or "..". Suite and plugin names end up in folder and file names.
ATTRIB_SDK_API bool is_safe_path_component(const std::string& name);

/// The rule above in words, for error messages ("expected ...").
inline constexpr char kSafePathComponentRule[] =
    "1 to 100 letters, digits, '.', '_' or '-' (not \".\" or \"..\")";

}  // namespace attrib
