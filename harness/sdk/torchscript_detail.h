#pragma once
// Small helpers shared by the TorchScriptModel sources (torchscript_model.cpp,
// torchscript_train.cpp).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>

namespace attrib::torchscript_detail {

/// `t` on device `d` (the same tensor when it is there already or undefined).
inline at::Tensor on(const at::Tensor& t, const at::Device& d) {
  return t.defined() && t.device() != d ? t.to(d) : t;
}

inline at::Generator seeded_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace attrib::torchscript_detail
