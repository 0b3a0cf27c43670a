#include "attrib/torchscript_model.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "attrib/error.h"
#include "attrib/hash.h"
#include "torchscript_detail.h"

namespace attrib {

using nlohmann::json;
using namespace torchscript_detail;  // NOLINT: this file's own helpers

// ---------------------------------------------------------------------------------------------

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "' to hash it: expected a readable file");
  Fnv1a h(kFnv1aLegacyBasis);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.add(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h.hex();
}

std::unique_ptr<TorchScriptModel> TorchScriptModel::load(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe)
      throw Error("torchscript model '" + path +
                  "': cannot open file (expected a "
                  "TorchScript archive saved with torch.jit.save)");
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, at::Device(at::kCPU));
  } catch (const c10::Error& e) {
    throw Error("torchscript model '" + path +
                "': not a loadable TorchScript archive: " + one_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Error("torchscript model '" + path +
                "': not a loadable TorchScript archive: " + one_line(e.what()));
  }
  const std::string hash = file_hash(path);
  return std::make_unique<TorchScriptModel>(std::move(module), path, hash);
}

TorchScriptModel::TorchScriptModel(torch::jit::Module module, std::string name,
                                   std::string artifact_hash)
    : module_(std::move(module)) {
  info_.name = std::move(name);
  info_.artifact_hash = std::move(artifact_hash);
  info_.metadata = json::object();
  info_.capability_notes = json::object();
  try {
    // Modules defined from C++ may lack the `training` flag that eval()/train() set.
    for (auto m : module_.modules())
      if (!m.type()->hasAttribute("training"))
        m.register_attribute("training", c10::BoolType::get(), false);
    module_.eval();
  } catch (const c10::Error& e) {
    throw Error("torchscript model '" + info_.name +
                "': cannot switch to eval mode: " + one_line(e.what_without_backtrace()));
  }
  for (auto p : module_.parameters()) {
    p.requires_grad_(false);
    device_ = p.device();
  }
  discover();
  conformance_checks();
}

at::Tensor TorchScriptModel::call(const char* method, std::vector<c10::IValue> args) {
  c10::IValue out = invoke(module_, info_.name, method, std::move(args));
  if (!out.isTensor())
    throw Error(detail::cat("torchscript model '", info_.name, "': ", method, " returned ",
                            out.tagKind(), ", expected a Tensor"));
  return out.toTensor();
}

