#pragma once
// Base of the plugins whose forwards hold whole blocks of B rows, one per example (the gradient
// methods, occlusion). Header-only and compiled into each of them; this folder has no
// CMakeLists.txt, so it is not a plugin itself.
#include <torch/script.h>

#include "attrib/input_space.h"
#include "attrib/method.h"

namespace attrib_plugins {

/// explain() splits the batch into groups of at most max_rows examples (attrib::explain_in_groups),
/// so that a block of B rows still fits when max_rows < B, and explains each with explain_group().
class GroupedMethod : public attrib::AttributionMethod {
 public:
  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets, const attrib::ExplainContext& ctx) final {
    return attrib::explain_in_groups(batch, targets, ctx.max_rows,
                                     [&](const attrib::Batch& b, const at::Tensor& t) {
                                       return explain_group(model, b, t, ctx);
                                     });
  }

 protected:
  /// Explains one group: `batch` holds at most max(1, ctx.max_rows) examples, `targets` theirs.
  virtual attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                            const at::Tensor& targets,
                                            const attrib::ExplainContext& ctx) = 0;
};

}  // namespace attrib_plugins
