#pragma once
// Plugin discovery and loading (Boost.DLL). A broken plugin never stops the others: each failure
// becomes one LoadError with a one-line message. Libraries are never unloaded.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/abi.h"
#include "attrib/method.h"
#include "attrib/model.h"

namespace attrib {

/// A successfully loaded plugin.
struct PluginInfo {
  std::string name;
  std::string version;
  std::string path;  ///< the shared library it came from
  std::string fingerprint;
  uint32_t abi_version = 0;
  uint32_t kind = 0;  ///< attrib_plugin_kind
  uint64_t capabilities = 0;
  nlohmann::json metadata;  ///< parsed metadata_json (params schema, citation, cost, ...)
};

/// A plugin file that could not be loaded.
struct LoadError {
  std::string path;
  std::string message;  ///< one line, e.g. "plugin 'x' has ABI 3, this harness 1"
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The search path: `plugin_dirs` (--plugin-dir, in order), then the entries of
  /// ATTRIB_PLUGIN_PATH (colon-separated), then builtin_plugin_dir().
  static std::vector<std::string> search_path(const std::vector<std::string>& plugin_dirs);

  /// Loads every shared library (*.so) in each folder, in path order then file-name order. A
  /// plugin whose name is already loaded is refused (first on the path wins). Missing folders
  /// are skipped silently. Never throws for a bad plugin.
  void load_directories(const std::vector<std::string>& dirs);
  /// Loads one file; returns false and records a LoadError when it is not a usable plugin.
  bool load_file(const std::string& path);

  const std::vector<PluginInfo>& plugins() const;
  const std::vector<LoadError>& errors() const;
  /// The plugin `name` of `kind`, or nullptr.
  const PluginInfo* find(const std::string& name, uint32_t kind) const;

  /// Validates `params` against the plugin's schema (errors prefixed with `path`, e.g.
  /// "methods[2].params"), fills defaults and creates the object. The returned object keeps its
  /// library loaded. Throws attrib::Error: unknown plugin (listing the known ones), invalid
  /// params, or "plugin 'x' failed to create: <its message>".
  std::shared_ptr<AttributionMethod> create_method(const std::string& name,
                                                   const nlohmann::json& params,
                                                   const std::string& path = "params") const;
  std::shared_ptr<ModelAdapter> create_model(const std::string& name, const nlohmann::json& params,
                                             const std::string& path = "params") const;

  /// Throws attrib::Error naming `method_name` and `model_name` when method plugin `method` needs
  /// model capabilities (gradients, embeddings, ...) that `model` lacks. Run and bench share it.
  void check_compatible(const std::string& method, const ModelAdapter& model,
                        const std::string& method_name, const std::string& model_name) const;

  /// Resolved parameters (defaults filled) without creating anything.
  nlohmann::json resolve(const std::string& name, uint32_t kind, const nlohmann::json& params,
                         const std::string& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A deep copy of a plugin's model that keeps the original (and so its library) alive.
std::shared_ptr<ModelAdapter> clone_model(const std::shared_ptr<ModelAdapter>& model);

/// The built-in plugin folder: <folder of the running executable>/../lib/attrib/plugins.
std::string builtin_plugin_dir();

/// This host's build fingerprint (ATTRIB_BUILD_FINGERPRINT).
std::string host_fingerprint();

}  // namespace attrib