void TorchScriptModel::discover() {
  const std::string& name = info_.name;
  auto fwd = module_.find_method("forward");
  if (!fwd)
    throw Error("torchscript model '" + name +
                "': no forward method (expected forward(x) or "
                "forward(input_ids, attention_mask) returning logits [B, C])");
  const size_t n_args = fwd->function().getSchema().arguments().size();  // includes self
  if (n_args == 2) {
    info_.modality = Modality::kDense;
  } else if (n_args == 3) {
    info_.modality = Modality::kText;
  } else {
    throw Error(detail::cat("torchscript model '", name, "': forward takes ", n_args - 1,
                            " arguments, expected 1 (dense x) or 2 (input_ids, attention_mask)"));
  }

  // metadata() -> str (JSON).
  json meta = json::object();
  if (module_.find_method("metadata")) {
    c10::IValue v = invoke(module_, name, "metadata", {});
    if (!v.isString())
      throw Error(detail::cat("torchscript model '", name, "': metadata() returned ", v.tagKind(),
                              ", expected a JSON string"));
    meta = json::parse(v.toStringRef(), nullptr, /*allow_exceptions=*/false);
    if (meta.is_discarded() || !meta.is_object())
      throw Error("torchscript model '" + name +
                  "': metadata() is not a JSON object: " + one_line(v.toStringRef().substr(0, 80)));
  }
  if (meta.contains("input_kind") && meta["input_kind"].is_string()) {
    const std::string kind = meta["input_kind"];
    const bool says_text = kind == "text";
    if (says_text != (info_.modality == Modality::kText))
      info_.capability_notes["metadata"] =
          detail::cat("metadata input_kind '", kind, "' disagrees with forward's ", n_args - 1,
                      " argument(s); using ", info_.modality == Modality::kText ? "text" : "dense");
  }
  info_.num_classes = int_field(meta, "num_classes", 0);
  if (meta.contains("class_names") && meta["class_names"].is_array() &&
      !meta["class_names"].empty()) {
    for (const auto& c : meta["class_names"])
      info_.class_names.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    if (info_.num_classes == 0) info_.num_classes = static_cast<int64_t>(info_.class_names.size());
    if (static_cast<int64_t>(info_.class_names.size()) != info_.num_classes)
      throw Error(detail::cat("torchscript model '", name, "': metadata lists ",
                              info_.class_names.size(),
                              " class_names, expected num_classes = ", info_.num_classes));
  }
  info_.pad_id = int_field(meta, "pad_id", -1);
  info_.unk_id = int_field(meta, "unk_id", -1);
  info_.mask_id = int_field(meta, "mask_id", -1);
  if (meta.contains("vocab")) {
    if (!meta["vocab"].is_array())
      throw Error("torchscript model '" + name +
                  "': metadata vocab: expected a list of tokens, "
                  "got " +
                  meta["vocab"].dump().substr(0, 40));
    for (const auto& t : meta["vocab"])
      info_.vocab.push_back(t.is_string() ? t.get<std::string>() : t.dump());
    meta.erase("vocab");
  }
  if (info_.modality == Modality::kDense && meta.contains("input_shape") &&
      meta["input_shape"].is_array()) {
    for (const auto& s : meta["input_shape"]) {
      if (!s.is_number_integer() || s.get<int64_t>() <= 0)
        throw Error("torchscript model '" + name +
                    "': metadata input_shape: expected positive "
                    "integers, got " +
                    meta["input_shape"].dump());
      info_.input_shape.push_back(s.get<int64_t>());
    }
  }
  info_.metadata = meta;

  // Capabilities offered by the exported methods; conformance_checks() withdraws failures.
  uint64_t caps = ATTRIB_CAP_FORWARD;
  if (info_.modality == Modality::kDense) {
    caps |= ATTRIB_CAP_INPUT_GRADIENT;
    for (const char* m : kTextMethods)
      if (module_.find_method(m))
        info_.capability_notes[m] = std::string(m) + "() ignored: forward takes one input (dense)";
  } else {
    if (module_.find_method("embed") && module_.find_method("forward_from_embeddings"))
      caps |= ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_INPUT_GRADIENT;
    else if (module_.find_method("embed") || module_.find_method("forward_from_embeddings"))
      info_.capability_notes["embeddings"] =
          "needs both embed() and forward_from_embeddings(); only one is exported";
    if (module_.find_method("forward_with_attentions")) caps |= ATTRIB_CAP_ATTENTIONS;
    if (module_.find_method("label_attention")) caps |= ATTRIB_CAP_LABEL_ATTENTION;
  }
  if (module_.parameters().size() > 0) {
    caps |= ATTRIB_CAP_TRAINABLE | ATTRIB_CAP_LAYERS;
  } else {
    info_.capability_notes["trainable"] = "the module has no parameters";
  }
  info_.capabilities = caps;
}

// ---------------------------------------------------------------------------------------------

namespace {
// Text inputs: ids [B, T] (or embeddings [B, T, d]) with a mask [B, T].
void check_mask(const std::string& model, const char* method, const at::Tensor& lead,
                const at::Tensor& mask) {
  ATTRIB_CHECK(lead.defined() && lead.dim() >= 2, "torchscript model '", model, "': ", method,
               ": expected inputs [B, T", lead.defined() && lead.dim() >= 3 ? ", d" : "",
               "], got shape ", shape_str(lead));
  ATTRIB_CHECK(mask.defined() && mask.dim() == 2 && mask.size(0) == lead.size(0) &&
                   mask.size(1) == lead.size(1),
               "torchscript model '", model, "': ", method, ": expected attention_mask [",
               lead.size(0), ", ", lead.size(1), "], got ", shape_str(mask));
}
}  // namespace

