#pragma once
// Small helpers shared by the TorchScriptModel sources (torchscript_model.cpp,
// torchscript_checks.cpp, torchscript_train.cpp).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "attrib/error.h"

namespace attrib::torchscript_detail {

/// `t` on device `d` (the same tensor when it is there already or undefined).
inline at::Tensor on(const at::Tensor& t, const at::Device& d) {
  return t.defined() && t.device() != d ? t.to(d) : t;
}

inline at::Generator seeded_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

using nlohmann::json;

// Tolerances of the conformance checks: |a - b| <= kTol * max(1, max |reference|).
inline constexpr double kTol = 1e-4;
inline constexpr double kDeterminismTol = 1e-6;
inline constexpr double kRowSumTol = 1e-4;

inline std::string shape_str(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << "[";
  for (int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  os << "]";
  return os.str();
}

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

inline std::string num_str(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

// One line out of a (possibly multi-line TorchScript traceback) error message: the last line
// naming an error ("RuntimeError: ..."), else the first non-empty line.
inline std::string one_line(const std::string& message) {
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
inline double max_diff(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) return INFINITY;
  if (a.numel() == 0) return 0.0;
  auto d = (a.detach().to(at::kCPU, at::kDouble) - b.detach().to(at::kCPU, at::kDouble)).abs();
  const double m = d.max().item<double>();
  return std::isnan(m) ? INFINITY : m;
}

inline double scale_of(const at::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return 1.0;
  const double m = t.detach().abs().max().to(at::kCPU, at::kDouble).item<double>();
  return std::isfinite(m) ? std::max(1.0, m) : 1.0;
}

// Empty when a and b agree within tol (relative to max(1, max|reference|)), else why not.
inline std::string compare(const at::Tensor& found, const at::Tensor& reference, double tol) {
  if (found.sizes() != reference.sizes())
    return "shape " + shape_str(found) + ", expected " + shape_str(reference);
  const double d = max_diff(found, reference);
  const double t = tol * scale_of(reference);
  if (d <= t) return "";
  return "max |diff| " + num_str(d) + " > tolerance " + num_str(t);
}

inline std::vector<at::Tensor> tensor_list(const c10::IValue& v) {
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
inline int64_t int_field(const json& meta, const char* key, int64_t fallback) {
  if (!meta.contains(key) || meta[key].is_null()) return fallback;
  if (!meta[key].is_number_integer())
    throw Error(
        detail::cat("metadata field '", key, "': expected an integer, got ", meta[key].dump()));
  return meta[key].get<int64_t>();
}

// Model's parameters and tensor attributes, dotted names ("encoder.0.weight").
inline std::map<std::string, at::Tensor> named_tensors(const torch::jit::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& a : m.named_attributes(/*recurse=*/true))
    if (a.value.isTensor()) out.emplace(a.name, a.value.toTensor());
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out[p.name] = p.value;
  return out;
}

inline constexpr const char* kTextMethods[] = {
    "embed", "forward_from_embeddings", "forward_with_attentions",
    "forward_from_embeddings_with_attentions", "label_attention"};

// Calls `method` and wraps TorchScript errors into attrib::Error naming model and method.
//
// Every call runs with the graph executor's optimisations off (a thread-local setting): the
// optimised plan groups operations into DifferentiableGraph nodes whose intermediate outputs (the
// attention probabilities a method returns) are no longer on the autograd path to the logits, so
// gradients w.r.t. them would silently vanish after the first calls.
inline c10::IValue invoke(torch::jit::Module& m, const std::string& model, const char* method,
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
}  // namespace attrib::torchscript_detail
