#pragma once
// `attrib data SPEC`: loads a dataset and prints per-split statistics.
#include <string>
#include <vector>

/// Runs `attrib data` with the arguments that follow the command name. Prints to stdout (the
/// summary) and stderr (errors). Returns 0 on success, 2 on a usage error, 3 on invalid input
/// (unknown spec, bad parameter, unreadable or malformed data), 1 on an internal error.
int attrib_data_command(const std::vector<std::string>& args);
