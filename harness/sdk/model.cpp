#include "attrib/model.h"

#include "attrib/error.h"
#include "attrib/method.h"

namespace attrib {
namespace {
[[noreturn]] void unsupported(const ModelAdapter& m, const char* what, const char* cap) {
  throw Error(detail::cat("model '", m.info().name, "' does not support ", what, " (capability '",
                          cap, "' missing)"));
}
}  // namespace

ModelAdapter::~ModelAdapter() = default;
AttributionMethod::~AttributionMethod() = default;

at::Tensor ModelAdapter::embed(const at::Tensor&) { unsupported(*this, "embed", "embeddings"); }
at::Tensor ModelAdapter::forward_from_embeddings(const at::Tensor&, const at::Tensor&) {
  unsupported(*this, "forward_from_embeddings", "embeddings");
}
AttentionOutput ModelAdapter::forward_with_attentions(const at::Tensor&, const at::Tensor&) {
  unsupported(*this, "forward_with_attentions", "attentions");
}
AttentionOutput ModelAdapter::forward_from_embeddings_with_attentions(const at::Tensor&,
                                                                      const at::Tensor&) {
  unsupported(*this, "forward_from_embeddings_with_attentions", "attentions");
}
LabelAttentionOutput ModelAdapter::label_attention(const at::Tensor&, const at::Tensor&) {
  throw Error("model was not configured with label attention");
}
std::vector<ParamLayer> ModelAdapter::layers() { unsupported(*this, "layers", "layers"); }
std::unique_ptr<ModelAdapter> ModelAdapter::clone() const { unsupported(*this, "clone", "layers"); }
TrainReport ModelAdapter::train(const Batch&, const Batch&, const TrainOptions&) {
  unsupported(*this, "train", "trainable");
}
void ModelAdapter::save(const std::string&) const { unsupported(*this, "save", "trainable"); }

namespace {
const std::pair<uint64_t, const char*> kCapNames[] = {
    {ATTRIB_CAP_FORWARD, "forward"},
    {ATTRIB_CAP_INPUT_GRADIENT, "input_gradient"},
    {ATTRIB_CAP_EMBEDDINGS, "embeddings"},
    {ATTRIB_CAP_ATTENTIONS, "attentions"},
    {ATTRIB_CAP_LABEL_ATTENTION, "label_attention"},
    {ATTRIB_CAP_LAYERS, "layers"},
    {ATTRIB_CAP_TRAINABLE, "trainable"},
};
}  // namespace

std::vector<std::string> capability_names(uint64_t caps) {
  std::vector<std::string> out;
  for (const auto& [bit, name] : kCapNames)
    if (caps & bit) out.emplace_back(name);
  return out;
}

uint64_t capability_from_name(const std::string& name) {
  std::string known;
  for (const auto& [bit, n] : kCapNames) {
    if (name == n) return bit;
    known += known.empty() ? n : std::string(", ") + n;
  }
  throw Error("unknown capability '" + name + "' (known: " + known + ")");
}

}  // namespace attrib
