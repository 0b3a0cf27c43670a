// Plugin loading: every broken fixture becomes exactly one one-line LoadError, the healthy ones
// (and the built-in plugins) still load, and created objects outlive their Registry.
#include "registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "attrib/error.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

const std::string kFixtureDir = ATTRIB_FIXTURE_PLUGIN_DIR;
const std::string kBuiltinDir = ATTRIB_BUILTIN_PLUGIN_DIR;

std::string fixture(const std::string& file) {
  return (fs::path(kFixtureDir) / file).lexically_normal().string();
}

// Error messages keyed by file name.
std::map<std::string, std::string> errors_by_file(const attrib::Registry& r) {
  std::map<std::string, std::string> out;
  for (const auto& e : r.errors()) out[fs::path(e.path).filename().string()] = e.message;
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const attrib::Error& e) {
    return e.what();
  }
  return "<no attrib::Error thrown>";
}

// Sets or unsets an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

attrib::Batch dense_batch() {
  attrib::Batch b;
  b.modality = attrib::Modality::kDense;
  b.ids = {"a", "b"};
  b.inputs = at::tensor({1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 2.0f}).reshape({2, 3});
  b.labels = at::tensor({0, 1}, at::kLong);
  return b;
}

class RegistryFixtures : public ::testing::Test {
 protected:
  void SetUp() override { registry.load_directories({kFixtureDir}); }
  attrib::Registry registry;
};

}  // namespace

TEST_F(RegistryFixtures, NotALibrary) {
  auto errors = errors_by_file(registry);
  ASSERT_TRUE(errors.count("attrib_not_a_library.so"));
  const std::string& m = errors["attrib_not_a_library.so"];
  EXPECT_THAT(m,
              HasSubstr(fixture("attrib_not_a_library.so") + ": not a loadable shared library ("));
  EXPECT_EQ(m.back(), ')');
}

TEST_F(RegistryFixtures, NoEntrySymbol) {
  auto errors = errors_by_file(registry);
  EXPECT_EQ(errors["attrib_fixture_no_entry.so"],
            fixture("attrib_fixture_no_entry.so") +
                ": no attrib_plugin_entry symbol (not an attrib plugin)");
}

TEST_F(RegistryFixtures, AbiMismatch) {
  auto errors = errors_by_file(registry);
  EXPECT_EQ(errors["attrib_fixture_future_abi.so"],
            "plugin 'future_abi' (" + fixture("attrib_fixture_future_abi.so") + ") has ABI " +
                std::to_string(ATTRIB_ABI_VERSION + 2) + ", this harness " +
                std::to_string(ATTRIB_ABI_VERSION));
}

TEST_F(RegistryFixtures, FingerprintMismatch) {
  auto errors = errors_by_file(registry);
  EXPECT_EQ(errors["attrib_fixture_old_torch.so"],
            "plugin 'old_torch' (" + fixture("attrib_fixture_old_torch.so") +
                ") was built for libtorch=0.1;cxx11_abi=0;cuda=0, this harness is " +
                attrib::host_fingerprint());
}

TEST_F(RegistryFixtures, MalformedDescriptors) {
  auto errors = errors_by_file(registry);
  EXPECT_THAT(errors["attrib_fixture_null_entry.so"],
              HasSubstr("attrib_plugin_entry returned no descriptor"));
  EXPECT_THAT(errors["attrib_fixture_short_struct.so"],
              HasSubstr("plugin 'short_struct' (" + fixture("attrib_fixture_short_struct.so") +
                        ") has a descriptor of 12 bytes, this harness expects at least"));
  EXPECT_THAT(errors["attrib_fixture_bad_kind.so"],
              HasSubstr("plugin 'bad_kind' (" + fixture("attrib_fixture_bad_kind.so") +
                        ") has unknown kind 7"));
  EXPECT_THAT(errors["attrib_fixture_null_name.so"], HasSubstr("plugin descriptor has no name"));
  EXPECT_THAT(errors["attrib_fixture_bad_metadata.so"],
              HasSubstr("plugin 'bad_metadata': metadata_json is not valid JSON ("));
}