at::Tensor TorchScriptModel::forward(const at::Tensor& inputs, const at::Tensor& attention_mask) {
  ATTRIB_CHECK(inputs.defined() && inputs.dim() >= 1, "torchscript model '", info_.name,
               "': forward: expected inputs [B, ...], got an undefined or 0-d tensor");
  std::vector<c10::IValue> args{on(inputs, device_)};
  if (info_.modality == Modality::kText) {
    check_mask(info_.name, "forward", inputs, attention_mask);
    args.emplace_back(on(attention_mask, device_));
  }
  at::Tensor out = call("forward", std::move(args));
  const int64_t B = inputs.size(0);
  if (out.dim() != 2 || out.size(0) != B)
    throw Error(detail::cat("torchscript model '", info_.name, "': forward returned shape ",
                            shape_str(out), ", expected [B, C] logits with B = ", B));
  if (info_.num_classes == 0) {
    info_.num_classes = out.size(1);
    info_.capability_notes.erase("num_classes");
  } else if (out.size(1) != info_.num_classes) {
    throw Error(detail::cat("torchscript model '", info_.name, "': forward returned ", out.size(1),
                            " logits per example, expected num_classes = ", info_.num_classes));
  }
  return out;
}

at::Tensor TorchScriptModel::embed(const at::Tensor& input_ids) {
  if (!has(ATTRIB_CAP_EMBEDDINGS)) return ModelAdapter::embed(input_ids);
  return call("embed", {on(input_ids, device_)});
}

at::Tensor TorchScriptModel::forward_from_embeddings(const at::Tensor& embeddings,
                                                     const at::Tensor& attention_mask) {
  if (!has(ATTRIB_CAP_EMBEDDINGS))
    return ModelAdapter::forward_from_embeddings(embeddings, attention_mask);
  check_mask(info_.name, "forward_from_embeddings", embeddings, attention_mask);
  return call("forward_from_embeddings", {on(embeddings, device_), on(attention_mask, device_)});
}

namespace {
AttentionOutput to_attention_output(const c10::IValue& out, const std::string& model,
                                    const char* method) {
  if (!out.isTuple() || out.toTupleRef().elements().size() != 2 ||
      !out.toTupleRef().elements()[0].isTensor())
    throw Error(detail::cat("torchscript model '", model, "': ", method, " returned ",
                            out.tagKind(), ", expected (logits, List[Tensor])"));
  AttentionOutput r;
  r.logits = out.toTupleRef().elements()[0].toTensor();
  r.attentions = tensor_list(out.toTupleRef().elements()[1]);
  return r;
}
}  // namespace

AttentionOutput TorchScriptModel::forward_with_attentions(const at::Tensor& input_ids,
                                                          const at::Tensor& attention_mask) {
  if (!has(ATTRIB_CAP_ATTENTIONS))
    return ModelAdapter::forward_with_attentions(input_ids, attention_mask);
  check_mask(info_.name, "forward_with_attentions", input_ids, attention_mask);
  return to_attention_output(invoke(module_, info_.name, "forward_with_attentions",
                                    {on(input_ids, device_), on(attention_mask, device_)}),
                             info_.name, "forward_with_attentions");
}

AttentionOutput TorchScriptModel::forward_from_embeddings_with_attentions(
    const at::Tensor& embeddings, const at::Tensor& attention_mask) {
  if (!has(ATTRIB_CAP_ATTENTIONS))
    return ModelAdapter::forward_from_embeddings_with_attentions(embeddings, attention_mask);
  check_mask(info_.name, "forward_from_embeddings_with_attentions", embeddings, attention_mask);
  return to_attention_output(invoke(module_, info_.name, "forward_from_embeddings_with_attentions",
                                    {on(embeddings, device_), on(attention_mask, device_)}),
                             info_.name, "forward_from_embeddings_with_attentions");
}

