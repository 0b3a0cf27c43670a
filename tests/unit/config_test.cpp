// Suite validation: every error names the JSON path, what was expected and what was found.
#include "config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/user_input.h"
#include "embedded.h"
#include "registry.h"

namespace {

using nlohmann::json;

class Config : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new attrib::Registry();
    registry_->load_directories({ATTRIB_BUILTIN_PLUGIN_DIR});
  }
  static json base() { return json::parse(attrib::default_suite_json()); }
  static std::string error_of(const json& doc) {
    try {
      attrib::parse_suite(doc, *registry_);
    } catch (const attrib::Error& e) {
      return e.what();
    }
    return "";
  }
  static attrib::Registry* registry_;
};
attrib::Registry* Config::registry_ = nullptr;

TEST_F(Config, DefaultSuiteIsValidAndResolved) {
  attrib::SuiteConfig s = attrib::parse_suite(base(), *registry_);
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.methods.size(), 8u);
  EXPECT_EQ(s.metrics.size(), 4u);
  // The analyses blocks are resolved with their defaults.
  EXPECT_EQ(s.analysis("randomisation")["reinit"], "fan_in_uniform");
  EXPECT_EQ(s.analysis("throughput")["repetitions"], 9);
  EXPECT_EQ(s.analysis("agreement")["k"], 0.25);
  // Defaults are filled in and recorded.
  EXPECT_EQ(s.methods[0].name, "random");
  EXPECT_TRUE(s.resolved["methods"][3]["params"].contains("multiply_by_inputs"));
  EXPECT_EQ(s.metrics[0].params["rank_by"], "signed");
}

TEST_F(Config, MetricProfilesAndAgreementProfile) {
  json d = base();
  ASSERT_EQ(d["metrics"][3]["metric"], "auprc");
  d["metrics"][3]["profile"] = "ferret";
  d["metrics"][3]["params"] = {{"all_positive", "undefined"}};  // explicit params win
  attrib::SuiteConfig s = attrib::parse_suite(d, *registry_);
  EXPECT_EQ(s.metrics[3].profile, "ferret");
  EXPECT_EQ(s.metrics[3].params["sign"], "positive");  // from the profile
  EXPECT_EQ(s.metrics[3].params["all_positive"], "undefined");
  EXPECT_EQ(s.resolved["metrics"][3]["profile"], "ferret");
  EXPECT_TRUE(s.metrics[0].profile.empty());

  d["metrics"][3]["profile"] = "nope";
  EXPECT_EQ(error_of(d),
            "metrics[3].profile: expected one of the profiles of metric 'auprc' (\"eraser\", "
            "\"ferret\"), got \"nope\"");
  d = base();
  d["metrics"][0]["profile"] = "eraser";  // deletion has no profile
  EXPECT_NE(error_of(d).find("it has none"), std::string::npos) << error_of(d);

  // Agreement: the suite's tie rule by default; OpenXAI's settings under its profile.
  d = base();
  s = attrib::parse_suite(d, *registry_);
  EXPECT_EQ(s.analysis("agreement")["tie_break"], "random");
  EXPECT_EQ(s.analysis("agreement")["rank_match"], "position");
  d["agreement"] = {{"profile", "openxai"}, {"k", 0.5}};
  s = attrib::parse_suite(d, *registry_);
  EXPECT_EQ(s.analysis("agreement")["tie_break"], "index");
  EXPECT_EQ(s.analysis("agreement")["rank_match"], "position_and_dense_rank");
  EXPECT_EQ(s.analysis("agreement")["k"], 0.5);
  d["agreement"] = {{"profile", "quantus"}};
  EXPECT_EQ(error_of(d).rfind("agreement.profile: expected one of", 0), 0u) << error_of(d);
}

TEST_F(Config, ErrorsNamePathExpectedAndFound) {
  json d = base();
  d["methods"][2]["params"]["n_steps"] = "fifty";
  d["methods"][2]["plugin"] = "integrated_gradients";
  EXPECT_EQ(error_of(d), "methods[2].params.n_steps: expected integer >= 1, got \"fifty\"");

  d = base();
  d["seed"] = -1;
  EXPECT_EQ(error_of(d), "suite.seed: expected integer >= 0, got -1");

  d = base();
  d["colour"] = "red";
  EXPECT_EQ(error_of(d).rfind("suite.colour: unknown parameter", 0), 0u) << error_of(d);

  d = base();
  d.erase("methods");
  EXPECT_EQ(error_of(d), "suite.methods: missing required parameter (expected array)");

  d = base();
  d["methods"] = json::array();
  EXPECT_EQ(error_of(d), "methods: expected a non-empty array, got []");

  d = base();
  d["methods"][1]["plugin"] = "no_such_method";
  EXPECT_EQ(error_of(d).rfind("methods[1].plugin: ", 0), 0u) << error_of(d);
  EXPECT_NE(error_of(d).find("no_such_method"), std::string::npos);

  d = base();
  d["methods"][1]["plugin"] = "random";
  EXPECT_EQ(error_of(d), "methods[1].name: duplicate name \"random\" (names must be unique)");

  d = base();
  d["metrics"][0]["params"]["auc"] = "simpson";
  EXPECT_EQ(error_of(d).rfind("metrics[0].params.auc: expected one of", 0), 0u) << error_of(d);

  d = base();
  d["datasets"][0]["params"]["n_classes"] = 1;
  EXPECT_EQ(error_of(d), "datasets[0].params.n_classes: expected integer >= 2 and <= 26, got 1");

  d = base();
  d["datasets"][0]["spec"] = "nosuchformat:/nope";
  EXPECT_EQ(error_of(d).rfind("datasets[0].spec: unknown dataset spec 'nosuchformat:/nope'", 0), 0u)
      << error_of(d);

  d = base();
  d["randomisation"] = {{"tests", {"cascading", "sideways"}}};
  EXPECT_EQ(error_of(d).rfind("randomisation.tests[1]: expected one of", 0), 0u) << error_of(d);
  d = base();
  d["agreement"] = {{"measures", {"spearman", "cosine"}}};
  EXPECT_EQ(error_of(d).rfind("agreement.measures[1]: expected one of", 0), 0u) << error_of(d);
  d = base();
  d["throughput"] = {{"batch_sizes", {8, 0}}};
  EXPECT_EQ(error_of(d), "throughput.batch_sizes[1]: expected integer >= 1, got 0");

  d = base();
  d["models"][0]["train"]["epochs"] = 0;
  EXPECT_EQ(error_of(d), "models[0].train.epochs: expected integer >= 1 and <= 100000, got 0");

  d = base();
  d["schema_version"] = 7;
  EXPECT_EQ(error_of(d), "schema_version: this attrib reads suite schema 1, got 7");
}

