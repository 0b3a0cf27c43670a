#pragma once
// Defines a plugin's entry point.
//
//   class MyMethod : public attrib::AttributionMethod {
//    public:
//     explicit MyMethod(const nlohmann::json& params);  // params already resolved
//     attrib::Explanation explain(...) override;
//   };
//   ATTRIB_METHOD_PLUGIN(MyMethod, "my_method", "1.0.0", ATTRIB_CAP_FORWARD, kMetadataJson)
//
// The macro exports `attrib_plugin_entry`. Its factory catches every exception and reports it
// as an error value: no exception crosses the C boundary.
#include <torch/version.h>

#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>

#include "attrib/abi.h"
#include "attrib/export.h"
#include "attrib/method.h"
#include "attrib/model.h"

namespace attrib::detail {
inline void write_error(char* buffer, size_t capacity, const char* message) {
  if (buffer == nullptr || capacity == 0) return;
  std::strncpy(buffer, message, capacity - 1);
  buffer[capacity - 1] = '\0';
}

// Creates T and returns it as a Base* (the host deletes through Base*).
template <typename T, typename Base>
void* guarded_create(const char* params_json, char* error, size_t capacity) noexcept {
  try {
    nlohmann::json params =
        params_json && *params_json ? nlohmann::json::parse(params_json) : nlohmann::json::object();
    return static_cast<void*>(static_cast<Base*>(new T(params)));
  } catch (const std::exception& e) {
    write_error(error, capacity, e.what());
  } catch (...) {
    write_error(error, capacity, "unknown exception in plugin factory");
  }
  return nullptr;
}
}  // namespace attrib::detail

#define ATTRIB_DEFINE_PLUGIN_(Kind, Base, Class, Name, Version, Caps, Metadata)           \
  static_assert(std::is_base_of_v<Base, Class>, #Class " must derive from " #Base);       \
  extern "C" ATTRIB_PLUGIN_EXPORT const attrib_plugin_descriptor* attrib_plugin_entry() { \
    static const attrib_plugin_descriptor descriptor = {                                  \
        ATTRIB_ABI_VERSION,                                                               \
        sizeof(attrib_plugin_descriptor),                                                 \
        Kind,                                                                             \
        Name,                                                                             \
        Version,                                                                          \
        Caps,                                                                             \
        Metadata,                                                                         \
        ATTRIB_BUILD_FINGERPRINT,                                                         \
        &::attrib::detail::guarded_create<Class, Base>};                                  \
    return &descriptor;                                                                   \
  }

/// Exports a method plugin. `Caps`: capabilities the method requires of a model.
#define ATTRIB_METHOD_PLUGIN(Class, Name, Version, Caps, Metadata)                             \
  ATTRIB_DEFINE_PLUGIN_(ATTRIB_KIND_METHOD, ::attrib::AttributionMethod, Class, Name, Version, \
                        Caps, Metadata)
/// Exports a model-adapter plugin. `Caps`: the most capabilities an instance can offer.
#define ATTRIB_MODEL_PLUGIN(Class, Name, Version, Caps, Metadata)                              \
  ATTRIB_DEFINE_PLUGIN_(ATTRIB_KIND_MODEL, ::attrib::ModelAdapter, Class, Name, Version, Caps, \
                        Metadata)
