#pragma once
// Shared by the model tests (models_test.cpp, text_models_test.cpp): the built-in plugin registry,
// scratch paths, the Python interop helpers and a synthetic text task (label 1 iff the token
// "good", id 3, occurs).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "analytic_models.h"
#include "registry.h"

namespace model_fixtures {

using attrib_test::registry;  // the built-in plugins

/// ATTRIB_TEST_TMP/<folder>/<name>, the folder created.
inline std::string tmp_path(const std::string& folder, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(ATTRIB_TEST_TMP) / folder;
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

inline std::filesystem::path python_dir() {
  return std::filesystem::path(ATTRIB_SOURCE_DIR) / "tests" / "python";
}

inline bool python_has_torch() {
  static const bool ok =
      std::system((std::string(ATTRIB_PYTHON) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

/// Runs tests/python/<script> with arguments; returns the exit status.
inline int run_python(const std::string& script, const std::vector<std::string>& args) {
  std::string cmd = std::string(ATTRIB_PYTHON) + " '" + (python_dir() / script).string() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  return std::system(cmd.c_str());
}

#define REQUIRE_PYTHON_TORCH()                                                            \
  do {                                                                                    \
    if (!model_fixtures::python_has_torch())                                              \
      GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch: Python interop not tested"; \
  } while (0)

inline std::vector<std::string> synthetic_vocab() {
  std::vector<std::string> v{"[PAD]", "[UNK]", "[MASK]", "good"};
  for (int i = 0; v.size() < 30; ++i) v.push_back("w" + std::to_string(i));
  return v;
}

/// n examples of 3..T tokens drawn from ids 4..29; label 1 examples carry "good" at one place.
inline attrib::Batch synthetic_batch(int64_t n, uint64_t seed, int64_t T = 12) {
  std::mt19937_64 rng(seed);
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.inputs = at::zeros({n, T}, at::kLong);
  b.attention_mask = at::zeros({n, T}, at::kLong);
  b.labels = at::zeros({n}, at::kLong);
  auto ids = b.inputs.accessor<int64_t, 2>();
  auto mask = b.attention_mask.accessor<int64_t, 2>();
  auto labels = b.labels.accessor<int64_t, 1>();
  std::uniform_int_distribution<int64_t> len(3, T), tok(4, 29), coin(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t L = len(rng);
    for (int64_t t = 0; t < L; ++t) {
      ids[i][t] = tok(rng);
      mask[i][t] = 1;
    }
    labels[i] = coin(rng);
    if (labels[i] == 1) ids[i][std::uniform_int_distribution<int64_t>(0, L - 1)(rng)] = 3;
    b.ids.push_back("ex" + std::to_string(seed) + "_" + std::to_string(i));
  }
  b.word_ids = at::where(b.attention_mask.to(at::kBool), at::arange(T, at::kLong).expand({n, T}),
                         at::full({n, T}, -1, at::kLong));
  return b;
}

}  // namespace model_fixtures
