#pragma once
// attrib's help texts: `attrib --help` lists the command table; `attrib COMMAND --help` is
// "usage: attrib COMMAND ...", the command's description, its options and its footer, all
// produced from the CLI11 subcommand so that the help always lists every option it parses.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "commands/command.h"

namespace attrib::cli {

class HelpFormatter : public CLI::FormatterBase {
 public:
  explicit HelpFormatter(const std::vector<Command>& table) : table_(table) {}
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;

 private:
  std::string main_help() const;
  std::string command_help(const CLI::App& app, const Command& command) const;
  const std::vector<Command>& table_;
};

}  // namespace attrib::cli
