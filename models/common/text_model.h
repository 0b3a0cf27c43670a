#pragma once
// Shared by the built-in text model plugins (text_transformer, text_bow, text_cnn): their common
// parameter schema (vocabulary, classes, special-token ids, max_len, d_model, seed, tokenizer,
// checkpoint, device) and its parsing, the metadata every text model carries, the TorchScript
// source of the methods they all export alike, and the module they are built into. Loading a
// checkpoint, initialisation and the adapter are builtin_model.h's; training, clone, save and
// layers() are attrib::TorchScriptModel's. Header-only and compiled into
// each plugin; this folder has no CMakeLists.txt, so it is not a plugin itself.
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "builtin_model.h"

namespace attrib_models {

/// The "params" entries every text model takes (the harness injects vocab, num_classes,
/// class_names, the special-token ids and max_len from the dataset). A plugin's own entries are
/// merged over these.
constexpr const char* kTextParams = R"JSON({
  "vocab": {"type": "array", "description": "id -> token (strings); required unless checkpoint"},
  "num_classes": {"type": "integer", "minimum": 1, "description": "number of classes; defaults to the number of class_names; required unless checkpoint"},
  "class_names": {"type": "array", "description": "class names (optional)"},
  "d_model": {"type": "integer", "default": 32, "minimum": 1, "maximum": 65536, "description": "embedding size d: embed(input_ids) is [B, T, d]"},
  "max_len": {"type": "integer", "default": 128, "minimum": 1, "maximum": 1048576, "description": "longest input in tokens the harness collates for this model; recorded in metadata"},
  "pad_id": {"type": "integer", "default": 0, "minimum": -1},
  "unk_id": {"type": "integer", "default": 1, "minimum": -1},
  "mask_id": {"type": "integer", "default": 2, "minimum": -1},
  "seed": {"type": "integer", "default": 0, "minimum": 0, "description": "initialisation seed"},
  "tokenizer": {"type": "string", "default": "word", "enum": ["word", "wordpiece"], "description": "how the harness tokenises text for this model; recorded in the model's metadata as \"tokenizer\""},
  "checkpoint": {"type": "string", "default": "", "description": "load this .pt (saved by this plugin) instead of building a fresh model"},
  "device": {"type": "string", "default": "cpu", "description": "cpu, cuda or cuda:N"}
})JSON";

/// The plugin metadata document: {"description", "params": kTextParams with `own_params` (a JSON
/// object of further or overriding entries) merged over it}.
inline std::string text_plugin_metadata(const std::string& description, const char* own_params) {
  json params = json::parse(kTextParams);
  params.update(json::parse(own_params));
  return json{{"description", description}, {"params", params}}.dump();
}

/// The TorchScript of forward and metadata, alike in every text model: forward is
/// forward_from_embeddings(embed(ids)), metadata() returns the JSON attribute.
constexpr const char* kForwardAndMetadataSource = R"TS(
def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    return self.forward_from_embeddings(self.embed(input_ids), attention_mask)

def metadata(self) -> str:
    return self.metadata_json
)TS";

/// embed() of a model whose embeddings are the token embeddings alone (parameter tok_emb).
constexpr const char* kTokenEmbedSource = R"TS(
def embed(self, input_ids: Tensor) -> Tensor:
    return torch.embedding(self.tok_emb, input_ids)
)TS";

/// Name of parameter `p` of transformer layer `layer`: "layer<layer>_<p>".
inline std::string layer_param(int64_t layer, const char* p) {
  return "layer" + std::to_string(layer) + "_" + p;
}

/// A transformer's layer loop unrolled over flat parameters, as TorchScript source: per layer
/// `x, a = self._layer(x, <mask>, self.layer<l>_<p>, ...)` with `attention` then `mlp` as the
/// parameters p, appending a to `attentions`.
inline std::string layer_calls(int64_t n_layers, const std::string& mask,
                               const std::vector<const char*>& attention,
                               const std::vector<const char*>& mlp) {
  std::string s;
  for (int64_t l = 0; l < n_layers; ++l) {
    s += "    x, a = self._layer(x, " + mask;
    for (const auto* group : {&attention, &mlp})
      for (const char* p : *group) s += ", self." + layer_param(l, p);
    s += ")\n    attentions.append(a)\n";
  }
  return s;
}

/// What every text model is built for.
struct TextSpec {
  std::vector<std::string> vocab;
  std::vector<std::string> class_names;  ///< may be empty
  int64_t vocab_size = 0;
  int64_t num_classes = 0;
  int64_t d = 0;  ///< d_model
  int64_t max_len = 0;
  int64_t pad_id = 0, unk_id = 1, mask_id = 2;
  uint64_t seed = 0;
  std::string tokenizer;
};

