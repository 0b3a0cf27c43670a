#include "attrib/params.h"

#include <gtest/gtest.h>

#include "attrib/error.h"

using nlohmann::json;

namespace {
const json kSchema = json::parse(R"({
  "n_steps": {"type": "integer", "default": 50, "minimum": 1},
  "rule": {"type": "string", "default": "gausslegendre", "enum": ["gausslegendre", "riemann_left"]},
  "stdev": {"type": "number", "default": 1.0, "minimum": 0},
  "abs": {"type": "boolean", "default": true}
})");

std::string error_of(const json& given) {
  try {
    attrib::resolve_params(kSchema, given, "methods[2].params");
  } catch (const attrib::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Params, FillsDefaults) {
  json p = attrib::resolve_params(kSchema, json::object({{"n_steps", 8}}), "p");
  EXPECT_EQ(p["n_steps"], 8);
  EXPECT_EQ(p["rule"], "gausslegendre");
  EXPECT_EQ(p["abs"], true);
  EXPECT_DOUBLE_EQ(p["stdev"].get<double>(), 1.0);
}

TEST(Params, IntegerAcceptedForNumber) {
  json p = attrib::resolve_params(kSchema, json::object({{"stdev", 2}}), "p");
  EXPECT_TRUE(p["stdev"].is_number_float());
}

TEST(Params, ErrorsNamePathExpectedAndFound) {
  EXPECT_EQ(error_of({{"n_steps", "fifty"}}),
            "methods[2].params.n_steps: expected integer >= 1, got \"fifty\"");
  EXPECT_EQ(error_of({{"n_steps", 0}}), "methods[2].params.n_steps: expected integer >= 1, got 0");
  EXPECT_EQ(error_of({{"n_steps", 2.5}}),
            "methods[2].params.n_steps: expected integer >= 1, got 2.5");
  EXPECT_EQ(error_of({{"rule", "simpson"}}),
            "methods[2].params.rule: expected one of \"gausslegendre\", \"riemann_left\", got "
            "\"simpson\"");
  EXPECT_EQ(error_of({{"steps", 3}}),
            "methods[2].params.steps: unknown parameter (known: abs, n_steps, rule, stdev)");
  EXPECT_EQ(error_of(json::array()), "methods[2].params: expected an object of parameters, got []");
}

TEST(Params, CliValues) {
  EXPECT_EQ(attrib::parse_cli_value("42"), json(42));
  EXPECT_EQ(attrib::parse_cli_value("true"), json(true));
  EXPECT_EQ(attrib::parse_cli_value("zero"), json("zero"));
  EXPECT_EQ(attrib::parse_cli_value("[1,2]"), json::array({1, 2}));
}
