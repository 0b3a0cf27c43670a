// The throughput analysis's model limit (suites/common/model_limit.h) and each workload's fraction
// of it: the ladder of row counts, the seconds the limit allows for a method's rows, that every
// rung's recorded calls are the calls the model saw, and that the fraction follows the rows a
// method reported. Timings themselves are never asserted.
#include "throughput/throughput.h"

#include <gtest/gtest.h>

#include "analytic_models.h"
#include "common/model_limit.h"

using namespace attrib_test;
using attrib::ModelLimit;

namespace {

ModelLimit fixed_limit(double forward_rps, double forward_backward_rps) {
  ModelLimit l;
  l.forward.rows_per_second = forward_rps;
  l.forward_backward.rows_per_second = forward_backward_rps;
  return l;
}

attrib::Batch five_examples(at::Tensor* targets) {
  *targets = at::tensor({0, 1, 0, 1, 0}, at::kLong);
  return dense_batch(at::arange(15, at::kFloat).view({5, 3}) / 7.0, {"a", "b", "c", "d", "e"});
}

}  // namespace

TEST(Throughput, LimitLadderIsPowersOfTwoUpToTheCap) {
  EXPECT_EQ(attrib::limit_ladder(256), (std::vector<int64_t>{8, 16, 32, 64, 128, 256}));
  EXPECT_EQ(attrib::limit_ladder(20), (std::vector<int64_t>{8, 16, 20}));
  EXPECT_EQ(attrib::limit_ladder(5), (std::vector<int64_t>{5}));
  EXPECT_EQ(attrib::limit_ladder(1), (std::vector<int64_t>{1}));
  EXPECT_THROW(attrib::limit_ladder(0), attrib::Error);
}

// A gradient row costs one forward+backward row; the rest of the forward rows run forward only.
TEST(Throughput, LimitSecondsChargeGradientRowsAtTheForwardBackwardRate) {
  const ModelLimit l = fixed_limit(1000.0, 250.0);
  EXPECT_DOUBLE_EQ(l.seconds(52, 50), 2.0 / 1000.0 + 50.0 / 250.0);
  EXPECT_DOUBLE_EQ(l.seconds(25, 0), 25.0 / 1000.0);
  EXPECT_DOUBLE_EQ(l.seconds(1, 1), 1.0 / 250.0);
  EXPECT_EQ(l.seconds(0, 0), 0.0);
}

// Every rung runs its recorded untimed and timed calls on the examples repeated to the rung's row
// count, in both modes (a forward+backward call forwards its rows once too).
TEST(Throughput, MeasuredLimitRecordsTheCallsTheModelSawAndKeepsTheBestRung) {
  DenseModel model = linear_model();
  at::Tensor targets;
  const attrib::Batch batch = five_examples(&targets);
  const ModelLimit l = attrib::measure_limit(model, batch, targets, 20, 0.001);
  int64_t rows = 0;
  for (const auto* mode : {&l.forward, &l.forward_backward}) {
    ASSERT_EQ(mode->ladder.size(), 3u);
    double best = 0.0;
    int64_t best_rows = 0;
    for (size_t i = 0; i < 3; ++i) {
      const auto& rung = mode->ladder[i];
      EXPECT_EQ(rung["rows"], (std::vector<int64_t>{8, 16, 20})[i]);
      EXPECT_GE(rung["calls"].get<int64_t>(), 10);  // at least 5 per climb
      EXPECT_EQ(rung["warmup_calls"], 4);
      rows += rung["rows"].get<int64_t>() *
              (rung["calls"].get<int64_t>() + rung["warmup_calls"].get<int64_t>());
      if (rung["rows_per_second"].get<double>() > best) {
        best = rung["rows_per_second"];
        best_rows = rung["rows"];
      }
    }
    EXPECT_EQ(mode->rows_per_second, best);
    EXPECT_EQ(mode->best_rows, best_rows);
  }
  EXPECT_EQ(model.count.rows, rows);
  EXPECT_EQ(model.count.largest, 20);
  EXPECT_EQ(l.to_json()["forward"]["ladder"], l.forward.ladder);
}