/// Reads and checks the common parameters (resolved: defaults filled in).
inline TextSpec text_spec(const json& p, const std::string& plugin) {
  if (!p.contains("vocab") || !p["vocab"].is_array() || p["vocab"].empty())
    throw attrib::Error(plugin +
                        ": parameter 'vocab' is required (a non-empty array of "
                        "token strings) unless 'checkpoint' is given");
  TextSpec s;
  s.vocab = string_list(p, "vocab", plugin);
  s.num_classes = classes(p, plugin, &s.class_names);
  s.vocab_size = static_cast<int64_t>(s.vocab.size());
  for (const char* key : {"pad_id", "unk_id", "mask_id"}) {
    const int64_t id = p.at(key).get<int64_t>();
    if (id >= s.vocab_size)
      throw attrib::Error(plugin + ": " + key + " = " + std::to_string(id) +
                          ", expected -1 or an id below the vocabulary size " +
                          std::to_string(s.vocab_size));
  }
  s.pad_id = p.at("pad_id").get<int64_t>();
  s.unk_id = p.at("unk_id").get<int64_t>();
  s.mask_id = p.at("mask_id").get<int64_t>();
  s.d = p.at("d_model").get<int64_t>();
  s.max_len = p.at("max_len").get<int64_t>();
  s.seed = p.at("seed").get<uint64_t>();
  s.tokenizer = p.value("tokenizer", std::string("word"));
  return s;
}

/// Metadata every text model carries; the plugin adds its sizes, description and "layers".
inline json text_metadata(const TextSpec& s, const std::string& plugin) {
  return {{"contract_version", 1},
          {"model", plugin},
          {"input_kind", "text"},
          {"num_classes", s.num_classes},
          {"class_names", s.class_names},
          {"vocab", s.vocab},
          {"vocab_size", s.vocab_size},
          {"pad_id", s.pad_id},
          {"unk_id", s.unk_id},
          {"mask_id", s.mask_id},
          {"max_len", s.max_len},
          {"d", s.d},
          {"seed", s.seed},
          {"tokenizer", s.tokenizer},
          {"capabilities", {"forward", "input_gradient", "embeddings", "layers", "trainable"}}};
}

/// A parameterless module in evaluation mode, to register parameters on.
inline torch::jit::Module text_module(const std::string& class_name) {
  torch::jit::Module m(class_name);
  m.register_attribute("training", c10::BoolType::get(), false);
  return m;
}

/// Stores `meta` as metadata() and compiles `source` (which must define embed and
/// forward_from_embeddings; kForwardAndMetadataSource is appended).
inline void finish_text_module(torch::jit::Module& m, const json& meta, const std::string& source) {
  m.register_attribute("metadata_json", c10::StringType::get(), meta.dump());
  m.define(source + kForwardAndMetadataSource);
}

/// A text module under construction from seed: parameters registered in forward order and grouped
/// into the metadata "layers", drawn from one generator in the order of the calls.
struct TextModuleBuilder {
  torch::jit::Module module;
  at::Generator gen;
  json layers = json::array();

  TextModuleBuilder(const std::string& class_name, uint64_t seed)
      : module(text_module(class_name)), gen(seeded(seed)) {}

  void param(const std::string& name, at::Tensor t) {
    module.register_parameter(name, std::move(t), /*is_buffer=*/false);
  }
  /// Registers `weight` as w and a zero bias (size weight.size(0)) as b, as one layer.
  void weighted_layer(const std::string& name, const std::string& w, at::Tensor weight,
                      const std::string& b) {
    const int64_t out = weight.size(0);
    param(w, std::move(weight));
    param(b, at::zeros({out}));
    layers.push_back({{"name", name}, {"params", {w, b}}});
  }
  /// Layer "embedding": tok_emb [V, d] ~ N(0, 1).
  void token_embedding(const TextSpec& s) {
    param("tok_emb", at::normal(0.0, 1.0, {s.vocab_size, s.d}, gen));
    layers.push_back({{"name", "embedding"}, {"params", {"tok_emb"}}});
  }
  /// Layer "classifier": cls_w [C, width] xavier-uniform, cls_b zeros.
  void classifier(const TextSpec& s, int64_t width) {
    weighted_layer("classifier", "cls_w",
                   xavier_uniform({s.num_classes, width}, width, s.num_classes, gen), "cls_b");
  }
  /// Sets meta["layers"] and compiles (finish_text_module).
  torch::jit::Module finish(json meta, const std::string& source) {
    meta["layers"] = layers;
    finish_text_module(module, meta, source);
    return module;
  }
};

/// Loads p["checkpoint"] (refusing one saved by another model) or builds a fresh module, with
/// TorchScript errors of the build as attrib::Error naming the plugin.
inline Built make_text(const json& p, const std::string& plugin,
                       const std::function<torch::jit::Module(const json&)>& build) {
  return make(p, plugin, [&](const json& params) {
    try {
      return build(params);
    } catch (const c10::Error& e) {
      throw attrib::Error(plugin +
                          ": cannot build the TorchScript module: " + e.what_without_backtrace());
    } catch (const attrib::Error&) {
      throw;
    } catch (const std::exception& e) {  // the script compiler's torch::jit::ErrorReport
      throw attrib::Error(plugin + ": cannot build the TorchScript module: " + e.what());
    }
  });
}

/// The adapter of a built-in text model: the TorchScriptModel on the requested device.
class TextBuiltin : public BuiltinModel {
 public:
  TextBuiltin(const json& p, const std::string& plugin,
              const std::function<torch::jit::Module(const json&)>& build)
      : BuiltinModel(make_text(p, plugin, build), p) {}
};

}  // namespace attrib_models
