#include "registry.h"

#include <dlfcn.h>
#include <torch/version.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/user_input.h"

namespace attrib {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One loaded shared library. Never unloaded: every holder is also kept in a process-wide list
// that is intentionally leaked, so neither a Registry's destruction nor static destruction at
// exit can dlclose a library whose objects (or vtables, or type info) are still in use. Objects a
// plugin creates additionally hold a shared_ptr to their holder in their deleter.
struct Library {
  boost::dll::shared_library lib;
  std::string path;
};
using LibraryPtr = std::shared_ptr<Library>;

std::mutex& libraries_mutex() {
  static auto* m = new std::mutex;  // leaked on purpose (see Library)
  return *m;
}
std::map<std::string, LibraryPtr>& loaded_libraries() {
  static auto* libs = new std::map<std::string, LibraryPtr>;  // leaked on purpose
  return *libs;
}

// Collapses a (possibly multi-line) message onto one line.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case ATTRIB_KIND_METHOD:
      return "method";
    case ATTRIB_KIND_MODEL:
      return "model";
    default:
      return "plugin";
  }
}

std::string quoted(const char* s) { return s ? std::string("'") + s + "'" : "<unnamed>"; }

// Opens `path` (absolute) or returns the loader's reason in `error`. Reuses a library that is
// already open in this process.
LibraryPtr open_library(const std::string& path, std::string& error) {
  std::lock_guard<std::mutex> lock(libraries_mutex());
  auto& libs = loaded_libraries();
  if (auto it = libs.find(path); it != libs.end()) return it->second;

  auto holder = std::make_shared<Library>();
  holder->path = path;
  boost::dll::fs::error_code ec;
  // rtld_now: a plugin with unresolved symbols is refused here instead of aborting the process
  // at its first call. rtld_local: plugins do not see each other's symbols.
  ::dlerror();  // clear any stale message
  holder->lib.load(boost::dll::fs::path(path),
                   boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !holder->lib.is_loaded()) {
    const char* why = ::dlerror();
    std::string reason = why ? why : ec.message();
    // dlerror usually starts with the path itself; do not repeat it.
    if (reason.rfind(path + ": ", 0) == 0) reason = reason.substr(path.size() + 2);
    error = one_line(reason);
    return nullptr;
  }
  libs.emplace(path, holder);
  return holder;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return (ec ? fs::path(path) : p).lexically_normal().string();
}

}  // namespace

struct Registry::Impl {
  std::vector<PluginInfo> plugins;
  std::vector<LoadError> errors;
  std::vector<LibraryPtr> libraries;                         // parallel to `plugins`
  std::vector<const attrib_plugin_descriptor*> descriptors;  // parallel to `plugins`
  std::map<std::string, bool> attempted;  // canonical file path -> outcome of load_file

  size_t index_of(const std::string& name, uint32_t kind) const {
    for (size_t i = 0; i < plugins.size(); ++i)
      if (plugins[i].name == name && plugins[i].kind == kind) return i;
    return plugins.size();
  }

  bool load_new_file(const std::string& path);

  bool fail(const std::string& path, std::string message) {
    errors.push_back(LoadError{path, one_line(std::move(message))});
    return false;
  }

  // Throws the "unknown plugin" error for `name` of `kind`.
  [[noreturn]] void unknown(const std::string& name, uint32_t kind) const {
    std::string known;
    std::string other_kind;
    for (const auto& p : plugins) {
      if (p.kind == kind)
        known += (known.empty() ? "" : ", ") + p.name;
      else if (p.name == name)
        other_kind = p.kind == ATTRIB_KIND_METHOD ? "method" : "model";
    }
    std::string msg = detail::cat("unknown ", kind_name(kind), " '", name, "'");
    if (!other_kind.empty()) msg += " ('" + name + "' is a " + other_kind + ")";
    msg += " (known: " + (known.empty() ? std::string("none loaded") : known) + ")";
    throw Error(msg);
  }

  size_t require(const std::string& name, uint32_t kind) const {
    const size_t i = index_of(name, kind);
    if (i == plugins.size()) unknown(name, kind);
    return i;
  }