// The fraction is the median explanations/s over what the limit allows for the rows the method
// reported: integrated gradients with 10 steps needs 12 forward rows (10 of them with a
// backward) per example; a method that calls no model has no fraction.
TEST(Throughput, FractionOfLimitFollowsTheRowsTheMethodReported) {
  DenseModel model = linear_model();
  at::Tensor targets;
  const attrib::Batch batch = five_examples(&targets);
  const ModelLimit l = fixed_limit(1000.0, 250.0);
  attrib::ExplainContext ctx;
  auto ig = registry().create_method("integrated_gradients", {{"n_steps", 10}});
  attrib::Workload w(model, ig.get(), {batch}, {targets}, 5, 2, ctx);
  w.run();
  EXPECT_EQ(w.forward_rows(), 5 * 12);
  EXPECT_EQ(w.backward_rows(), 5 * 10);
  nlohmann::json entry = {{"explanations_per_second", {{"median", 3.0}}}};
  attrib::add_fraction_of_limit(entry, w, &l);
  EXPECT_EQ(entry["rows_per_explanation"], (nlohmann::json{{"forward", 12.0}, {"backward", 10.0}}));
  const double allowed = 1.0 / (2.0 / 1000.0 + 10.0 / 250.0);
  EXPECT_DOUBLE_EQ(entry["limit_explanations_per_second"].get<double>(), allowed);
  EXPECT_DOUBLE_EQ(entry["fraction_of_limit"].get<double>(), 3.0 / allowed);

  auto random = registry().create_method("random", nlohmann::json::object());
  attrib::Workload none(model, random.get(), {batch}, {targets}, 5, 5, ctx);
  none.run();
  nlohmann::json free_entry = {{"explanations_per_second", {{"median", 1e6}}}};
  attrib::add_fraction_of_limit(free_entry, none, &l);
  EXPECT_TRUE(free_entry["fraction_of_limit"].is_null());
  EXPECT_EQ(free_entry["rows_per_explanation"]["forward"], 0.0);

  // Without a measured limit only the rows are recorded.
  nlohmann::json unmeasured = {{"explanations_per_second", {{"median", 3.0}}}};
  attrib::add_fraction_of_limit(unmeasured, w, nullptr);
  EXPECT_FALSE(unmeasured.contains("fraction_of_limit"));
  EXPECT_EQ(unmeasured["rows_per_explanation"]["backward"], 10.0);
}

// Two measurements of one ladder merge rung by rung into the faster, calls added up.
TEST(Throughput, BetterOfTwoLimitsKeepsEachRungsFasterMeasurement) {
  auto mode = [](std::vector<double> rates) {
    attrib::LimitMode m;
    const int64_t rows[] = {8, 16};
    for (size_t i = 0; i < rates.size(); ++i)
      m.ladder.push_back(
          {{"rows", rows[i]}, {"rows_per_second", rates[i]}, {"calls", 5}, {"warmup_calls", 4}});
    return m;
  };
  ModelLimit a, b;
  a.forward = mode({100, 300});
  b.forward = mode({200, 250});
  a.forward_backward = mode({50, 40});
  b.forward_backward = mode({45, 60});
  const ModelLimit m = attrib::better_of(a, b);
  EXPECT_EQ(m.forward.rows_per_second, 300);
  EXPECT_EQ(m.forward.best_rows, 16);
  EXPECT_EQ(m.forward.ladder[0]["rows_per_second"], 200);
  EXPECT_EQ(m.forward.ladder[0]["calls"], 10);
  EXPECT_EQ(m.forward_backward.rows_per_second, 60);
  EXPECT_EQ(m.forward_backward.best_rows, 16);
  EXPECT_EQ(m.measurements, 2);
  ModelLimit short_ladder;
  short_ladder.forward = mode({1});
  short_ladder.forward_backward = mode({1});
  EXPECT_THROW(attrib::better_of(a, short_ladder), attrib::Error);
}
