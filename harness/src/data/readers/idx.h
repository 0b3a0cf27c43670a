#pragma once
// IDX files (MNIST, Fashion-MNIST): the idx:DIR reader's loading step, shared with the
// synthetic:block_mnist generator, which draws its items from the same files.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace attrib {

/// Where the dataset-fashion-mnist Debian package installs its IDX files; the default of
/// `idx:` (empty DIR) and of block_mnist's `dir`.
extern const char* const kFashionMnistDir;

namespace readers {

struct IdxSet {
  std::vector<int64_t> shape;  // {1, rows, cols}
  std::vector<std::string> classes;
  std::vector<DenseExample> train, test;  // file order
};

/// The train and t10k files of `dir` with resolved idx params (max_train, max_test, classes);
/// fills report.sources.
IdxSet load_idx(const std::string& dir, const nlohmann::json& p, nlohmann::json& report);

}  // namespace readers
}  // namespace attrib