TEST_F(RegistryFixtures, DuplicateNameFirstWins) {
  auto errors = errors_by_file(registry);
  EXPECT_EQ(errors["attrib_fixture_duplicate_b.so"],
            "plugin 'duplicate_name' (" + fixture("attrib_fixture_duplicate_b.so") +
                ") ignored: a plugin of that name was already loaded from " +
                fixture("attrib_fixture_duplicate_a.so"));
  const attrib::PluginInfo* p = registry.find("duplicate_name", ATTRIB_KIND_METHOD);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->path, fixture("attrib_fixture_duplicate_a.so"));
}

TEST_F(RegistryFixtures, ExactlyTheBrokenOnesFailEachOnOneLine) {
  std::vector<std::string> failed;
  for (const auto& e : registry.errors()) {
    failed.push_back(fs::path(e.path).filename().string());
    EXPECT_EQ(e.message.find('\n'), std::string::npos) << e.message;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(failed, (std::vector<std::string>{
                        "attrib_fixture_bad_kind.so", "attrib_fixture_bad_metadata.so",
                        "attrib_fixture_duplicate_b.so", "attrib_fixture_future_abi.so",
                        "attrib_fixture_no_entry.so", "attrib_fixture_null_entry.so",
                        "attrib_fixture_null_name.so", "attrib_fixture_old_torch.so",
                        "attrib_fixture_short_struct.so", "attrib_not_a_library.so"}));
}

TEST_F(RegistryFixtures, HealthyFixturesLoad) {
  const attrib::PluginInfo* ok = registry.find("fixture_ok", ATTRIB_KIND_METHOD);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->version, "1.0.0");
  EXPECT_EQ(ok->path, fixture("attrib_fixture_ok.so"));
  EXPECT_EQ(ok->abi_version, uint32_t{ATTRIB_ABI_VERSION});
  EXPECT_EQ(ok->fingerprint, attrib::host_fingerprint());
  EXPECT_EQ(ok->metadata["params"]["value"]["default"], 0.0);
  EXPECT_NE(registry.find("throws_on_create", ATTRIB_KIND_METHOD), nullptr);
  EXPECT_NE(registry.find("consumer_gradient_sign", ATTRIB_KIND_METHOD), nullptr);
  const attrib::PluginInfo* model = registry.find("fixture_model", ATTRIB_KIND_MODEL);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->capabilities,
            uint64_t{ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS});
  EXPECT_EQ(registry.find("fixture_model", ATTRIB_KIND_METHOD), nullptr);
  EXPECT_NE(registry.find("fixture_faulty", ATTRIB_KIND_METHOD), nullptr);
  EXPECT_EQ(registry.plugins().size(), 6u);
}

TEST_F(RegistryFixtures, LoadFileReportsAndSkipsRepeats) {
  attrib::Registry r;
  EXPECT_FALSE(r.load_file(fixture("attrib_fixture_no_entry.so")));
  EXPECT_TRUE(r.load_file(fixture("attrib_fixture_ok.so")));
  EXPECT_TRUE(r.load_file(fixture("attrib_fixture_ok.so")));  // same file again: no duplicate
  EXPECT_EQ(r.plugins().size(), 1u);
  ASSERT_EQ(r.errors().size(), 1u);
  EXPECT_EQ(r.errors()[0].path, fixture("attrib_fixture_no_entry.so"));
  EXPECT_FALSE(r.load_file(fixture("attrib_fixture_no_entry.so")));  // same outcome, no new error
  EXPECT_EQ(r.errors().size(), 1u);
  EXPECT_FALSE(r.load_file(kFixtureDir + "/does_not_exist.so"));
  EXPECT_THAT(r.errors().back().message, HasSubstr("not a loadable shared library ("));
}

TEST_F(RegistryFixtures, FactoryExceptionBecomesError) {
  EXPECT_EQ(error_of([&] { registry.create_method("throws_on_create", json::object()); }),
            "plugin 'throws_on_create' failed to create: deliberate failure in constructor");
}

