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
using torchscript_detail::on;
using torchscript_detail::seeded_generator;

namespace {

// Tolerances of the conformance checks: |a - b| <= kTol * max(1, max |reference|).
constexpr double kTol = 1e-4;
constexpr double kDeterminismTol = 1e-6;
constexpr double kRowSumTol = 1e-4;

std::string shape_str(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << "[";
  for (int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  os << "]";
  return os.str();
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string num_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

// One line out of a (possibly multi-line TorchScript traceback) error message: the last line
// naming an error ("RuntimeError: ..."), else the first non-empty line.
std::string one_line(const std::string& message) {
  std::vector<std::string> lines;
  std::istringstream is(message);
  for (std::string line; std::getline(is, line);) {
    const auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    lines.push_back(line.substr(b));
  }
  if (lines.empty()) return message;
  std::string pick = lines.front();
  for (const auto& l : lines)
    if (l.find("Error: ") != std::string::npos || l.rfind("Exception: ", 0) == 0) pick = l;
  if (pick.size() > 400) pick = pick.substr(0, 397) + "...";
  return pick;
}

// Max |a - b| when shapes agree, +inf otherwise.
double max_diff(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) return INFINITY;
  if (a.numel() == 0) return 0.0;
  auto d = (a.detach().to(at::kCPU, at::kDouble) - b.detach().to(at::kCPU, at::kDouble)).abs();
  const double m = d.max().item<double>();
  return std::isnan(m) ? INFINITY : m;
}

double scale_of(const at::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return 1.0;
  const double m = t.detach().abs().max().to(at::kCPU, at::kDouble).item<double>();
  return std::isfinite(m) ? std::max(1.0, m) : 1.0;
}

// Empty when a and b agree within tol (relative to max(1, max|reference|)), else why not.
std::string compare(const at::Tensor& found, const at::Tensor& reference, double tol) {
  if (found.sizes() != reference.sizes())
    return "shape " + shape_str(found) + ", expected " + shape_str(reference);
  const double d = max_diff(found, reference);
  const double t = tol * scale_of(reference);
  if (d <= t) return "";
  return "max |diff| " + num_str(d) + " > tolerance " + num_str(t);
}

std::vector<at::Tensor> tensor_list(const c10::IValue& v) {
  std::vector<at::Tensor> out;
  if (v.isTensorList()) {
    out = v.toTensorVector();
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) {
      if (!e.isTensor()) return {};
      out.push_back(e.toTensor());
    }
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) {
      if (!e.isTensor()) return {};
      out.push_back(e.toTensor());
    }
  }
  return out;
}

// Reads an integer field that may be absent or null.
int64_t int_field(const json& meta, const char* key, int64_t fallback) {
  if (!meta.contains(key) || meta[key].is_null()) return fallback;
  if (!meta[key].is_number_integer())
    throw Error(
        detail::cat("metadata field '", key, "': expected an integer, got ", meta[key].dump()));
  return meta[key].get<int64_t>();
}

// Model's parameters and tensor attributes, dotted names ("encoder.0.weight").
std::map<std::string, at::Tensor> named_tensors(const torch::jit::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& a : m.named_attributes(/*recurse=*/true))
    if (a.value.isTensor()) out.emplace(a.name, a.value.toTensor());
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out[p.name] = p.value;
  return out;
}

const char* const kTextMethods[] = {"embed", "forward_from_embeddings", "forward_with_attentions",
                                    "forward_from_embeddings_with_attentions", "label_attention"};

}  // namespace

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