  // Calls the plugin's factory; returns the raw object and the library that must outlive it.
  void* create(const std::string& name, uint32_t kind, const json& params, const std::string& path,
               LibraryPtr& library) const {
    const size_t i = require(name, kind);
    const json schema = plugins[i].metadata.value("params", json::object());
    const json resolved = resolve_params(schema, params, path);
    const std::string text = resolved.dump();
    char error[1024];
    error[0] = '\0';
    void* raw = descriptors[i]->create(text.c_str(), error, sizeof(error));
    if (raw == nullptr) {
      error[sizeof(error) - 1] = '\0';
      const std::string message = error[0] ? one_line(error) : "no message given";
      throw Error("plugin '" + name + "' failed to create: " + message);
    }
    library = libraries[i];
    return raw;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

std::vector<std::string> Registry::search_path(const std::vector<std::string>& plugin_dirs) {
  std::vector<std::string> out(plugin_dirs.begin(), plugin_dirs.end());
  if (const char* env = std::getenv("ATTRIB_PLUGIN_PATH")) {
    std::string value = env;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(':', start);
      if (end == std::string::npos) end = value.size();
      if (end > start) out.push_back(value.substr(start, end - start));
      start = end + 1;
    }
  }
  out.push_back(builtin_plugin_dir());
  return out;
}

void Registry::load_directories(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;  // missing folders are skipped silently
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code fec;
      if (it->path().extension() == ".so" && it->is_regular_file(fec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    for (const auto& f : files) load_file(f.string());
  }
}

bool Registry::load_file(const std::string& given_path) {
  Impl& d = *impl_;
  const std::string path = absolute_path(given_path);
  // The same file reached twice (a folder on the search path twice, or through a symbolic
  // link): the first outcome stands, without a second error or a duplicate-name complaint.
  std::error_code cec;
  const fs::path canonical = fs::canonical(path, cec);
  const std::string key = cec ? path : canonical.string();
  if (auto it = d.attempted.find(key); it != d.attempted.end()) return it->second;
  const bool ok = d.load_new_file(path);
  d.attempted[key] = ok;
  return ok;
}

bool Registry::Impl::load_new_file(const std::string& path) {
  Impl& d = *this;

  std::string why;
  LibraryPtr library = open_library(path, why);
  if (!library) return d.fail(path, path + ": not a loadable shared library (" + why + ")");
  if (!library->lib.has(ATTRIB_PLUGIN_ENTRY_SYMBOL))
    return d.fail(path, path + ": no " ATTRIB_PLUGIN_ENTRY_SYMBOL " symbol (not an attrib plugin)");

  auto entry = library->lib.get<const attrib_plugin_descriptor*()>(ATTRIB_PLUGIN_ENTRY_SYMBOL);
  const attrib_plugin_descriptor* desc = entry();
  if (desc == nullptr)
    return d.fail(path, path + ": " ATTRIB_PLUGIN_ENTRY_SYMBOL " returned no descriptor (null)");

  // abi_version first; the first four fields never move, so the name can still be reported.
  if (desc->abi_version != ATTRIB_ABI_VERSION)
    return d.fail(path, detail::cat("plugin ", quoted(desc->name), " (", path, ") has ABI ",
                                    desc->abi_version, ", this harness ", ATTRIB_ABI_VERSION));
  if (desc->name == nullptr || desc->name[0] == '\0')
    return d.fail(path, path + ": plugin descriptor has no name");
  const std::string name = desc->name;
  if (desc->struct_size < sizeof(attrib_plugin_descriptor))
    return d.fail(path, detail::cat("plugin '", name, "' (", path, ") has a descriptor of ",
                                    desc->struct_size, " bytes, this harness expects at least ",
                                    sizeof(attrib_plugin_descriptor)));
  if (desc->kind != ATTRIB_KIND_METHOD && desc->kind != ATTRIB_KIND_MODEL)
    return d.fail(path, detail::cat("plugin '", name, "' (", path, ") has unknown kind ",
                                    desc->kind, " (expected 1 = method or 2 = model)"));
  const std::string host = host_fingerprint();
  const std::string fingerprint = desc->fingerprint ? desc->fingerprint : "";
  if (fingerprint != host)
    return d.fail(path, "plugin '" + name + "' (" + path + ") was built for " +
                            (fingerprint.empty() ? "<no fingerprint>" : fingerprint) +
                            ", this harness is " + host);
  if (desc->create == nullptr)
    return d.fail(path, "plugin '" + name + "' (" + path + ") has no create function (null)");

  json metadata = json::object();
  if (desc->metadata_json != nullptr && desc->metadata_json[0] != '\0') {
    try {  // depth- and range-checked like every JSON attrib reads: a plugin is outside input
      metadata = parse_json_checked(desc->metadata_json, "");
    } catch (const std::exception& e) {
      return d.fail(path,
                    "plugin '" + name + "': metadata_json is not valid JSON (" + e.what() + ")");
    }
  }
  if (!metadata.is_object())
    return d.fail(path, "plugin '" + name + "': metadata_json is not a JSON object (got " +
                            describe_json(metadata) + ")");
  if (metadata.contains("params") && !metadata["params"].is_object())
    return d.fail(path, "plugin '" + name + "': metadata_json \"params\" is not an object (got " +
                            describe_json(metadata["params"]) + ")");

  for (const auto& p : d.plugins)
    if (p.name == name)
      return d.fail(path, "plugin '" + name + "' (" + path +
                              ") ignored: a plugin of that name was already loaded from " + p.path);

  PluginInfo info;
  info.name = name;
  info.version = desc->version ? desc->version : "";
  info.path = path;
  info.fingerprint = fingerprint;
  info.abi_version = desc->abi_version;
  info.kind = desc->kind;
  info.capabilities = desc->capabilities;
  info.metadata = std::move(metadata);
  d.plugins.push_back(std::move(info));
  d.libraries.push_back(std::move(library));
  d.descriptors.push_back(desc);
  return true;
}

const std::vector<PluginInfo>& Registry::plugins() const { return impl_->plugins; }
const std::vector<LoadError>& Registry::errors() const { return impl_->errors; }

const PluginInfo* Registry::find(const std::string& name, uint32_t kind) const {
  const size_t i = impl_->index_of(name, kind);
  return i < impl_->plugins.size() ? &impl_->plugins[i] : nullptr;
}

std::shared_ptr<AttributionMethod> Registry::create_method(const std::string& name,
                                                           const json& params,
                                                           const std::string& path) const {
  LibraryPtr library;
  auto* raw = static_cast<AttributionMethod*>(
      impl_->create(name, ATTRIB_KIND_METHOD, params, path, library));
  // The deleter runs the plugin's destructor, so it keeps the library alive (Boost.DLL style).
  return std::shared_ptr<AttributionMethod>(raw, [library](AttributionMethod* p) mutable {
    delete p;
    library.reset();
  });
}

std::shared_ptr<ModelAdapter> Registry::create_model(const std::string& name, const json& params,
                                                     const std::string& path) const {
  LibraryPtr library;
  auto* raw =
      static_cast<ModelAdapter*>(impl_->create(name, ATTRIB_KIND_MODEL, params, path, library));
  return std::shared_ptr<ModelAdapter>(raw, [library](ModelAdapter* p) mutable {
    delete p;
    library.reset();
  });
}

json Registry::resolve(const std::string& name, uint32_t kind, const json& params,
                       const std::string& path) const {
  const size_t i = impl_->require(name, kind);
  return resolve_params(impl_->plugins[i].metadata.value("params", json::object()), params, path);
}

std::shared_ptr<ModelAdapter> clone_model(const std::shared_ptr<ModelAdapter>& model) {
  ATTRIB_CHECK(model != nullptr, "clone_model: no model given");
  std::unique_ptr<ModelAdapter> copy = model->clone();
  ATTRIB_CHECK(copy != nullptr, "model '", model->info().name, "': clone() returned nothing");
  // The copy's code lives in the original's library: hold the original until the copy is gone.
  return std::shared_ptr<ModelAdapter>(copy.release(), [model](ModelAdapter* p) { delete p; });
}

std::string builtin_plugin_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fs::path(ATTRIB_PLUGIN_SUBDIR).string();
  return (exe.parent_path() / ".." / ATTRIB_PLUGIN_SUBDIR).lexically_normal().string();
}

std::string host_fingerprint() { return ATTRIB_BUILD_FINGERPRINT; }

void Registry::check_compatible(const std::string& method, const ModelAdapter& model,
                                const std::string& method_name,
                                const std::string& model_name) const {
  const PluginInfo* plugin = find(method, ATTRIB_KIND_METHOD);
  ATTRIB_CHECK(plugin != nullptr, "method plugin '", method, "' is not loaded");
  const uint64_t missing = plugin->capabilities & ~model.info().capabilities;
  if (!missing) return;
  std::string names;
  for (const auto& n : capability_names(missing)) names += (names.empty() ? "" : ", ") + n;
  throw Error("method '" + method_name + "' needs model capabilities [" + names + "] that model '" +
              model_name + "' lacks");
}

}  // namespace attrib
