#include "help_format.h"

#include <algorithm>
#include <sstream>

namespace attrib::cli {

namespace {

// "  LEFT   text", the text's further lines (a '\n' in it) indented to the same column.
std::string two_columns(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [left, text] : rows) width = std::max(width, left.size());
  width += 4;  // two spaces of indent, two between the columns
  std::string out;
  for (const auto& [left, text] : rows) {
    std::string line = "  " + left;
    std::istringstream lines(text);
    std::string part;
    bool first = true;
    while (std::getline(lines, part)) {
      line.resize(first ? std::max(width, line.size() + 2) : width, ' ');
      out += line + part + "\n";
      line.clear();
      first = false;
    }
    if (first) out += line + "\n";
  }
  return out;
}

std::string option_left(const CLI::Option& opt) {
  std::string names;
  for (const auto& s : opt.get_snames()) names += (names.empty() ? "-" : ", -") + s;
  for (const auto& l : opt.get_lnames()) names += (names.empty() ? "--" : ", --") + l;
  if (opt.get_type_size() != 0 && !opt.get_type_name().empty()) names += " " + opt.get_type_name();
  return names;
}

}  // namespace

std::string HelpFormatter::make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const {
  if (app->get_parent() != nullptr)
    for (const auto& c : table_)
      if (app->get_name() == c.name) return command_help(*app, c);
  return main_help();
}

std::string HelpFormatter::main_help() const {
  std::vector<std::pair<std::string, std::string>> commands;
  for (const auto& c : table_)
    commands.push_back({std::string(c.name) + (*c.synopsis ? " " : "") + c.synopsis, c.summary});
  commands.push_back(
      {"help [COMMAND]", "this list, or a command's options (attrib COMMAND --help)"});
  std::string out =
      "attrib - benchmark harness for feature-attribution methods\n\n"
      "usage: attrib <command> [options]\n\ncommands:\n" +
      two_columns(commands) + "\ncommon options:\n" +
      two_columns({{"--plugin-dir DIR",
                    "search DIR for plugins first (repeatable); then $ATTRIB_PLUGIN_PATH\n"
                    "(colon-separated), then the built-in plugin folder"},
                   {"--threads N", "torch intra-op threads (default: all cores)"},
                   {"-h, --help", "help for a command: attrib <command> --help"},
                   {"--version", "attrib's version, plugin ABI and build fingerprint"}}) +
      "\nexit codes:\n";
  for (const auto& e : kExitMeanings) out += "  " + std::to_string(e.code) + " " + e.meaning + "\n";
  return out;
}

std::string HelpFormatter::command_help(const CLI::App& app, const Command& command) const {
  std::string out = "usage: attrib " + std::string(command.name) + " " + command.usage + "\n";
  if (!app.get_description().empty()) out += "\n" + app.get_description() + "\n";
  // Declaration order, the help flag (declared first by CLI11) last.
  std::vector<std::pair<std::string, std::string>> rows;
  const CLI::Option* help = app.get_help_ptr();
  for (const CLI::Option* opt : app.get_options())
    if (opt != help && !opt->get_group().empty())
      rows.push_back({option_left(*opt), opt->get_description()});
  if (help) rows.push_back({option_left(*help), "this help"});
  out += "\noptions:\n" + two_columns(rows);
  if (!app.get_footer().empty()) out += "\n" + app.get_footer() + "\n";
  return out;
}

}  // namespace attrib::cli
