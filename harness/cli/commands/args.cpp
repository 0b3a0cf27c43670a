#include <cstdio>
#include <iostream>

#include "attrib/error.h"
#include "attrib/params.h"
#include "command.h"
#include "registry.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

bool looks_like_option(const std::string& s) { return s.size() > 1 && s[0] == '-'; }

}  // namespace

Args::Args(const CLI::App& app, const Command& command, std::vector<std::string> command_line)
    : app_(app), name_(command.name), command_line_(std::move(command_line)) {
  // CLI11 leaves what no option claimed in remaining(), in command-line order: positional
  // arguments, passed-through options and unknown options (the first one is the error).
  const std::string prefix = command.passthrough_prefix ? command.passthrough_prefix : "";
  for (const auto& s : app.remaining()) {
    if (!prefix.empty() && s.rfind(prefix, 0) == 0)
      passthrough_.push_back(s);
    else if (looks_like_option(s))
      throw UsageError("unknown option " + s);
    else
      positional_.push_back(s);
  }
}

const CLI::Option* Args::option(const std::string& name) const {
  // A name the command never declared is a bug in the command, not a user error.
  return app_.get_option(name);
}

bool Args::flag(const std::string& name) const { return option(name)->count() > 0; }

bool Args::given(const std::string& name) const { return !option(name)->results().empty(); }

std::vector<std::string> Args::values(const std::string& name) const {
  return option(name)->results();
}

std::string Args::value(const std::string& name, const std::string& fallback) const {
  const auto& v = option(name)->results();
  if (v.size() > 1) throw UsageError(name + ": given " + std::to_string(v.size()) + " times");
  return v.empty() ? fallback : v[0];
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t minimum) const {
  const std::string v = value(name);
  return v.empty() && !given(name) ? fallback : parse_integer(name, v, minimum);
}

CLI::Option* add_value(CLI::App& app, const std::string& name, const std::string& value_name,
                       const std::string& description) {
  return app.add_option(name, CLI::callback_t{}, description)->type_name(value_name);
}

int64_t parse_integer(const std::string& option, const std::string& text, int64_t minimum) {
  // std::stoll alone would take " 5" and "5x" (as 5); the whole text must be digits.
  const bool digits =
      !text.empty() &&
      text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos &&
      text != "-";
  try {
    size_t pos = 0;
    const long long x = digits ? std::stoll(text, &pos) : 0;
    if (digits && pos == text.size() && x >= minimum) return x;
  } catch (const std::exception&) {  // out of range of 64 bits
  }
  throw UsageError(option + ": expected an integer >= " + std::to_string(minimum) + ", got \"" +
                   text + "\"");
}

double parse_number(const std::string& option, const std::string& text, Range range) {
  double x = 0.0;
  std::size_t pos = 0;
  bool ok = !text.empty() && !std::isspace(static_cast<unsigned char>(text[0]));
  try {
    if (ok) x = std::stod(text, &pos);
  } catch (const std::exception&) {
    ok = false;
  }
  ok = ok && pos == text.size() && std::isfinite(x) &&
       (range.minimum_open ? x > range.minimum : x >= range.minimum) && x < range.below;
  if (ok) return x;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%g", range.minimum_open ? "> " : ">= ", range.minimum);
  std::string wanted = buf;
  if (range.below != HUGE_VAL) {
    std::snprintf(buf, sizeof buf, " and < %g", range.below);
    wanted += buf;
  }
  throw UsageError(option + ": expected a number " + wanted + ", got \"" + text + "\"");
}

json key_values(const std::vector<std::string>& items, const std::string& option) {
  json out = json::object();
  for (const auto& kv : items) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(option + ": expected KEY=VALUE, got \"" + kv + "\"");
    const std::string key = kv.substr(0, eq);
    if (out.contains(key)) throw UsageError(option + ": " + key + " given twice");
    try {
      out[key] = attrib::parse_cli_value(kv.substr(eq + 1));
    } catch (const attrib::Error& e) {
      throw InputError(option + " " + key + ": " + e.what());
    }
  }
  return out;
}

void load_plugins(Registry& registry, const std::vector<std::string>& plugin_dirs) {
  registry.load_directories(Registry::search_path(plugin_dirs));
}

void report_load_errors(const Registry& registry) {
  for (const auto& e : registry.errors()) std::cerr << "plugin load error: " << e.message << "\n";
}

std::string render_params(const json& schema) {
  std::string out;
  for (const auto& [k, s] : schema.items()) {
    out += "      " + k + " (" + s.value("type", "any") + ")";
    if (s.contains("default")) out += " = " + attrib::describe_json(s["default"]);
    if (s.contains("enum")) out += "  one of " + s["enum"].dump();
    if (s.contains("minimum") || s.contains("maximum"))
      out += "  range [" + (s.contains("minimum") ? s["minimum"].dump() : "-inf") + ", " +
             (s.contains("maximum") ? s["maximum"].dump() : "inf") + "]";
    if (s.contains("description")) out += "  -- " + s["description"].get<std::string>();
    out += "\n";
  }
  return out;
}

}  // namespace attrib::cli
