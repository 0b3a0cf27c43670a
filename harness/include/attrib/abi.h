#pragma once
// The C handshake between the attrib host and a plugin library.
//
// A plugin exports exactly one symbol, `attrib_plugin_entry`, returning a pointer to a static
// descriptor. The host reads `abi_version` first and refuses the plugin when it differs from its
// own; only then does it read the rest.
#include <cstddef>
#include <cstdint>

// Bump rule: increment ATTRIB_ABI_VERSION whenever a plugin built against the old headers could
// misbehave with a new host, i.e. when any of these change: the descriptor's fields (other than
// appending a field at the end, which `struct_size` guards), the signature of `create`, any
// virtual function or data member of the C++ types plugins exchange with the host
// (attrib::AttributionMethod, attrib::ModelAdapter, attrib::Batch, attrib::Explanation,
// attrib::ModelInfo, attrib::ExplainContext). The first four fields never move, so a host can
// always name a plugin whose ABI it refuses.
// History: 2 added ExplainContext::split_ids.
#define ATTRIB_ABI_VERSION 2

// The symbol every plugin exports.
#define ATTRIB_PLUGIN_ENTRY_SYMBOL "attrib_plugin_entry"

extern "C" {

/// What a plugin provides.
enum attrib_plugin_kind : uint32_t {
  ATTRIB_KIND_METHOD = 1,  ///< an attribution method (attrib::AttributionMethod)
  ATTRIB_KIND_MODEL = 2,   ///< a model adapter (attrib::ModelAdapter)
};

/// Model capabilities. A model plugin's descriptor lists the most it can offer; each model instance
/// reports what it actually has (attrib::ModelInfo::capabilities). A method plugin's descriptor
/// lists what it requires of a model.
enum attrib_capability : uint64_t {
  ATTRIB_CAP_FORWARD = 1ull << 0,         ///< logits [B, C] from a batch
  ATTRIB_CAP_INPUT_GRADIENT = 1ull << 1,  ///< gradient w.r.t. the attributed input (dense input
                                          ///< or, for text, the embeddings)
  ATTRIB_CAP_EMBEDDINGS = 1ull << 2,      ///< embed() + forward_from_embeddings()
  ATTRIB_CAP_ATTENTIONS = 1ull << 3,  ///< per-layer attention probabilities on the autograd path
  ATTRIB_CAP_LABEL_ATTENTION = 1ull << 4,  ///< class-specific label attention
  ATTRIB_CAP_LAYERS = 1ull << 5,     ///< ordered parameterised layers + clone() (randomisation)
  ATTRIB_CAP_TRAINABLE = 1ull << 6,  ///< train() and save()
};

/// Creates the plugin's object from resolved parameters (a JSON object). Returns a pointer created
/// with `new` (attrib::AttributionMethod* or attrib::ModelAdapter*, by kind), or nullptr after
/// writing a NUL-terminated message of at most `error_capacity` bytes into `error`. Never throws.
typedef void* (*attrib_create_fn)(const char* params_json, char* error, size_t error_capacity);

struct attrib_plugin_descriptor {
  uint32_t abi_version;       ///< ATTRIB_ABI_VERSION the plugin was compiled with (never moves)
  uint32_t struct_size;       ///< sizeof(attrib_plugin_descriptor) the plugin was compiled with
  uint32_t kind;              ///< attrib_plugin_kind
  const char* name;           ///< unique plugin name, e.g. "integrated_gradients"
  const char* version;        ///< semantic version of the plugin, e.g. "1.0.0"
  uint64_t capabilities;      ///< attrib_capability bits (see above for the meaning per kind)
  const char* metadata_json;  ///< JSON: description, citation, params schema, cost (see params.h)
  const char* fingerprint;    ///< build fingerprint, ATTRIB_BUILD_FINGERPRINT
  attrib_create_fn create;    ///< factory
};

/// Signature of `attrib_plugin_entry`.
typedef const attrib_plugin_descriptor* (*attrib_plugin_entry_fn)(void);
}

#define ATTRIB_STRINGIFY_(x) #x
#define ATTRIB_STRINGIFY(x) ATTRIB_STRINGIFY_(x)

#ifndef ATTRIB_WITH_CUDA
#define ATTRIB_WITH_CUDA 0
#endif

/// What must agree between host and plugin for C++ objects to cross the boundary: the LibTorch
/// major.minor version, the libstdc++ string ABI, and whether LibTorch has CUDA. Expands to a
/// string literal; needs <torch/version.h>.
#define ATTRIB_BUILD_FINGERPRINT \
  "libtorch=" ATTRIB_STRINGIFY(TORCH_VERSION_MAJOR) "." ATTRIB_STRINGIFY(         \
      TORCH_VERSION_MINOR) ";cxx11_abi=" ATTRIB_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) \
      ";cuda=" ATTRIB_STRINGIFY(ATTRIB_WITH_CUDA)
