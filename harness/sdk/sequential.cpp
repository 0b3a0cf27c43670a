#include "attrib/sequential.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "attrib/error.h"
#include "attrib/params.h"

namespace attrib {

using nlohmann::json;

namespace {

// |sequential - forward| <= kTol * max(1, max |forward|), as the TorchScript conformance checks.
constexpr double kTol = 1e-4;

using Kind = SequentialOp::Kind;

// One parsed entry of metadata.architecture, before its parameters are looked up.
struct Spec {
  Kind kind = Kind::kRelu;
  std::string op;
  std::vector<std::string> params;
  int64_t kernel = 0, stride = 1, padding = 0;
};

std::string shape_str(at::IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string at_op(size_t i, const std::string& op) {
  return detail::cat("metadata.architecture[", i, "] (", op, ")");
}

// An integer key >= `minimum`; `fallback` when absent (a negative fallback: the key is required).
int64_t int_key(const json& e, const char* key, int64_t fallback, int64_t minimum,
                const std::string& where) {
  if (!e.contains(key)) {
    ATTRIB_CHECK(fallback >= 0, where, ": missing \"", key, "\" (expected an integer >= ", minimum,
                 ")");
    return fallback;
  }
  const json& v = e[key];
  ATTRIB_CHECK(v.is_number_integer() && v.get<int64_t>() >= minimum, where, ": \"", key,
               "\": expected an integer >= ", minimum, ", got ", describe_json(v));
  return v.get<int64_t>();
}

std::vector<Spec> parse_spec(const json& arch) {
  ATTRIB_CHECK(arch.is_array() && !arch.empty(),
               "metadata.architecture: expected a non-empty list of ops, got ",
               describe_json(arch));
  static const std::map<std::string, std::pair<Kind, std::set<std::string>>> kOps = {
      {"linear", {Kind::kLinear, {"op", "params"}}},
      {"conv2d", {Kind::kConv2d, {"op", "params", "stride", "padding"}}},
      {"relu", {Kind::kRelu, {"op"}}},
      {"maxpool2d", {Kind::kMaxPool2d, {"op", "kernel", "stride", "padding"}}},
      {"flatten", {Kind::kFlatten, {"op"}}},
  };
  std::vector<Spec> out;
  for (size_t i = 0; i < arch.size(); ++i) {
    const json& e = arch[i];
    ATTRIB_CHECK(e.is_object() && e.contains("op") && e["op"].is_string(), "metadata.architecture[",
                 i,
                 "]: expected {\"op\": \"linear\" | \"conv2d\" | \"relu\" | \"maxpool2d\" | "
                 "\"flatten\", ...}, got ",
                 describe_json(e));
    Spec s;
    s.op = e["op"].get<std::string>();
    const auto it = kOps.find(s.op);
    ATTRIB_CHECK(it != kOps.end(), "metadata.architecture[", i, "]: unknown op \"", s.op,
                 "\" (known: conv2d, flatten, linear, maxpool2d, relu)");
    s.kind = it->second.first;
    const std::string where = at_op(i, s.op);
    for (const auto& [key, value] : e.items()) {
      if (it->second.second.count(key)) continue;
      std::string known;
      for (const auto& k : it->second.second) known += (known.empty() ? "" : ", ") + k;
      throw Error(where + ": unknown key \"" + key + "\" (known: " + known + ")");
    }
    if (s.kind == Kind::kLinear || s.kind == Kind::kConv2d) {
      ATTRIB_CHECK(e.contains("params") && e["params"].is_array() &&
                       (e["params"].size() == 1 || e["params"].size() == 2),
                   where, ": \"params\": expected [weight] or [weight, bias] parameter names, got ",
                   e.contains("params") ? describe_json(e["params"]) : std::string("nothing"));
      for (const auto& p : e["params"]) {
        ATTRIB_CHECK(p.is_string(), where, ": \"params\": expected parameter names, got ",
                     describe_json(p));
        s.params.push_back(p.get<std::string>());
      }
    }
    if (s.kind == Kind::kConv2d) {
      s.stride = int_key(e, "stride", 1, 1, where);
      s.padding = int_key(e, "padding", 0, 0, where);
    }
    if (s.kind == Kind::kMaxPool2d) {
      s.kernel = int_key(e, "kernel", -1, 1, where);
      s.stride = int_key(e, "stride", s.kernel, 1, where);
      s.padding = int_key(e, "padding", 0, 0, where);
      ATTRIB_CHECK(2 * s.padding <= s.kernel, where,
                   ": \"padding\": expected at most kernel / 2 = ", s.kernel / 2, ", got ",
                   s.padding);
    }
    out.push_back(std::move(s));
  }
  return out;
}

at::Tensor like(const at::Tensor& t, const at::Tensor& x) {
  if (!t.defined()) return t;
  return t.to(x.device(), x.scalar_type());
}

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------

const char* SequentialOp::name() const {
  switch (kind) {
    case Kind::kLinear:
      return "linear";
    case Kind::kConv2d:
      return "conv2d";
    case Kind::kRelu:
      return "relu";
    case Kind::kMaxPool2d:
      return "maxpool2d";
    case Kind::kFlatten:
      return "flatten";
  }
  return "?";
}

at::Tensor SequentialOp::forward(const at::Tensor& x) const {
  switch (kind) {
    case Kind::kLinear:
    case Kind::kConv2d:
      return affine_forward(x, weight, bias);
    case Kind::kRelu:
      return at::relu(x);
    case Kind::kMaxPool2d:
      return at::max_pool2d(x, {kernel, kernel}, {stride, stride}, {padding, padding});
    case Kind::kFlatten:
      return x.flatten(1);
  }
  return x;
}

at::Tensor SequentialOp::backward(const at::Tensor& x, const at::Tensor& grad_out) const {
  switch (kind) {
    case Kind::kLinear:
    case Kind::kConv2d:
      return affine_backward(x, grad_out, weight);
    case Kind::kRelu:
      return grad_out * x.gt(0).to(grad_out.scalar_type());
    case Kind::kMaxPool2d: {
      const auto pooled =
          at::max_pool2d_with_indices(x, {kernel, kernel}, {stride, stride}, {padding, padding});
      return at::max_pool2d_with_indices_backward(
          grad_out.to(x.scalar_type()).contiguous(), x, {kernel, kernel}, {stride, stride},
          {padding, padding}, {1, 1}, false, std::get<1>(pooled));
    }
    case Kind::kFlatten:
      return grad_out.reshape(x.sizes());
  }
  return grad_out;
}

at::Tensor SequentialOp::affine_forward(const at::Tensor& x, const at::Tensor& w,
                                        const at::Tensor& b) const {
  ATTRIB_CHECK(affine(), "SequentialOp::affine_forward: expected a linear or conv2d op, got ",
               name());
  if (kind == Kind::kLinear) return at::linear(x, like(w, x), like(b, x));
  return at::conv2d(x, like(w, x), like(b, x), {stride, stride}, {padding, padding});
}

at::Tensor SequentialOp::affine_backward(const at::Tensor& x, const at::Tensor& grad_out,
                                         const at::Tensor& w) const {
  ATTRIB_CHECK(affine(), "SequentialOp::affine_backward: expected a linear or conv2d op, got ",
               name());
  const at::Tensor wc = like(w, grad_out);
  if (kind == Kind::kLinear) return grad_out.matmul(wc);
  // The transposed convolution maps back to the input size; output_padding recovers the rows and
  // columns a strided convolution skipped.
  std::vector<int64_t> output_padding(2);
  for (int d = 0; d < 2; ++d)
    output_padding[d] =
        x.size(2 + d) - ((grad_out.size(2 + d) - 1) * stride - 2 * padding + wc.size(2 + d));
  return at::conv_transpose2d(grad_out, wc, {}, {stride, stride}, {padding, padding},
                              output_padding);
}

// ---------------------------------------------------------------------------------------------

bool SequentialNetwork::available(const ModelInfo& info) {
  return info.metadata.is_object() && info.metadata.contains("architecture");
}

void SequentialNetwork::require(const ModelAdapter& model) {
  if (!available(model.info()))
    throw Error("model '" + model.info().name +
                "' exposes no sequential architecture (metadata.architecture); "
                "deeplift/lrp/guided_backprop need it");
}

SequentialNetwork::SequentialNetwork(ModelAdapter& model, const at::Tensor& probe) {
  require(model);
  const ModelInfo& info = model.info();
  ATTRIB_CHECK(info.modality == Modality::kDense, "model '", info.name,
               "': metadata.architecture describes dense models, got a text model");
  const std::vector<Spec> specs = parse_spec(info.metadata["architecture"]);

  std::map<std::string, at::Tensor> tensors;
  for (const auto& layer : model.layers())
    for (const auto& [name, t] : layer.parameters) tensors.emplace(name, t);
  auto lookup = [&](const std::string& name, const std::string& where) {
    const auto it = tensors.find(name);
    if (it != tensors.end()) return it->second;
    std::string known;
    for (const auto& [n, t] : tensors) known += (known.empty() ? "" : ", ") + n;
    throw Error(where + ": parameter '" + name +
                "' is not a tensor of the model's layers() (has: " +
                (known.empty() ? std::string("none") : known) + ")");
  };

  device_ = model.device();
  for (size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    const std::string where = at_op(i, s.op);
    SequentialOp op;
    op.kind = s.kind;
    op.param_names = s.params;
    op.kernel = s.kernel;
    op.stride = s.stride;
    op.padding = s.padding;
    if (op.affine()) {
      op.weight = lookup(s.params[0], where);
      const int64_t dims = op.kind == Kind::kLinear ? 2 : 4;
      ATTRIB_CHECK(op.weight.dim() == dims, where, ": weight '", s.params[0], "': expected ", dims,
                   " dimensions ", op.kind == Kind::kLinear ? "[out, in]" : "[out, in, kh, kw]",
                   ", got ", shape_str(op.weight.sizes()));
      if (s.params.size() == 2) {
        op.bias = lookup(s.params[1], where);
        ATTRIB_CHECK(op.bias.dim() == 1 && op.bias.size(0) == op.weight.size(0), where, ": bias '",
                     s.params[1], "': expected shape [", op.weight.size(0), "], got ",
                     shape_str(op.bias.sizes()));
      }
      device_ = op.weight.device();
    }
    ops_.push_back(std::move(op));
  }

  // Verification: the description must reproduce the model's own logits.
  at::Tensor x = probe;
  if (!x.defined()) {
    ATTRIB_CHECK(!info.input_shape.empty(), "model '", info.name,
                 "': cannot verify metadata.architecture: no probe given and no input_shape");
    std::vector<int64_t> shape{2};
    shape.insert(shape.end(), info.input_shape.begin(), info.input_shape.end());
    x = at::randn(shape, seeded(0));
  }
  at::NoGradGuard no_grad;
  x = x.to(at::kFloat);
  const at::Tensor reference = model.forward(x, at::Tensor()).to(at::kCPU, at::kDouble);
  probe_rows_ = x.size(0);
  const at::Tensor mine = forward(x).to(at::kCPU, at::kDouble);
  ATTRIB_CHECK(mine.sizes() == reference.sizes(), "model '", info.name,
               "': metadata.architecture gives logits of shape ", shape_str(mine.sizes()),
               ", expected forward's ", shape_str(reference.sizes()));
  verified_max_diff_ = reference.numel() ? (mine - reference).abs().max().item<double>() : 0.0;
  const double scale =
      std::max(1.0, reference.numel() ? reference.abs().max().item<double>() : 0.0);
  ATTRIB_CHECK(verified_max_diff_ <= kTol * scale, "model '", info.name,
               "': metadata.architecture does not reproduce forward: max |logit diff| ",
               verified_max_diff_, " > tolerance ", kTol * scale, " on ", probe_rows_,
               " probe rows");
}

SequentialNetwork SequentialNetwork::cast(at::ScalarType dtype) const {
  SequentialNetwork out = *this;
  for (auto& op : out.ops_) {
    if (op.weight.defined()) op.weight = op.weight.to(dtype).detach();
    if (op.bias.defined()) op.bias = op.bias.to(dtype).detach();
  }
  return out;
}

std::vector<at::Tensor> SequentialNetwork::activations(const at::Tensor& x) const {
  std::vector<at::Tensor> a;
  a.reserve(ops_.size() + 1);
  a.push_back(at::isFloatingType(x.scalar_type()) ? x.to(device_) : x.to(device_, at::kFloat));
  for (size_t i = 0; i < ops_.size(); ++i) {
    try {
      a.push_back(ops_[i].forward(a.back()));
    } catch (const c10::Error& e) {
      throw Error(detail::cat(at_op(i, ops_[i].name()), ": forward failed on input of shape ",
                              shape_str(a.back().sizes()), ": ", e.what_without_backtrace()));
    }
  }
  return a;
}

at::Tensor SequentialNetwork::forward(const at::Tensor& x) const { return activations(x).back(); }

std::string SequentialNetwork::summary() const {
  std::ostringstream os;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const SequentialOp& op = ops_[i];
    os << (i ? " " : "") << op.name();
    if (op.kind == Kind::kLinear) {
      os << "(" << op.weight.size(1) << "->" << op.weight.size(0) << ")";
    } else if (op.kind == Kind::kConv2d) {
      os << "(" << op.weight.size(1) << "->" << op.weight.size(0) << ", k" << op.weight.size(2);
      if (op.weight.size(3) != op.weight.size(2)) os << "x" << op.weight.size(3);
      os << ", s" << op.stride << ", p" << op.padding << ")";
    } else if (op.kind == Kind::kMaxPool2d) {
      os << "(k" << op.kernel << ", s" << op.stride;
      if (op.padding) os << ", p" << op.padding;
      os << ")";
    }
  }
  return os.str();
}

// ---------------------------------------------------------------------------------------------

torch::jit::Module sequential_module(
    const std::string& type_name, const json& architecture,
    const std::vector<std::pair<std::string, at::Tensor>>& parameters, json metadata) {
  const std::vector<Spec> specs = parse_spec(architecture);
  ATTRIB_CHECK(metadata.is_object(), "sequential_module: metadata: expected a JSON object, got ",
               describe_json(metadata));
  std::set<std::string> names;
  for (const auto& [name, t] : parameters) {
    ATTRIB_CHECK(is_identifier(name), "sequential_module: parameter name '", name,
                 "': expected an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    ATTRIB_CHECK(t.defined(), "sequential_module: parameter '", name, "' is undefined");
    ATTRIB_CHECK(names.insert(name).second, "sequential_module: parameter '", name,
                 "' given twice");
  }
  std::ostringstream src;
  src << "def forward(self, x: Tensor) -> Tensor:\n    h = x\n";
  json layers = json::array();
  for (size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    for (const auto& p : s.params)
      ATTRIB_CHECK(names.count(p), at_op(i, s.op), ": parameter '", p,
                   "' is not among the given parameters");
    const std::string bias = s.params.size() == 2 ? "self." + s.params[1] : "None";
    switch (s.kind) {
      case Kind::kLinear:
        src << "    h = torch.linear(h, self." << s.params[0] << ", " << bias << ")\n";
        break;
      case Kind::kConv2d:
        src << "    h = torch.conv2d(h, self." << s.params[0] << ", " << bias << ", [" << s.stride
            << ", " << s.stride << "], [" << s.padding << ", " << s.padding << "])\n";
        break;
      case Kind::kRelu:
        src << "    h = torch.relu(h)\n";
        break;
      case Kind::kMaxPool2d:
        src << "    h = torch.max_pool2d(h, [" << s.kernel << ", " << s.kernel << "], [" << s.stride
            << ", " << s.stride << "], [" << s.padding << ", " << s.padding << "])\n";
        break;
      case Kind::kFlatten:
        src << "    h = torch.flatten(h, 1)\n";
        break;
    }
    if (!s.params.empty())
      layers.push_back({{"name", s.op + std::to_string(i)}, {"params", s.params}});
  }
  src << "    return h\n\ndef metadata(self) -> str:\n    return self.metadata_json\n";
  metadata["architecture"] = architecture;
  if (!metadata.contains("layers")) metadata["layers"] = layers;

  try {
    torch::jit::Module m(type_name);
    m.register_attribute("training", c10::BoolType::get(), false);
    for (const auto& [name, t] : parameters)
      m.register_parameter(name, t.detach().clone(), /*is_buffer=*/false);
    m.register_attribute("metadata_json", c10::StringType::get(), metadata.dump());
    m.define(src.str());
    return m;
  } catch (const c10::Error& e) {
    throw Error("sequential_module '" + type_name +
                "': cannot build the TorchScript module: " + e.what_without_backtrace());
  }
}

}  // namespace attrib
