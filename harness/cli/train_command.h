#pragma once
// `attrib train`: trains a built-in model plugin on a dataset (or reuses the model cache that
// suites share) and writes the checkpoint plus a JSON report beside it.
#include <string>
#include <vector>

/// Runs `attrib train` with the arguments that follow the command name; `command_line` is the
/// whole argv (recorded in the report). Prints a summary (or the report with --json) to stdout
/// and progress and errors to stderr. Returns 0 on success, 2 on a usage error (unknown option,
/// bad or missing value), 3 on invalid input (unknown model plugin, bad dataset spec or
/// parameter, a model that cannot be trained, unwritable output), 1 on an internal error.
int attrib_train_command(const std::vector<std::string>& args,
                         const std::vector<std::string>& command_line);
