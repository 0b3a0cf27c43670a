// isolation.h: a method behind isolate() runs in a forked child; its answer, its exceptions and its
// crashes come back to the host as the same explanation or as an attrib::Error.
#include "isolation.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "analytic_models.h"
#include "cli_support.h"

namespace {

using attrib_test::error_of;
using nlohmann::json;

// Does what `what` says: answer (with extras, NaN in its choices, a float64 map), throw, crash.
class Scripted : public attrib::AttributionMethod {
 public:
  explicit Scripted(std::string what) : what_(std::move(what)) {}
  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    if (what_ == "throw") throw attrib::Error("scripted failure for '" + batch.ids[0] + "'");
    if (what_ == "throw_int") throw 42;
    if (what_ == "segfault") std::raise(SIGSEGV);
    if (what_ == "exit") std::exit(3);
    if (what_ == "sleep") std::this_thread::sleep_for(std::chrono::seconds(30));
    // The gradient of the model, so that autograd and the thread pools work in the child.
    at::Tensor x = batch.inputs.detach().clone().requires_grad_(true);
    at::Tensor out = model.forward(x, {}).gather(1, targets.view({-1, 1})).sum();
    out.backward();
    attrib::Explanation e;
    e.attributions = x.grad().to(at::kDouble) * static_cast<double>(ctx.seed);
    e.extras["delta"] = at::arange(batch.size(), at::kFloat);
    e.extras["missing"] = at::Tensor();
    e.info = {{"rule", "scripted"}, {"nan", NAN}, {"rows", ctx.max_rows}};
    e.forward_rows = 3;
    e.backward_rows = 2;
    return e;
  }

 private:
  std::string what_;
};

attrib::Explanation isolated_run(const std::string& what, double timeout = 60) {
  auto method = attrib::isolate(std::make_shared<Scripted>(what), "scripted", timeout);
  attrib_test::DenseModel model = attrib_test::smooth_model();
  const attrib::Batch batch = attrib_test::dense_batch(
      at::tensor({1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 0.0f}).view({2, 3}), {"a", "b"});
  return method->explain(model, batch, at::tensor({0, 1}, at::kLong),
                         attrib::ExplainContext{5, 17});
}

TEST(Isolation, AnswerComesBackBitForBit) {
  const attrib::Explanation got = isolated_run("answer");
  attrib_test::DenseModel model = attrib_test::smooth_model();
  const attrib::Batch batch = attrib_test::dense_batch(
      at::tensor({1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 0.0f}).view({2, 3}), {"a", "b"});
  const attrib::Explanation want = Scripted("answer").explain(
      model, batch, at::tensor({0, 1}, at::kLong), attrib::ExplainContext{5, 17});
  ASSERT_EQ(got.attributions.scalar_type(), at::kDouble);
  EXPECT_TRUE(at::equal(got.attributions, want.attributions));
  EXPECT_TRUE(at::equal(got.extras.at("delta"), want.extras.at("delta")));
  EXPECT_FALSE(got.extras.at("missing").defined());
  EXPECT_EQ(got.info["rule"], "scripted");
  EXPECT_TRUE(std::isnan(got.info["nan"].get<double>()));
  EXPECT_EQ(got.info["rows"], 17);
  EXPECT_EQ(got.forward_rows, 3);
  EXPECT_EQ(got.backward_rows, 2);
}

TEST(Isolation, ExceptionsKeepTheirMessage) {
  EXPECT_EQ(error_of([] { isolated_run("throw"); }), "scripted failure for 'a'");
  EXPECT_NE(error_of([] { isolated_run("throw_int"); }).find("unknown exception"),
            std::string::npos);
}

TEST(Isolation, CrashExitAndTimeOutBecomeErrorsNamingThePlugin) {
  const std::string segv = error_of([] { isolated_run("segfault"); });
  EXPECT_NE(segv.find("plugin 'scripted' (batch from example 'a'): crashed with SIGSEGV"),
            std::string::npos)
      << segv;
  const std::string exited = error_of([] { isolated_run("exit"); });
  EXPECT_NE(exited.find("exit(3) before returning an explanation"), std::string::npos) << exited;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string slow = error_of([] { isolated_run("sleep", 0.5); });
  EXPECT_NE(slow.find("did not finish within 0.5 s"), std::string::npos) << slow;
  // Killed at the time-out, not waited for (the child sleeps 30 s).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

TEST(Isolation, ModesChooseThirdPartyPlugins) {
  attrib::PluginInfo builtin;
  builtin.path = attrib::builtin_plugin_dir() + "/attrib_saliency.so";
  attrib::PluginInfo third;
  third.path = "/tmp/elsewhere/attrib_saliency.so";
  attrib::IsolationOptions o;
  EXPECT_FALSE(attrib::isolated(builtin, o));
  EXPECT_TRUE(attrib::isolated(third, o));
  o.mode = "all";
  EXPECT_TRUE(attrib::isolated(builtin, o));
  o.mode = "none";
  EXPECT_FALSE(attrib::isolated(third, o));
  EXPECT_NE(error_of([] { attrib::check_isolation_mode("some"); }).find("auto, all or none"),
            std::string::npos);
}

// Every built-in method of a run in worker processes gives the in-process run's numbers.
TEST(Isolation, IsolatedRunEqualsTheInProcessRun) {
  namespace fs = std::filesystem;
  using attrib_test::expect_same_results;
  using attrib_test::results_of;
  const auto attrib = [](const std::string& args, const std::string& tag) {
    return attrib_test::attrib(args, tag);
  };
  const fs::path suite = attrib_test::write_suite("isolation.json", attrib_test::units_suite());
  const fs::path a = fs::path(ATTRIB_TEST_TMP) / "isolation" / "none";
  const fs::path b = fs::path(ATTRIB_TEST_TMP) / "isolation" / "all";
  fs::remove_all(a.parent_path());
  const std::string run = "run '" + suite.string() + "' --no-store --out ";
  ASSERT_EQ(attrib(run + "'" + a.string() + "' --isolate none", "isolation_none").code, 0);
  ASSERT_EQ(attrib(run + "'" + b.string() + "' --isolate all", "isolation_all").code, 0);
  const json ra = results_of(a), rb = results_of(b);
  expect_same_results(ra, rb);
  EXPECT_EQ(rb["context"]["isolation"]["mode"], "all");
  for (const json& e : rb["explanations"]) EXPECT_TRUE(e["isolated"].get<bool>()) << e["method"];
  EXPECT_EQ(attrib(run + "'" + b.string() + "' --isolate some", "isolation_bad").code, 2);
}

}  // namespace
