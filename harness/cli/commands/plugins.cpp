// `attrib plugins`: lists the loaded plugins and the plugin files that failed to load.
#include <iostream>

#include "command.h"
#include "registry.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Lists plugins with kind, version, ABI, capabilities, parameters (defaults, ranges), cost "
      "and\ncitation, then every plugin file that failed to load with its one-line reason (exit "
      "code 4 then).");
  app.add_flag("--json", "print the list as JSON");
  add_value(app, "--plugin-dir", "DIR",
            "search DIR for plugins first (repeatable); then $ATTRIB_PLUGIN_PATH\n"
            "(colon-separated), then the built-in plugin folder");
}

int run(const Args& args) {
  if (!args.positional().empty())
    throw UsageError("unexpected argument \"" + args.positional()[0] + "\"");
  const bool as_json = args.flag("--json");
  Registry registry;
  load_plugins(registry, args.values("--plugin-dir"));
  if (as_json) {
    json doc = {{"abi_version", ATTRIB_ABI_VERSION},
                {"fingerprint", host_fingerprint()},
                {"search_path", Registry::search_path({})},
                {"plugins", json::array()},
                {"errors", json::array()}};
    for (const auto& p : registry.plugins())
      doc["plugins"].push_back({{"name", p.name},
                                {"kind", p.kind == ATTRIB_KIND_METHOD ? "method" : "model"},
                                {"version", p.version},
                                {"abi_version", p.abi_version},
                                {"fingerprint", p.fingerprint},
                                {"path", p.path},
                                {"capabilities", capability_names(p.capabilities)},
                                {"metadata", p.metadata}});
    for (const auto& e : registry.errors())
      doc["errors"].push_back({{"path", e.path}, {"message", e.message}});
    std::cout << doc.dump(2) << "\n";
  } else {
    for (uint32_t kind : {ATTRIB_KIND_METHOD, ATTRIB_KIND_MODEL}) {
      std::cout << (kind == ATTRIB_KIND_METHOD ? "methods" : "models") << ":\n";
      for (const auto& p : registry.plugins()) {
        if (p.kind != kind) continue;
        std::string caps;
        for (const auto& c : capability_names(p.capabilities))
          caps += (caps.empty() ? "" : ", ") + c;
        std::cout << "  " << p.name << " " << p.version << "  (ABI " << p.abi_version << ")  "
                  << (kind == ATTRIB_KIND_METHOD ? "needs: " : "offers: ")
                  << (caps.empty() ? "-" : caps) << "\n";
        if (p.metadata.contains("description"))
          std::cout << "    " << p.metadata["description"].get<std::string>() << "\n";
        if (p.metadata.contains("cost"))
          std::cout << "    cost per explanation: " << p.metadata["cost"].dump() << "\n";
        std::cout << render_params(p.metadata.value("params", json::object()));
      }
    }
  }
  report_load_errors(registry);
  return registry.errors().empty() ? kOk : kPlugin;
}

}  // namespace

const Command kPluginsCommand = {
    "plugins",
    "",
    "list the loaded plugins (methods, models) and plugin load errors",
    "[--json] [--plugin-dir DIR]",
    add_options,
    run,
};

}  // namespace attrib::cli
