// The `precomputed` method: attributions read from JSONL and evaluated like any method.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analytic_models.h"

namespace {

using attrib_test::error_of;
using attrib_test::json;
using attrib_test::registry;
using attrib_test::text_batch;
using ::testing::HasSubstr;

std::string write(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(ATTRIB_TEST_TMP) / "precomputed";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

attrib::Explanation explain(const json& params, const attrib::Batch& batch) {
  attrib_test::NoModel model;
  return registry()
      .create_method("precomputed", params)
      ->explain(model, batch, at::zeros({batch.size()}, at::kLong), attrib::ExplainContext{});
}

TEST(Precomputed, TextScoresGoToTheirWords) {
  // text_batch: "a" = [CLS w5 w6 w7 SEP PAD] (3 words), "b" = [CLS w8 w9 SEP PAD PAD] (2 words).
  const std::string f = write("ok.jsonl",
                              "{\"id\": \"a\", \"method\": \"ig\", \"scores\": [0.5, -1, 2]}\n"
                              "\n"
                              "{\"id\": \"b\", \"method\": \"ig\", \"scores\": [3, 4]}\n"
                              "{\"id\": \"b\", \"method\": \"other\", \"scores\": [9]}\n");
  const auto e = explain({{"file", f}, {"method", "ig"}}, text_batch());
  attrib_test::expect_near(e.attributions[0], {0, 0.5, -1, 2, 0, 0}, 0);
  attrib_test::expect_near(e.attributions[1], {0, 3, 4, 0, 0, 0}, 0);
  EXPECT_EQ(e.forward_rows, 0);
}

TEST(Precomputed, DenseScoresKeepTheInputShape) {
  const std::string f =
      write("dense.jsonl", "{\"id\": \"x\", \"method\": \"m\", \"scores\": [1, 2, 3, 4]}\n");
  const auto b = attrib_test::dense_batch(at::zeros({1, 2, 2}), {"x"});
  const auto e = explain({{"file", f}}, b);
  EXPECT_EQ(e.attributions.sizes(), (std::vector<int64_t>{1, 2, 2}));
  attrib_test::expect_near(e.attributions.flatten(), {1, 2, 3, 4}, 0);
}

TEST(Precomputed, IdsOutsideTheSplitAreErrorsAndUnselectedExamplesAreNot) {
  const std::string f = write("extra.jsonl",
                              "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n"
                              "{\"id\": \"c\", \"method\": \"m\", \"scores\": [7]}\n"
                              "{\"id\": \"b\", \"method\": \"m\", \"scores\": [4, 5]}\n"
                              "{\"id\": \"zz\", \"method\": \"m\", \"scores\": [7]}\n");
  attrib_test::NoModel model;
  auto method = registry().create_method("precomputed", {{"file", f}});
  const at::Tensor targets = at::zeros({2}, at::kLong);
  // "c" is an example of the split that this run does not explain (max_examples): no error.
  const std::vector<std::string> split = {"a", "b", "c", "zz"};
  attrib::ExplainContext ctx;
  ctx.split_ids = &split;
  const auto e = method->explain(model, text_batch(), targets, ctx);
  attrib_test::expect_near(e.attributions[1], {0, 4, 5, 0, 0, 0}, 0);
  // "zz" is in no example of the split: a typo, or a file for another dataset.
  const std::vector<std::string> other = {"a", "b", "c", "d"};
  ctx.split_ids = &other;
  EXPECT_THAT(error_of([&] { method->explain(model, text_batch(), targets, ctx); }),
              HasSubstr("extra.jsonl:4: example id \"zz\" is not in the explained split (4 "
                        "examples); 1 of the file's 4 ids are unknown"));
}

TEST(Precomputed, BadInputNamesTheLine) {
  const std::string len = write("len.jsonl",
                                "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n"
                                "{\"id\": \"b\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", len}}, text_batch());
              }),
              HasSubstr("len.jsonl:2: example \"b\": expected 2 scores (one per word), got 3"));
  const std::string missing =
      write("missing.jsonl", "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", missing}}, text_batch());
              }),
              HasSubstr("no attributions for example id \"b\""));
  const std::string bad = write("bad.jsonl",
                                "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n"
                                "{\"id\": \"b\", \"method\": \"m\", \"scores\": [1, \"x\"]}\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", bad}}, text_batch());
              }),
              HasSubstr("bad.jsonl:2: scores[1]: expected a number, got \"x\""));
  const std::string junk = write("junk.jsonl", "{\"id\": \"a\",\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", junk}}, text_batch());
              }),
              HasSubstr("junk.jsonl:1: expected a JSON object per line"));
  const std::string two = write("two.jsonl",
                                "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n"
                                "{\"id\": \"b\", \"method\": \"n\", \"scores\": [1, 2]}\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", two}}, text_batch());
              }),
              HasSubstr("two.jsonl:2: the file holds methods \"m\" and \"n\""));
  const std::string dup = write("dup.jsonl",
                                "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n"
                                "{\"id\": \"a\", \"method\": \"m\", \"scores\": [1, 2, 3]}\n");
  EXPECT_THAT(error_of([&] {
                explain({{"file", dup}}, text_batch());
              }),
              HasSubstr("dup.jsonl:2: id \"a\" appears twice"));
  EXPECT_THAT(error_of([&] {
                explain({{"file", "/nonexistent/x.jsonl"}}, text_batch());
              }),
              HasSubstr("/nonexistent/x.jsonl: cannot open"));
}

}  // namespace
