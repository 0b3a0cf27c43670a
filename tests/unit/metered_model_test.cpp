// MeteredModel (harness/src/metered_model.h): every call passes through unchanged, and the
// forward-family calls are counted with their rows.
#include "metered_model.h"

#include <gtest/gtest.h>

#include "attrib/error.h"
#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(MeteredModel, PassesCallsThroughAndCountsForwardRows) {
  Bag inner;
  attrib::MeteredModel metered(inner);
  const attrib::Batch b = text();
  EXPECT_EQ(&metered.info(), &inner.info());
  EXPECT_TRUE(at::equal(metered.forward(b.inputs, b.attention_mask),
                        inner.forward(b.inputs, b.attention_mask)));
  metered.forward(b.inputs.slice(0, 0, 1), b.attention_mask.slice(0, 0, 1));
  EXPECT_EQ(metered.meter().calls, 2);
  EXPECT_EQ(metered.meter().rows, 3);
  EXPECT_GE(metered.meter().seconds, 0.0);
  EXPECT_EQ(inner.count.rows, 2 + 2 + 1);  // the direct call above, and both metered ones
  const attrib::ModelMeter before = metered.meter();
  metered.forward(b.inputs, b.attention_mask);
  const attrib::ModelMeter used = metered.meter() - before;
  EXPECT_EQ(used.calls, 1);
  EXPECT_EQ(used.rows, 2);
  // What the inner model lacks fails the same way through the meter, naming the capability.
  EXPECT_THROW(metered.embed(b.inputs), attrib::Error);
  EXPECT_EQ(metered.meter().calls, 1 + before.calls);
}

}  // namespace
