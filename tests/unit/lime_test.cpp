// Known-answer tests of lime on the analytic models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analytic_models.h"

using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

TEST(Lime, RecoversLinearModels) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  const attrib::Explanation e = run("lime", {{"alpha", 0.0}}, model, batch, kTarget0);
  expect_near(e.attributions, kWx, 1e-5);
  expect_near(e.extras.at("r2"), {1.0}, 1e-9);
  EXPECT_EQ(e.forward_rows, 200);
  EXPECT_EQ(e.info["kernel_width"], 0.25);
  // Ridge shrinks the coefficients towards 0 without changing their signs.
  const attrib::Explanation r = run("lime", {}, model, batch, kTarget0);
  const std::vector<double> shrunk = values(r.attributions);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_LT(std::abs(shrunk[j]), std::abs(kWx[j])) << j;
    EXPECT_GT(shrunk[j] * kWx[j], 0) << j;
  }
  EXPECT_THAT(error_of([] {
                registry().create_method("lime", {{"kernel_width", 0.0}});
              }),
              HasSubstr("kernel_width > 0"));
}

}  // namespace