TEST_F(RegistryFixtures, InvalidParamsNameTheJsonPath) {
  EXPECT_EQ(error_of([&] {
              registry.create_method("fixture_ok", {{"value", "big"}}, "methods[2].params");
            }),
            "methods[2].params.value: expected number >= 0, got \"big\"");
  EXPECT_THAT(error_of([&] {
                registry.create_method("fixture_ok", {{"valu", 1}}, "methods[0].params");
              }),
              HasSubstr("methods[0].params.valu: unknown parameter"));
  EXPECT_THAT(error_of([&] {
                registry.resolve("fixture_ok", ATTRIB_KIND_METHOD, {{"mode", "c"}}, "p");
              }),
              HasSubstr("p.mode: expected one of \"a\", \"b\""));
}

TEST_F(RegistryFixtures, ResolveFillsDefaults) {
  json r = registry.resolve("fixture_ok", ATTRIB_KIND_METHOD, json(), "params");
  EXPECT_EQ(r, json::parse(R"({"value": 0.0, "mode": "a"})"));
  r = registry.resolve("fixture_ok", ATTRIB_KIND_METHOD, {{"value", 2}}, "params");
  EXPECT_EQ(r["value"], 2);
}

TEST_F(RegistryFixtures, UnknownNamesListTheKnownOnes) {
  const std::string m = error_of([&] { registry.create_method("nope", json::object()); });
  EXPECT_THAT(m, HasSubstr("unknown method 'nope'"));
  EXPECT_THAT(m, HasSubstr("fixture_ok"));
  EXPECT_THAT(m, HasSubstr("consumer_gradient_sign"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("fixture_model")));
  // A name of the other kind says so.
  EXPECT_THAT(error_of([&] { registry.create_method("fixture_model", json::object()); }),
              HasSubstr("'fixture_model' is a model"));
  EXPECT_THAT(
      error_of([&] { registry.create_model("fixture_ok", json::object()); }),
      HasSubstr("unknown model 'fixture_ok' ('fixture_ok' is a method) (known: fixture_model)"));
  EXPECT_THAT(error_of([&] { registry.resolve("nope", ATTRIB_KIND_MODEL, json(), "p"); }),
              HasSubstr("unknown model 'nope'"));
}

TEST_F(RegistryFixtures, HealthyMethodExplains) {
  auto method = registry.create_method("fixture_ok", {{"value", 0}});
  auto model = registry.create_model("fixture_model", json::object());
  attrib::Batch batch = dense_batch();
  attrib::Explanation e = method->explain(*model, batch, at::tensor({0, 1}, at::kLong), {});
  EXPECT_TRUE(at::equal(e.attributions, at::zeros({2, 3})));
}

TEST_F(RegistryFixtures, ConsumerPluginComputesGradientSign) {
  auto method = registry.create_method("consumer_gradient_sign", json::object());
  auto model = registry.create_model("fixture_model", json::object());
  attrib::Batch batch = dense_batch();
  attrib::ExplainContext ctx;
  ctx.max_rows = 1;  // one row at a time
  attrib::Explanation e = method->explain(*model, batch, at::tensor({0, 1}, at::kLong), ctx);
  // Linear model: d logit_c / dx = W[c]; W = [[1, -2, 0.5], [-1, 3, 0]].
  EXPECT_TRUE(
      at::equal(e.attributions, at::tensor({1.f, -1.f, 1.f, -1.f, 1.f, 0.f}).reshape({2, 3})))
      << e.attributions;
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.info["multiply_by_input"], false);
}

TEST(Registry, ObjectsOutliveTheRegistry) {
  std::shared_ptr<attrib::AttributionMethod> method;
  std::shared_ptr<attrib::ModelAdapter> model, copy;
  {
    attrib::Registry r;
    r.load_directories({kFixtureDir});
    method = r.create_method("consumer_gradient_sign", {{"multiply_by_input", true}});
    model = r.create_model("fixture_model", {{"scale", 2.0}});
  }
  copy = attrib::clone_model(model);
  model.reset();  // the clone keeps the original (and its library) alive
  attrib::Batch batch = dense_batch();
  attrib::Explanation e = method->explain(*copy, batch, at::tensor({1, 1}, at::kLong), {});
  EXPECT_TRUE(
      at::equal(e.attributions, at::tensor({-1.f, 2.f, 0.f, 1.f, 0.5f, 0.f}).reshape({2, 3})))
      << e.attributions;
  EXPECT_EQ(copy->info().name, "fixture_model");
  method.reset();
  copy.reset();
}