// Calls `method` and wraps TorchScript errors into attrib::Error naming model and method.
namespace {
//
// Every call runs with the graph executor's optimisations off (a thread-local setting): the
// optimised plan groups operations into DifferentiableGraph nodes whose intermediate outputs (the
// attention probabilities a method returns) are no longer on the autograd path to the logits, so
// gradients w.r.t. them would silently vanish after the first calls.
c10::IValue invoke(torch::jit::Module& m, const std::string& model, const char* method,
                   std::vector<c10::IValue> args) {
  torch::jit::GraphOptimizerEnabledGuard no_jit_optimisation(false);
  auto fn = m.find_method(method);
  if (!fn)
    throw Error(detail::cat("torchscript model '", model, "' does not export ", method,
                            "() (capability missing)"));
  try {
    return (*fn)(std::move(args));
  } catch (const c10::Error& e) {
    throw Error(detail::cat("torchscript model '", model, "': ", method,
                            " failed: ", one_line(e.what_without_backtrace())));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(
        detail::cat("torchscript model '", model, "': ", method, " failed: ", one_line(e.what())));
  }
}
}  // namespace

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

void TorchScriptModel::conformance_checks() {
  const std::string& name = info_.name;
  auto withdraw = [&](uint64_t cap, const std::string& key, const std::string& why) {
    info_.capabilities &= ~cap;
    if (!info_.capability_notes.contains(key)) info_.capability_notes[key] = why;
  };
  // A finding that withdraws nothing (e.g. forward is not batch-independent); appended.
  auto note = [&](const std::string& key, const std::string& why) {
    if (!info_.capability_notes.contains(key))
      info_.capability_notes[key] = why;
    else
      info_.capability_notes[key] = info_.capability_notes[key].get<std::string>() + "; " + why;
  };
  auto logits_of = [&](const char* method, std::vector<c10::IValue> args, int64_t batch) {
    at::Tensor out = call(method, std::move(args));
    if (out.dim() != 2 || out.size(0) != batch || !at::isFloatingType(out.scalar_type()))
      throw Error(detail::cat("torchscript model '", name, "': ", method, " returned shape ",
                              shape_str(out), " ", out.scalar_type(),
                              ", expected [B, C] float logits with B = ", batch));
    if (info_.num_classes > 0 && out.size(1) != info_.num_classes)
      throw Error(detail::cat("torchscript model '", name, "': ", method, " returned ", out.size(1),
                              " logits per example, expected num_classes = ", info_.num_classes,
                              " (metadata)"));
    return out;
  };

  // Layers (metadata "layers" or leaf submodules with parameters).
  if (info_.capabilities & ATTRIB_CAP_LAYERS) {
    try {
      if (layers().empty()) withdraw(ATTRIB_CAP_LAYERS, "layers", "no parameterised layers");
    } catch (const Error& e) {
      withdraw(ATTRIB_CAP_LAYERS, "layers", e.what());
    }
  }

  if (info_.modality == Modality::kDense) {
    if (info_.input_shape.empty()) {
      // Nothing to probe with: num_classes is set at the first forward.
      if (info_.num_classes == 0)
        note("num_classes", "unknown until the first forward (metadata has no input_shape)");
      return;
    }
    at::NoGradGuard no_grad;
    std::vector<int64_t> shape{3};
    shape.insert(shape.end(), info_.input_shape.begin(), info_.input_shape.end());
    at::Tensor x = at::randn(shape, seeded_generator(0)).to(device_);
    at::Tensor batch = logits_of("forward", {x}, 3);
    info_.num_classes = batch.size(1);
    at::Tensor again = logits_of("forward", {x}, 3);
    if (max_diff(batch, again) > kDeterminismTol * scale_of(batch))
      note("forward", "determinism: two identical forward calls differ (max |diff| " +
                          num_str(max_diff(batch, again)) + ")");
    for (int64_t i = 0; i < 3; ++i) {
      at::Tensor alone = logits_of("forward", {x.narrow(0, i, 1)}, 1);
      const std::string why = compare(alone, batch.narrow(0, i, 1), kTol);
      if (!why.empty()) {
        note("forward", "batch independence: example " + std::to_string(i) +
                            " alone vs in a batch of 3: " + why);
        break;
      }
    }
    // Gradient w.r.t. the input.
    try {
      at::AutoGradMode grad_on(true);
      at::Tensor xg = x.clone().requires_grad_(true);
      at::Tensor out = call("forward", {xg});
      auto g = torch::autograd::grad({out.sum()}, {xg}, {}, false, false, true);
      if (g.empty() || !g[0].defined() || !g[0].abs().sum().item<double>())
        withdraw(ATTRIB_CAP_INPUT_GRADIENT, "input_gradient",
                 "gradient of the logits w.r.t. the input is undefined or identically zero");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_INPUT_GRADIENT, "input_gradient",
               std::string("gradient w.r.t. the input failed: ") + one_line(e.what()));
    }
    return;
  }

  // ---- text ----
  int64_t vocab_size = static_cast<int64_t>(info_.vocab.size());
  vocab_size = int_field(info_.metadata, "vocab_size", vocab_size);
  if (vocab_size <= 0) vocab_size = 4;  // unknown: small ids are valid in any vocabulary
  int64_t max_len = int_field(info_.metadata, "max_len", 0);
  const int64_t T = max_len > 0 ? std::min<int64_t>(6, std::max<int64_t>(max_len - 2, 2)) : 6;
  const int64_t B = 3;
  const int64_t pad = info_.pad_id >= 0 && info_.pad_id < vocab_size ? info_.pad_id : 0;
  at::Tensor ids = at::randint(0, vocab_size, {B, T}, seeded_generator(0), at::kLong);
  at::Tensor mask = at::ones({B, T}, at::kLong);
  const int64_t lengths[3] = {T, std::max<int64_t>(1, T - 2), std::max<int64_t>(1, T / 3)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = lengths[b]; t < T; ++t) {
      mask[b][t] = 0;
      ids[b][t] = pad;
    }
  ids = ids.to(device_);
  mask = mask.to(device_);

  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    if (info_.num_classes == 0) {
      at::Tensor probe = logits_of("forward",
                                   {at::zeros({1, std::min<int64_t>(4, T)}, at::kLong).to(device_),
                                    at::ones({1, std::min<int64_t>(4, T)}, at::kLong).to(device_)},
                                   1);
      info_.num_classes = probe.size(1);
    }
    logits = logits_of("forward", {ids, mask}, B);
    at::Tensor again = logits_of("forward", {ids, mask}, B);
    if (max_diff(logits, again) > kDeterminismTol * scale_of(logits))
      note("forward", "determinism: two identical forward calls differ (max |diff| " +
                          num_str(max_diff(logits, again)) + ")");
    // Batch independence and padding invariance: each example alone, trimmed to its length.
    for (int64_t b = 0; b < B; ++b) {
      at::Tensor alone = logits_of("forward",
                                   {ids.narrow(0, b, 1).narrow(1, 0, lengths[b]),
                                    mask.narrow(0, b, 1).narrow(1, 0, lengths[b])},
                                   1);
      const std::string why = compare(alone, logits.narrow(0, b, 1), kTol);
      if (!why.empty()) {
        note("forward",
             detail::cat("batch independence / padding invariance: example ", b, " alone (length ",
                         lengths[b], ") vs padded in a batch of ", B, ": ", why));
        break;
      }
    }
    if (max_len <= 0 || T + 2 <= max_len) {
      at::Tensor ids2 = at::cat({ids, at::full({B, 2}, pad, ids.options())}, 1);
      at::Tensor mask2 = at::cat({mask, at::zeros({B, 2}, mask.options())}, 1);
      const std::string why = compare(logits_of("forward", {ids2, mask2}, B), logits, kTol);
      if (!why.empty()) note("forward", "padding invariance: 2 extra padded positions: " + why);
    }
  }

  // 1 + 6: embeddings.
  if (info_.capabilities & ATTRIB_CAP_EMBEDDINGS) {
    try {
      at::Tensor e;
      {
        at::NoGradGuard no_grad;
        e = call("embed", {ids});
      }
      if (e.dim() != 3 || e.size(0) != B || e.size(1) != T || !at::isFloatingType(e.scalar_type()))
        throw Error(detail::cat("embed returned shape ", shape_str(e), " ", e.scalar_type(),
                                ", expected [B, T, d] float with B = ", B, ", T = ", T));
      at::Tensor eg = e.detach().clone().requires_grad_(true);
      at::Tensor out;
      {
        at::AutoGradMode grad_on(true);
        out = call("forward_from_embeddings", {eg, mask});
      }
      const std::string why = compare(out, logits, kTol);
      if (!why.empty())
        throw Error("forward_from_embeddings(embed(ids)) differs from forward(ids): " + why);
      auto g = torch::autograd::grad({out.sum()}, {eg}, {}, false, false, true);
      if (g.empty() || !g[0].defined() || g[0].abs().sum().item<double>() == 0.0)
        throw Error(
            "gradient of forward_from_embeddings w.r.t. the embeddings is undefined or "
            "identically zero");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_INPUT_GRADIENT, "embeddings", one_line(e.what()));
      if (!info_.capability_notes.contains("input_gradient"))
        info_.capability_notes["input_gradient"] = "text models need the embeddings capability";
    }
  } else {
    note("input_gradient", "text models need embed() and forward_from_embeddings()");
  }

  // Rows of attention probabilities sum to 1 over unmasked keys (for unmasked queries).
  auto check_rows = [&](const at::Tensor& a, int64_t rows, const char* what) {
    // a: [B, H, R, T]; queries R are tokens (rows == T) or labels.
    at::Tensor keys = mask.to(a.scalar_type()).view({B, 1, 1, T});
    at::Tensor sums = (a.detach() * keys).sum(-1);  // [B, H, R]
    at::Tensor total = a.detach().sum(-1);
    at::Tensor valid = rows == T ? mask.view({B, 1, T}).to(at::kBool).expand_as(sums)
                                 : at::ones_like(sums, at::kBool);
    const double dev = (sums - 1).abs().masked_select(valid).max().item<double>();
    const double leak = (total - sums).abs().masked_select(valid).max().item<double>();
    if (!(dev <= kRowSumTol) || !(leak <= kRowSumTol))
      throw Error(detail::cat(what, ": rows do not sum to 1 over unmasked keys (max |sum - 1| ",
                              num_str(dev), ", mass on padded keys ", num_str(leak), ")"));
  };
  auto check_attentions = [&](const c10::IValue& out, const char* method,
                              std::vector<at::Tensor>* atts) -> at::Tensor {
    if (!out.isTuple() || out.toTupleRef().elements().size() != 2)
      throw Error(detail::cat(method, " returned ", out.tagKind(),
                              ", expected (logits [B, C], List[Tensor[B, H, T, T]])"));
    const auto& el = out.toTupleRef().elements();
    if (!el[0].isTensor()) throw Error(detail::cat(method, ": first output is not a Tensor"));
    *atts = tensor_list(el[1]);
    if (atts->empty())
      throw Error(detail::cat(method, ": expected a non-empty list of attention tensors, got ",
                              el[1].tagKind()));
    at::Tensor l = el[0].toTensor();
    const std::string why = compare(l, logits, kTol);
    if (!why.empty()) throw Error(detail::cat(method, " logits differ from forward's: ", why));
    for (size_t i = 0; i < atts->size(); ++i) {
      const at::Tensor& a = (*atts)[i];
      if (a.dim() != 4 || a.size(0) != B || a.size(2) != T || a.size(3) != T)
        throw Error(detail::cat(method, ": attention ", i, " has shape ", shape_str(a),
                                ", expected [B, H, T, T] with B = ", B, ", T = ", T));
      check_rows(a, T, (std::string(method) + " attention " + std::to_string(i)).c_str());
    }
    return l;
  };
  auto check_attention_grads = [&](const at::Tensor& l, const std::vector<at::Tensor>& atts,
                                   const char* method) {
    for (const auto& a : atts)
      if (!a.requires_grad())
        throw Error(detail::cat(method, ": attention probabilities are not on the autograd path"));
    auto g = torch::autograd::grad({l.select(1, 0).sum()}, {atts.begin(), atts.end()}, {}, false,
                                   false, true);
    for (size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined() || g[i].abs().sum().item<double>() == 0.0)
        throw Error(detail::cat(method, ": gradient of the logit w.r.t. attention ", i,
                                " is undefined or identically zero"));
  };

  // 2 + 3: attentions.
  if (info_.capabilities & ATTRIB_CAP_ATTENTIONS) {
    try {
      at::AutoGradMode grad_on(true);
      std::vector<at::Tensor> atts;
      at::Tensor l;
      if (info_.capabilities & ATTRIB_CAP_EMBEDDINGS) {
        // Parameters are frozen: put the graph on a leaf so attention gradients exist.
        at::Tensor e = call("embed", {ids}).detach().requires_grad_(true);
        if (module_.find_method("forward_from_embeddings_with_attentions")) {
          std::vector<at::Tensor> atts_e;
          at::Tensor le = check_attentions(
              invoke(module_, name, "forward_from_embeddings_with_attentions", {e, mask}),
              "forward_from_embeddings_with_attentions", &atts_e);
          check_attention_grads(le, atts_e, "forward_from_embeddings_with_attentions");
        }
      }
      l = check_attentions(invoke(module_, name, "forward_with_attentions", {ids, mask}),
                           "forward_with_attentions", &atts);
      // From ids the graph has no leaf requiring grad when parameters are frozen; the gradient
      // check then runs with parameters temporarily requiring grad.
      if (!atts.front().requires_grad()) {
        std::vector<at::Tensor> params;
        for (auto p : module_.parameters()) params.push_back(p);
        for (auto& p : params) p.requires_grad_(true);
        try {
          l = check_attentions(invoke(module_, name, "forward_with_attentions", {ids, mask}),
                               "forward_with_attentions", &atts);
          check_attention_grads(l, atts, "forward_with_attentions");
        } catch (...) {
          for (auto& p : params) p.requires_grad_(false);
          throw;
        }
        for (auto& p : params) p.requires_grad_(false);
      } else {
        check_attention_grads(l, atts, "forward_with_attentions");
      }
      info_.metadata["n_attention_layers"] = atts.size();
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_ATTENTIONS, "attentions", one_line(e.what()));
    }
  }

  // Label attention: (logits, A[B, H, C, T]).
  if (info_.capabilities & ATTRIB_CAP_LABEL_ATTENTION) {
    try {
      at::NoGradGuard no_grad;
      c10::IValue out = invoke(module_, name, "label_attention", {ids, mask});
      if (!out.isTuple() || out.toTupleRef().elements().size() != 2 ||
          !out.toTupleRef().elements()[0].isTensor() || !out.toTupleRef().elements()[1].isTensor())
        throw Error(detail::cat("label_attention returned ", out.tagKind(),
                                ", expected (logits [B, C], A [B, H, C, T])"));
      at::Tensor l = out.toTupleRef().elements()[0].toTensor();
      at::Tensor a = out.toTupleRef().elements()[1].toTensor();
      const std::string why = compare(l, logits, kTol);
      if (!why.empty()) throw Error("label_attention logits differ from forward's: " + why);
      if (a.dim() != 4 || a.size(0) != B || a.size(2) != info_.num_classes || a.size(3) != T)
        throw Error(detail::cat("label_attention returned attention of shape ", shape_str(a),
                                ", expected [B, H, C, T] = [", B, ", H, ", info_.num_classes, ", ",
                                T, "]"));
      check_rows(a, info_.num_classes, "label_attention");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_LABEL_ATTENTION, "label_attention", one_line(e.what()));
    }
  }

  // Declared capabilities that were not found.
  if (info_.metadata.contains("capabilities") && info_.metadata["capabilities"].is_array()) {
    for (const auto& c : info_.metadata["capabilities"]) {
      if (!c.is_string()) continue;
      uint64_t bit = 0;
      try {
        bit = capability_from_name(c.get<std::string>());
      } catch (const Error&) {
        continue;
      }
      if (!(info_.capabilities & bit) && !info_.capability_notes.contains(c.get<std::string>()))
        info_.capability_notes[c.get<std::string>()] =
            "declared in metadata but not offered (method missing)";
    }
  }
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