LabelAttentionOutput TorchScriptModel::label_attention(const at::Tensor& input_ids,
                                                       const at::Tensor& attention_mask) {
  if (!has(ATTRIB_CAP_LABEL_ATTENTION))
    return ModelAdapter::label_attention(input_ids, attention_mask);
  check_mask(info_.name, "label_attention", input_ids, attention_mask);
  c10::IValue out = invoke(module_, info_.name, "label_attention",
                           {on(input_ids, device_), on(attention_mask, device_)});
  if (!out.isTuple() || out.toTupleRef().elements().size() != 2 ||
      !out.toTupleRef().elements()[0].isTensor() || !out.toTupleRef().elements()[1].isTensor())
    throw Error(detail::cat("torchscript model '", info_.name, "': label_attention returned ",
                            out.tagKind(), ", expected (logits, attention)"));
  return {out.toTupleRef().elements()[0].toTensor(), out.toTupleRef().elements()[1].toTensor()};
}

std::vector<ParamLayer> TorchScriptModel::layers() {
  std::vector<ParamLayer> out;
  const json& meta = info_.metadata;
  if (meta.contains("layers")) {
    if (!meta["layers"].is_array())
      throw Error("metadata layers: expected a list of {\"name\", \"params\"}, got " +
                  meta["layers"].dump().substr(0, 60));
    auto tensors = named_tensors(module_);
    for (const auto& l : meta["layers"]) {
      if (!l.is_object() || !l.contains("name") || !l["name"].is_string() ||
          !l.contains("params") || !l["params"].is_array())
        throw Error("metadata layers: expected {\"name\": str, \"params\": [str]}, got " +
                    l.dump().substr(0, 60));
      ParamLayer layer{l["name"].get<std::string>(), {}};
      for (const auto& p : l["params"]) {
        const std::string pname = p.is_string() ? p.get<std::string>() : p.dump();
        auto it = tensors.find(pname);
        if (it == tensors.end())
          throw Error("metadata layers: layer '" + layer.name + "' names '" + pname +
                      "', which is not a parameter or tensor attribute of the module");
        layer.parameters.emplace_back(pname, it->second);
      }
      out.push_back(std::move(layer));
    }
    return out;
  }
  // Modules with their own parameters, in definition order (pre-order).
  for (const auto& m : module_.named_modules()) {
    ParamLayer layer{m.name.empty() ? "<root>" : m.name, {}};
    for (const auto& p : m.value.named_parameters(/*recurse=*/false))
      layer.parameters.emplace_back(m.name.empty() ? p.name : m.name + "." + p.name, p.value);
    if (!layer.parameters.empty()) out.push_back(std::move(layer));
  }
  return out;
}

std::unique_ptr<ModelAdapter> TorchScriptModel::clone() const {
  if (!has(ATTRIB_CAP_LAYERS)) return ModelAdapter::clone();
  auto copy = std::make_unique<TorchScriptModel>(*this);
  try {
    copy->module_ = module_.clone();
  } catch (const c10::Error& e) {
    throw Error("torchscript model '" + info_.name +
                "': clone failed: " + one_line(e.what_without_backtrace()));
  }
  for (auto p : copy->module_.parameters()) p.requires_grad_(false);
  return copy;
}

void TorchScriptModel::save(const std::string& path) const {
  try {
    module_.save(path);
  } catch (const c10::Error& e) {
    throw Error("torchscript model '" + info_.name + "': cannot save to '" + path +
                "': " + one_line(e.what_without_backtrace()));
  }
}

void TorchScriptModel::to(const at::Device& device) {
  if (device.is_cuda() && !at::hasCUDA())
    throw Error("torchscript model '" + info_.name + "': device '" + device.str() +
                "' requested, but this LibTorch has no CUDA device available");
  try {
    module_.to(device);
  } catch (const c10::Error& e) {
    throw Error("torchscript model '" + info_.name + "': cannot move to '" + device.str() +
                "': " + one_line(e.what_without_backtrace()));
  }
  device_ = device;
}

}  // namespace attrib