TEST(Registry, CloneIsIndependent) {
  attrib::Registry r;
  r.load_directories({kFixtureDir});
  auto model = r.create_model("fixture_model", json::object());
  auto copy = attrib::clone_model(model);
  for (auto& layer : copy->layers())
    for (auto& [name, t] : layer.parameters) t.zero_();
  at::Tensor x = at::ones({1, 3});
  EXPECT_TRUE(at::equal(copy->forward(x, {}), at::zeros({1, 2})));
  EXPECT_FALSE(at::equal(model->forward(x, {}), at::zeros({1, 2})));
}

TEST(Registry, SearchPathOrderAndEnvironment) {
  {
    ScopedEnv env("ATTRIB_PLUGIN_PATH", std::nullopt);
    EXPECT_EQ(attrib::Registry::search_path({"/a", "/b"}),
              (std::vector<std::string>{"/a", "/b", attrib::builtin_plugin_dir()}));
  }
  ScopedEnv env("ATTRIB_PLUGIN_PATH", "/nonexistent/one::" + kFixtureDir + ":");
  EXPECT_EQ(attrib::Registry::search_path({"/a"}),
            (std::vector<std::string>{"/a", "/nonexistent/one", kFixtureDir,
                                      attrib::builtin_plugin_dir()}));
  attrib::Registry r;
  r.load_directories(attrib::Registry::search_path({}));  // missing folders are skipped silently
  EXPECT_NE(r.find("fixture_ok", ATTRIB_KIND_METHOD), nullptr);
  for (const auto& e : r.errors()) EXPECT_THAT(e.message, ::testing::Not(HasSubstr("nonexistent")));
}

TEST(Registry, BuiltinPluginDirIsNextToTheExecutable) {
  EXPECT_EQ(fs::weakly_canonical(attrib::builtin_plugin_dir()), fs::weakly_canonical(kBuiltinDir));
}

TEST(Registry, HostFingerprint) {
  const std::string f = attrib::host_fingerprint();
  EXPECT_EQ(f.rfind("libtorch=" + std::to_string(TORCH_VERSION_MAJOR) + "." +
                        std::to_string(TORCH_VERSION_MINOR) + ";cxx11_abi=",
                    0),
            0u)
      << f;
  EXPECT_THAT(f, ::testing::MatchesRegex("libtorch=[0-9]+\\.[0-9]+;cxx11_abi=[01];cuda=[01]"));
}

// The built-in plugins load cleanly next to the broken fixtures (fixtures first on the path).
TEST(Registry, BuiltinPluginsLoadNextToBrokenOnes) {
  attrib::Registry r;
  r.load_directories({kFixtureDir, kBuiltinDir});
  EXPECT_NE(r.find("fixture_ok", ATTRIB_KIND_METHOD), nullptr);
  size_t builtin = 0;
  std::error_code ec;
  for (fs::directory_iterator it(kBuiltinDir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".so") continue;
    ++builtin;
    const std::string path = it->path().lexically_normal().string();
    bool loaded = false;
    for (const auto& p : r.plugins()) loaded = loaded || p.path == path;
    EXPECT_TRUE(loaded) << path << " did not load";
    for (const auto& e : r.errors()) EXPECT_NE(e.path, path) << e.message;
  }
  EXPECT_EQ(r.plugins().size(), 6u + builtin);
}

// A folder reached twice (directly and through a symbolic link) loads each file once.
TEST(Registry, SameFilesThroughALinkLoadOnce) {
  const fs::path tmp = fs::path(ATTRIB_TEST_TMP) / "registry_link";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::create_directory_symlink(kFixtureDir, tmp / "plugins");
  attrib::Registry once, twice;
  once.load_directories({kFixtureDir});
  twice.load_directories({kFixtureDir, (tmp / "plugins").string(), kFixtureDir});
  EXPECT_EQ(twice.plugins().size(), once.plugins().size());
  EXPECT_EQ(twice.errors().size(), once.errors().size());
  fs::remove_all(tmp);
}
