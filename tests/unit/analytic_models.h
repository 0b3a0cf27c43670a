#pragma once
// Helpers shared by the method and metric tests: the analytic models and batches of
// test_models.h, the built-in plugin registry, run() and tensor comparisons.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "registry.h"
#include "test_models.h"

namespace attrib_test {

using nlohmann::json;

inline const attrib::Registry& registry() {
  static attrib::Registry* r = [] {
    auto* reg = new attrib::Registry();
    reg->load_directories({ATTRIB_BUILTIN_PLUGIN_DIR});
    return reg;
  }();
  return *r;
}

inline attrib::Explanation run(const std::string& method, const json& params,
                               attrib::ModelAdapter& model, const attrib::Batch& batch,
                               const at::Tensor& targets, int64_t max_rows = 256,
                               uint64_t seed = 7) {
  attrib::ExplainContext ctx;
  ctx.seed = seed;
  ctx.max_rows = max_rows;
  return registry().create_method(method, params)->explain(model, batch, targets, ctx);
}

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const attrib::Error& e) {
    return e.what();
  }
  return "<no attrib::Error thrown>";
}

inline std::vector<double> values(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous().view(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

inline void expect_near(const at::Tensor& got, const std::vector<double>& want, double tol) {
  const std::vector<double> g = values(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], tol) << "element " << i;
}

inline void expect_close(const at::Tensor& got, const at::Tensor& want, double tol) {
  ASSERT_EQ(got.sizes(), want.sizes());
  expect_near(got, values(want), tol);
}

inline const at::Tensor kX = at::tensor({2.0f, 1.0f, 0.5f}).view({1, 3});
inline const at::Tensor kTarget0 = at::tensor({0}, at::kLong);
inline const std::vector<double> kWx = {2, -2, 1.5};  // linear model, class 0: w x for x = kX

inline attrib::Batch one_example() { return dense_batch(kX, {"e"}); }

// A model that fails the test if it is ever run: for metrics that must not call the model
// (plausibility, complexity).
class NoModel : public attrib::ModelAdapter {
 public:
  NoModel() { info_.name = "none"; }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor&, const at::Tensor&) override {
    ADD_FAILURE() << "this metric must not run the model";
    return {};
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

 private:
  attrib::ModelInfo info_;
};

}  // namespace attrib_test
