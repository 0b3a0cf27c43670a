#pragma once
// Sequential ReLU networks described as data, for the rule-based methods (DeepLIFT, LRP, guided
// backpropagation) that need every layer's input and output. TorchScript modules cannot take
// hooks from C++ (METHODS.md §7), so a dense model declares its structure in its metadata:
//
//   "architecture": [{"op": "conv2d", "params": ["c0_w", "c0_b"], "stride": 1, "padding": 1},
//                    {"op": "relu"},
//                    {"op": "maxpool2d", "kernel": 2, "stride": 2},
//                    {"op": "flatten"},
//                    {"op": "linear", "params": ["fc0_w", "fc0_b"]}]
//
// Ops (keys other than those listed are errors):
//   linear     params [weight [out, in]] or [weight, bias [out]]
//   conv2d     params as linear with weight [out, in, kh, kw]; "stride" (1), "padding" (0);
//              no groups or dilation
//   relu       -
//   maxpool2d  "kernel" (required, square window), "stride" (= kernel), "padding" (0, at most
//              kernel / 2; padded cells never win)
//   flatten    flattens every dimension but the batch dimension
// Parameter names refer to the tensors of ModelAdapter::layers(). SequentialNetwork reads the
// description, runs it op by op and checks that it reproduces ModelAdapter::forward.
#include <ATen/ATen.h>
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/export.h"
#include "attrib/model.h"

namespace attrib {

/// One operation of a sequential network. Backward functions take the op's input `x` (the
/// activation it saw in the forward) and a tensor shaped like its output.
struct ATTRIB_SDK_API SequentialOp {
  enum class Kind { kLinear, kConv2d, kRelu, kMaxPool2d, kFlatten };

  Kind kind = Kind::kRelu;
  at::Tensor weight;  ///< linear [out, in], conv2d [out, in, kh, kw]; undefined otherwise
  at::Tensor bias;    ///< [out]; undefined when the op has none (or is not affine)
  std::vector<std::string> param_names;  ///< names in the model's layers(): weight, then bias
  int64_t kernel = 0;                    ///< maxpool2d window side
  int64_t stride = 1;                    ///< conv2d and maxpool2d stride
  int64_t padding = 0;                   ///< conv2d zero padding; maxpool2d padding

  /// The op's name as written in the description, e.g. "conv2d".
  const char* name() const;
  /// True for linear and conv2d, the ops that LRP rules and DeepLIFT's chain rule treat as affine.
  bool affine() const { return kind == Kind::kLinear || kind == Kind::kConv2d; }

  /// op(x). Parameters are cast to x's dtype and device.
  at::Tensor forward(const at::Tensor& x) const;
  /// The plain gradient w.r.t. the input of <op(x), grad_out>: W^T g for affine ops, g * 1[x > 0]
  /// for relu, routing to each window's argmax in x for maxpool2d, a reshape for flatten.
  at::Tensor backward(const at::Tensor& x, const at::Tensor& grad_out) const;
  /// Affine ops only: x W^T + b with the given `weight` and `bias` (undefined: none) in place of
  /// the op's own, e.g. the modified weights of an LRP rule.
  at::Tensor affine_forward(const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) const;
  /// Affine ops only: grad_out W^T with the given `weight` (x gives the input's shape).
  at::Tensor affine_backward(const at::Tensor& x, const at::Tensor& grad_out,
                             const at::Tensor& weight) const;
};

/// A model's metadata.architecture, parsed against its parameters and checked against its forward.
class ATTRIB_SDK_API SequentialNetwork {
 public:
  /// True when `info.metadata` has an "architecture" entry (it may still be malformed).
  static bool available(const ModelInfo& info);

  /// Throws attrib::Error "model '<name>' exposes no sequential architecture
  /// (metadata.architecture); deeplift/lrp/guided_backprop need it" unless available().
  static void require(const ModelAdapter& model);

  /// Parses `model`'s metadata.architecture against the tensors of model.layers() (the ops alias
  /// them, so in-place changes to the model's parameters are seen) and verifies that running it
  /// reproduces model.forward on `probe` ([N, ...input shape] rows; undefined: two N(0, 1) rows of
  /// info().input_shape drawn from seed 0). Throws attrib::Error naming the op index and what was
  /// expected and found, or the logit difference when the description does not reproduce forward.
  SequentialNetwork(ModelAdapter& model, const at::Tensor& probe = at::Tensor());

  /// The ops, input to output.
  const std::vector<SequentialOp>& ops() const { return ops_; }
  /// Rows passed through model.forward by the verification.
  int64_t probe_rows() const { return probe_rows_; }
  /// Largest |sequential - model.forward| logit difference found by the verification.
  double verified_max_diff() const { return verified_max_diff_; }

  /// A copy whose parameters are cast to `dtype` (no longer aliasing the model's), e.g. to
  /// propagate in float64.
  SequentialNetwork cast(at::ScalarType dtype) const;

  /// All activations: a[0] = x, a[k + 1] = ops()[k](a[k]); a.back() are the logits [N, C]. x is
  /// moved to the parameters' device and keeps its dtype (parameters are cast to it).
  std::vector<at::Tensor> activations(const at::Tensor& x) const;
  /// The logits alone.
  at::Tensor forward(const at::Tensor& x) const;

  /// One line per op, e.g. "conv2d(1->8, k3, s1, p1) relu maxpool2d(k2, s2) flatten
  /// linear(392->2)".
  std::string summary() const;

 private:
  SequentialNetwork() = default;
  std::vector<SequentialOp> ops_;
  at::Device device_ = at::kCPU;
  int64_t probe_rows_ = 0;
  double verified_max_diff_ = 0.0;
};

/// Builds a TorchScript module (class `type_name`) whose forward(x) runs `architecture` over
/// `parameters` (registered as module parameters under their names, which must be identifiers)
/// and whose metadata() returns `metadata` with "architecture" set and, when absent, "layers"
/// (one layer per parameterised op, named "<op><index>"). For built-in dense models and tests;
/// the archive loads with torch.jit.load. Throws attrib::Error for a malformed description or a
/// missing parameter, naming the op index.
ATTRIB_SDK_API torch::jit::Module sequential_module(
    const std::string& type_name, const nlohmann::json& architecture,
    const std::vector<std::pair<std::string, at::Tensor>>& parameters, nlohmann::json metadata);

}  // namespace attrib
