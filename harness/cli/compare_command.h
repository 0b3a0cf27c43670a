#pragma once
// `attrib compare BASELINE.json CURRENT.json`: regression tracking between two runs.
#include <string>
#include <vector>

/// Runs `attrib compare` with the arguments that follow the command name. Prints the Markdown
/// summary to stdout (unless --quiet) and errors to stderr. Returns 0 when there is no regression,
/// 6 when there is at least one, 2 on a usage error, 3 on invalid input (an unreadable or
/// malformed results file: the message names the file and the JSON path), 1 on an internal error.
int attrib_compare_command(const std::vector<std::string>& args);