TEST(JsonText, SyntaxErrorsNameLineAndColumn) {
  try {
    attrib::parse_json_text("{\n  \"a\": 1,\n  \"b\": ]\n}", "suite.json");
    FAIL();
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("suite.json:3:8: invalid JSON", 0), 0u) << e.what();
  }
}

// Issue 17: a document nested 1M levels deep used to overflow the stack; now it is refused at
// level 513 by the iterative parser, quickly and with its position.
TEST(JsonText, NestingDeeperThanTheLimitIsRefusedFast) {
  const auto error_of = [](const std::string& text, const std::string& source) -> std::string {
    try {
      attrib::parse_json_text(text, source);
    } catch (const attrib::Error& e) {
      return e.what();
    }
    return "";
  };
  const size_t n = 1000000;
  const std::string deep = std::string(n, '[') + std::string(n, ']');
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of(deep, "deep.json"), "deep.json:1:513: nesting deeper than 512 levels");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  std::string objects = "{\"a\":\n";
  for (int i = 0; i < 600; ++i) objects += "{\"a\":";
  EXPECT_EQ(error_of(objects, "o.json"), "o.json:2:2556: nesting deeper than 512 levels");
  // 512 levels are fine, and brackets inside strings do not count.
  EXPECT_EQ(error_of(std::string(512, '[') + std::string(512, ']'), "ok.json"), "");
  EXPECT_EQ(error_of("[\"" + std::string(1000, '[') + "\"]", "s.json"), "");
  // Command-line values: an error, not a fallback to a string.
  try {
    attrib::parse_cli_value(std::string(600, '[') + std::string(600, ']'));
    FAIL();
  } catch (const attrib::Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 513: nesting deeper than 512 levels"),
              std::string::npos)
        << e.what();
  }
}

// Issue 17: 1e400 was an nlohmann out_of_range (exit 1, "internal error").
TEST(JsonText, NumbersOutOfRangeNameTheirPosition) {
  try {
    attrib::parse_json_text("{\n  \"seed\": [1, -1e400]\n}", "s.json");
    FAIL();
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()), "s.json:2:15: expected a finite number, got -1e400");
  }
  try {
    attrib::parse_cli_value("1e400");
    FAIL();
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()), "\"1e400\": column 1: expected a finite number, got 1e400");
  }
  EXPECT_EQ(attrib::parse_cli_value("1e-400"), 0.0);  // underflow is a number
  EXPECT_EQ(attrib::parse_cli_value("pad"), "pad");   // not JSON: still a string
}

// Issue 17: the suite name is a folder name under results/; "../../x" wrote outside it.
TEST_F(Config, SuiteNameMustBeAPathComponent) {
  for (const std::string& bad :
       std::vector<std::string>{"../../../x", "", ".", "..", "a/b", "a b", std::string(101, 'a')}) {
    json d = base();
    d["name"] = bad;
    EXPECT_EQ(error_of(d),
              "name: expected 1 to 100 letters, digits, '.', '_' or '-' (not \".\" "
              "or \"..\"), got " +
                  attrib::describe_json(json(bad)))
        << bad;
  }
  json d = base();
  d["name"] = "my-suite_1.2";
  EXPECT_EQ(error_of(d), "");
  EXPECT_FALSE(attrib::is_safe_path_component(".."));
  EXPECT_TRUE(attrib::is_safe_path_component(std::string(100, 'a')));
}

}  // namespace

namespace {
// Every suite shipped under suites/ must validate against the built-in plugins and metrics.
TEST_F(Config, ShippedSuitesAreValid) {
  int checked = 0;
  for (const auto& dir : std::filesystem::directory_iterator(ATTRIB_SOURCE_DIR "/suites")) {
    const auto file = dir.path() / "suite.json";
    if (!std::filesystem::exists(file)) continue;
    SCOPED_TRACE(file.string());
    EXPECT_NO_THROW(attrib::parse_suite(attrib::read_json_file(file.string()), *registry_));
    ++checked;
  }
  EXPECT_GE(checked, 2);
}
}  // namespace
