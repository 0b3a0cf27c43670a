#pragma once
// One example of each modality, as the readers produce them and collation consumes them.
#include <cstdint>
#include <string>
#include <vector>

namespace attrib {

/// One text example at word granularity.
struct TextExample {
  std::string id;
  std::vector<std::string> tokens;
  int64_t label = -1;
  std::vector<float> rationale;  ///< one 0/1 per token; empty = not annotated
  /// One flag per token, 1 for a structural token (e.g. the [SEP] between two documents): fed to
  /// the model as one whole token, but never a feature (word id -1). Empty = none.
  std::vector<char> special;
};

/// One dense example: a float row (tabular) or image, flattened in row-major order.
struct DenseExample {
  std::string id;
  std::vector<float> x;  ///< prod(Dataset::feature_shape) values
  int64_t label = -1;
  std::vector<float> mask;  ///< one 0/1 per value of x (relevant features); empty = not annotated
};

}  // namespace attrib
