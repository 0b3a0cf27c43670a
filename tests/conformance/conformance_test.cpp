// Plugin conformance suite: every method plugin found at run time is explained on the fixture
// models it is compatible with and must keep the AttributionMethod contract (attrib/method.h):
// documented shapes and finite values, batch invariance, ExplainContext::max_rows, the same
// numbers under the same seed, row counts that match what the model saw, and an info() that
// records every resolved parameter.
//
//   attrib_conformance [--plugin-dir DIR]... [gtest flags]
//
// Without --plugin-dir it checks every method plugin on the search path (the built-in ones);
// with it, only the method plugins of those folders (a third party's library). Model fixtures
// come from the built-in model plugins and the analytic models of tests/unit/test_models.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "attrib/input_space.h"
#include "fixtures.h"

using nlohmann::json;

namespace {

namespace fs = std::filesystem;
using conformance::Fixture;
using conformance::RecordingModel;

// Known, explained departures from a check (each is printed as "[ known ]" when it applies, and
// listed in the report of the change that found it). Row accounting: plugins whose reported rows
// are not what passed through ModelAdapter.
const std::map<std::string, std::string> kRowAccountingExceptions = {
    {"deeplift",
     "runs the layers op by op (SequentialNetwork); only its probe row reaches forward"},
    {"lrp", "runs the layers op by op (SequentialNetwork); only its probe row reaches forward"},
    {"guided_backprop",
     "runs the layers op by op (SequentialNetwork); only its probe row reaches forward"},
};

// info() departures: a resolved parameter missing from info, or recorded under another key (then
// info[alias] must hold the value). `modality`: only on that kind of fixture ("" for both).
struct InfoException {
  const char* plugin;
  const char* key;
  const char* modality;  // "dense", "text" or ""
  const char* alias;     // "" when the value is not recorded at all
  const char* reason;
};
constexpr const char* kTokenText = "the replacement token applies to text only";
constexpr const char* kBaselineDense = "baseline_value applies to dense input only";
const std::vector<InfoException> kInfoExceptions = {
    {"integrated_gradients", "method", "", "rule", "recorded as info[\"rule\"]"},
    {"attention", "layer", "", "layer_param",
     "info[\"layer\"] holds the resolved layer index, the parameter is info[\"layer_param\"]"},
    {"feature_ablation", "groups", "", "", "recorded as a summary (\"one per feature\"/\"given\")"},
    {"shapley_exact", "max_features", "", "", "not recorded (a limit that only refuses)"},
    {"lrp", "alpha", "", "", "recorded only for the alpha_beta rule"},
    {"lrp", "beta", "", "", "recorded only for the alpha_beta rule"},
    {"lrp", "gamma", "", "", "recorded only for the gamma and epsilon_gamma rules"},
    {"lrp", "stabilizer", "", "", "recorded only for the rules that use it (not epsilon)"},
    {"lrp", "set_bias_to_zero", "", "", "recorded as a description in info[\"bias\"]"},
    {"occlusion", "token", "dense", "", kTokenText},
    {"occlusion", "baseline_value", "text", "", kBaselineDense},
    {"feature_ablation", "token", "dense", "", kTokenText},
    {"feature_ablation", "baseline_value", "text", "", kBaselineDense},
    {"shapley_exact", "token", "dense", "", kTokenText},
    {"shapley_exact", "baseline_value", "text", "", kBaselineDense},
    {"shapley_sampling", "token", "dense", "", kTokenText},
    {"shapley_sampling", "baseline_value", "text", "", kBaselineDense},
    {"kernel_shap", "token", "dense", "", kTokenText},
    {"kernel_shap", "baseline_value", "text", "", kBaselineDense},
    {"lime", "token", "dense", "", kTokenText},
    {"lime", "baseline_value", "text", "", kBaselineDense},
};

const InfoException* info_exception(const std::string& plugin, const std::string& key,
                                    attrib::Modality modality) {
  const std::string m = modality == attrib::Modality::kText ? "text" : "dense";
  for (const auto& e : kInfoExceptions)
    if (plugin == e.plugin && key == e.key && (!*e.modality || m == e.modality)) return &e;
  return nullptr;
}

// Parameters checked besides the defaults: the configurations of the hand-written checks this
// suite replaced (paths that the defaults do not take: other rules, windows, modes, baselines).
const std::map<std::string, std::vector<json>> kVariants = {
    {"integrated_gradients", {{{"n_steps", 7}, {"method", "riemann_middle"}}}},
    {"occlusion", {{{"window", 2}, {"stride", 1}}}},
    {"input_independent", {{{"kind", "abs_input"}}}},
    {"smoothgrad",
     {{{"n_samples", 5}}, {{"n_samples", 4}, {"mode", "vargrad"}, {"noise_scale", "relative"}}}},
    {"gradient_shap", {{{"n_samples", 5}, {"stdevs", 0.1}, {"baseline", "gaussian"}}}},
    {"feature_ablation", {{{"groups", {0, 1, 0}}}}},
    {"shapley_sampling", {{{"n_permutations", 4}}}},
    {"kernel_shap", {{{"n_samples", 4}}}},
    {"lime", {{{"n_samples", 20}}}},
};

constexpr uint64_t kSeed = 7;
constexpr double kTolerance = 1e-6;  // as the hand-written checks this suite replaced

// What main() loaded: the registry, the plugins under test and the fixtures.
struct Setup {
  std::unique_ptr<attrib::Registry> registry;
  std::vector<std::string> plugins;
  std::vector<Fixture> fixtures;
  std::vector<std::string> notes;
  std::string scratch_dir;
};
Setup& setup() {
  static Setup s;
  return s;
}

std::string cap_names(uint64_t caps) {
  std::string out;
  for (const auto& n : attrib::capability_names(caps)) out += (out.empty() ? "" : ", ") + n;
  return out;
}

attrib::Explanation explain(attrib::AttributionMethod& method, RecordingModel& model,
                            const attrib::Batch& batch, const at::Tensor& targets,
                            int64_t max_rows = 256, uint64_t seed = kSeed) {
  attrib::ExplainContext ctx;
  ctx.seed = seed;
  ctx.max_rows = max_rows;
  return method.explain(model, batch, targets, ctx);
}

// One fixture a plugin explains, with the reference explanation (whole batch, max_rows 256).
struct Case {
  const Fixture* fixture;
  attrib::Explanation full;
  conformance::Rows rows;
};

// One parameter set of a plugin and the fixtures it explains: per modality, the first fixture that
// offers the plugin's capabilities and that it explains without an error.
struct Config {
  json params, resolved;
  std::shared_ptr<attrib::AttributionMethod> method;
  std::vector<Case> cases;
  std::vector<std::string> notes;  // why fixtures were passed over
  bool refused = false;            // a fixture offering its capabilities made it throw
  std::string label() const { return "params " + params.dump(); }
};

struct PluginCases {
  std::vector<Config> configs;  // the defaults first, then kVariants
  std::string unusable;         // a required parameter the suite cannot choose: skipped
  std::string broken;           // resolving or creating it threw: failed
};

Config select_fixtures(const std::string& name, const json& params) {
  const Setup& s = setup();
  const attrib::PluginInfo* info = s.registry->find(name, ATTRIB_KIND_METHOD);
  Config c;
  c.params = params;
  c.resolved = s.registry->resolve(name, ATTRIB_KIND_METHOD, params, "params");
  c.method = s.registry->create_method(name, params);
  std::set<attrib::Modality> done;
  for (const Fixture& f : s.fixtures) {
    if (done.count(f.batch.modality)) continue;
    const uint64_t missing = info->capabilities & ~f.model->info().capabilities;
    if (missing) {
      c.notes.push_back(f.name + ": lacks [" + cap_names(missing) + "]");
      continue;
    }
    RecordingModel model(f.model);
    try {
      attrib::Explanation e = explain(*c.method, model, f.batch, f.targets);
      c.cases.push_back({&f, std::move(e), model.rows()});
      done.insert(f.batch.modality);
    } catch (const std::exception& e) {
      c.notes.push_back(f.name + ": " + e.what());
      c.refused = true;
    }
  }
  return c;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

PluginCases select_cases(const std::string& name) {
  const Setup& s = setup();
  PluginCases pc;
  json params = json::object();
  try {
    s.registry->resolve(name, ATTRIB_KIND_METHOD, params, "params");
  } catch (const std::exception& e) {
    // A required parameter without a default: only a few built-in ones are known to the suite.
    params = conformance::required_params(name, s.fixtures, s.scratch_dir);
    if (params.is_null()) {
      pc.unusable = std::string("needs parameters the suite cannot choose: ") + e.what();
      return pc;
    }
  }
  try {
    pc.configs.push_back(select_fixtures(name, params));
    if (auto v = kVariants.find(name); v != kVariants.end())
      for (const json& p : v->second) pc.configs.push_back(select_fixtures(name, p));
  } catch (const std::exception& e) {  // resolving or creating failed: the plugin is broken
    pc.broken = e.what();
  }
  return pc;
}

const PluginCases& cases_of(const std::string& name) {
  static std::map<std::string, PluginCases> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    it = cache.emplace(name, select_cases(name)).first;
    for (const Config& c : it->second.configs) {  // which fixtures the checks below use
      std::cout << "[ fixtures ] " << name << " " << c.label() << ":";
      for (const Case& k : c.cases) std::cout << " " << k.fixture->name;
      if (!c.notes.empty()) std::cout << "; passed over:" << joined(c.notes);
      std::cout << "\n";
    }
  }
  return it->second;
}

// Largest |a - b| over elements, NaN where the two differ in NaN-ness (so it fails any bound).
double max_diff(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kCPU, at::kDouble), y = b.to(at::kCPU, at::kDouble);
  const at::Tensor both_nan = x.isnan().logical_and(y.isnan());
  const at::Tensor d = at::where(both_nan, at::zeros_like(x), (x - y).abs());
  return d.numel() == 0 ? 0.0 : d.max().item<double>();
}

void expect_same(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double d = max_diff(got, want);
  EXPECT_LE(d, kTolerance) << what << ": max |difference| " << d;
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  // The (parameter set, fixture) pairs to check. Skips when the plugin cannot be created or no
  // fixture offers its capabilities; fails a parameter set that explains none of the fixtures
  // that offer them.
  std::vector<std::pair<const Config*, const Case*>> cases() {
    const PluginCases& pc = cases_of(GetParam());
    std::vector<std::pair<const Config*, const Case*>> out;
    if (!pc.unusable.empty()) return out;
    if (!pc.broken.empty()) {
      ADD_FAILURE() << GetParam() << ": " << pc.broken;
      return out;
    }
    for (const Config& c : pc.configs) {
      if (c.cases.empty() && c.refused)
        ADD_FAILURE() << GetParam() << " (" << c.label()
                      << ") explains none of the fixtures that offer its capabilities:"
                      << joined(c.notes);
      for (const Case& k : c.cases) out.emplace_back(&c, &k);
    }
    return out;
  }
  std::string skip_reason() {
    const PluginCases& pc = cases_of(GetParam());
    if (!pc.unusable.empty()) return pc.unusable;
    return "no fixture model offers its capabilities:" + joined(pc.configs.front().notes);
  }
};

// `all`: the (parameter set, fixture) pairs of the plugin; skips the test when there are none.
#define CONFORMANCE_CASES(all)                        \
  const auto all = cases();                           \
  if (all.empty()) {                                  \
    if (!HasFailure()) GTEST_SKIP() << skip_reason(); \
    return;                                           \
  }

std::string where(const Config& config, const Case& c) {
  return c.fixture->name + ", " + config.label();
}

TEST_P(Conformance, ShapesAndFiniteValues) {
  CONFORMANCE_CASES(all);
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    const attrib::Batch& batch = c->fixture->batch;
    const at::Tensor& a = c->full.attributions;
    ASSERT_TRUE(a.defined());
    EXPECT_TRUE(a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble)
        << "expected float32 or float64, got " << a.scalar_type();
    if (batch.modality == attrib::Modality::kDense) {
      EXPECT_EQ(a.sizes(), batch.inputs.sizes()) << "expected the input's shape [B, ...]";
    } else {
      const int64_t d = c->fixture->model->embed(batch.inputs).size(2);
      const bool tokens = a.dim() == 2 && a.sizes() == batch.inputs.sizes();
      const bool embeddings = a.dim() == 3 && a.size(0) == batch.size() &&
                              a.size(1) == batch.inputs.size(1) && a.size(2) == d;
      EXPECT_TRUE(tokens || embeddings) << "expected [B, T] = " << batch.inputs.sizes()
                                        << " or [B, T, d] with d = " << d << ", got " << a.sizes();
    }
    EXPECT_TRUE(at::isfinite(a).all().item<bool>()) << "attributions hold NaN or infinity";
    for (const auto& [key, value] : c->full.extras)
      EXPECT_EQ(value.sizes(), (std::vector<int64_t>{batch.size()})) << "extra " << key;
  }
}

TEST_P(Conformance, BatchInvariant) {
  CONFORMANCE_CASES(all);
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    for (int64_t i = 0; i < c->fixture->batch.size(); ++i) {
      RecordingModel model(c->fixture->model);
      const attrib::Explanation e =
          explain(*config->method, model, attrib::slice_batch(c->fixture->batch, i, i + 1),
                  c->fixture->targets.slice(0, i, i + 1));
      const std::string what = "example " + std::to_string(i) + " alone";
      expect_same(e.attributions[0], c->full.attributions[i], what);
      for (const auto& [key, value] : c->full.extras) {
        ASSERT_TRUE(e.extras.count(key)) << what << " lacks extra " << key;
        expect_same(e.extras.at(key)[0], value[i], what + ", extra " + key);
      }
    }
  }
}

TEST_P(Conformance, WithinMaxRows) {
  CONFORMANCE_CASES(all);
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    for (int64_t cap : {1, 2, 4, 5}) {
      RecordingModel model(c->fixture->model);
      const attrib::Explanation e =
          explain(*config->method, model, c->fixture->batch, c->fixture->targets, cap);
      EXPECT_LE(model.rows().largest_forward, cap) << "forward batch under max_rows " << cap;
      EXPECT_LE(model.rows().largest_backward, cap) << "backward batch under max_rows " << cap;
      expect_same(e.attributions, c->full.attributions, "max_rows " + std::to_string(cap));
    }
  }
}

TEST_P(Conformance, SameSeedSameNumbers) {
  CONFORMANCE_CASES(all);
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    RecordingModel model(c->fixture->model);
    EXPECT_TRUE(explain(*config->method, model, c->fixture->batch, c->fixture->targets)
                    .attributions.equal(c->full.attributions))
        << "seed " << kSeed << " twice";
    // A new instance too: no state carried between explain() calls decides the numbers.
    RecordingModel fresh_model(c->fixture->model);
    auto fresh = setup().registry->create_method(GetParam(), config->params);
    EXPECT_TRUE(explain(*fresh, fresh_model, c->fixture->batch, c->fixture->targets)
                    .attributions.equal(c->full.attributions))
        << "seed " << kSeed << ", new instance";
  }
}

// Explanation::forward_rows / backward_rows against the rows the model saw, whole batch and
// under max_rows 2.
TEST_P(Conformance, RowCountsMatchTheModel) {
  CONFORMANCE_CASES(all);
  const auto known = kRowAccountingExceptions.find(GetParam());
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    RecordingModel capped(c->fixture->model);
    const attrib::Explanation e2 =
        explain(*config->method, capped, c->fixture->batch, c->fixture->targets, 2);
    for (const auto& [e, rows] :
         {std::make_pair(&c->full, c->rows), std::make_pair(&e2, capped.rows())}) {
      if (known != kRowAccountingExceptions.end() &&
          (e->forward_rows != rows.forward || e->backward_rows != rows.backward)) {
        std::cout << "[ known    ] " << GetParam() << " on " << where(*config, *c)
                  << ": reports forward/backward rows " << e->forward_rows << "/"
                  << e->backward_rows << ", the model saw " << rows.forward << "/" << rows.backward
                  << " (" << known->second << ")\n";
        continue;
      }
      EXPECT_EQ(e->forward_rows, rows.forward) << "Explanation::forward_rows";
      EXPECT_EQ(e->backward_rows, rows.backward) << "Explanation::backward_rows";
    }
  }
}

TEST_P(Conformance, InfoRecordsResolvedParameters) {
  CONFORMANCE_CASES(all);
  for (const auto& [config, c] : all) {
    SCOPED_TRACE(where(*config, *c));
    const json& info = c->full.info;
    for (const auto& [key, value] : config->resolved.items()) {
      std::string at = key;
      const InfoException* known = info_exception(GetParam(), key, c->fixture->batch.modality);
      if (known && *known->alias) at = known->alias;
      const bool ok = info.contains(at) && info[at] == value;
      if (known && (!ok || at != key)) {
        std::cout << "[ known    ] " << GetParam() << " on " << c->fixture->name << ": info[\""
                  << key << "\"] " << (ok ? "ok as info[\"" + at + "\"]" : "missing") << " ("
                  << known->reason << ")\n";
        if (!*known->alias) continue;
      }
      EXPECT_TRUE(ok) << "info[\"" << at << "\"]: expected " << value.dump() << ", got "
                      << (info.contains(at) ? info[at].dump() : "no such key") << " (info "
                      << info.dump() << ")";
    }
  }
}

std::vector<std::string> plugins_under_test() { return setup().plugins; }

// gtest names allow only letters, digits and '_'.
std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Plugins, Conformance, ::testing::ValuesIn(plugins_under_test()),
                         test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

bool same_folder(const std::string& file, const std::string& dir) {
  std::error_code ec;
  return fs::equivalent(fs::path(file).parent_path(), dir, ec);
}

// Loads the plugins and picks those under test; returns an exit code, or -1 to go on.
int load(const std::vector<std::string>& dirs) {
  Setup& s = setup();
  for (const auto& d : dirs) {
    if (!fs::is_directory(d)) {
      std::cerr << "attrib_conformance: --plugin-dir '" << d << "': expected a folder\n";
      return 2;
    }
  }
  s.registry = std::make_unique<attrib::Registry>();
  s.registry->load_directories(attrib::Registry::search_path(dirs));
  int bad = 0;
  for (const auto& err : s.registry->errors()) {
    const bool ours = dirs.empty() || std::any_of(dirs.begin(), dirs.end(), [&](const auto& d) {
                        return same_folder(err.path, d);
                      });
    std::cerr << "attrib_conformance: " << (ours ? "error" : "warning") << ": " << err.path << ": "
              << err.message << "\n";
    bad += ours;
  }
  if (bad) return 1;
  for (const auto& p : s.registry->plugins()) {
    if (p.kind != ATTRIB_KIND_METHOD) continue;
    if (dirs.empty() || std::any_of(dirs.begin(), dirs.end(),
                                    [&](const auto& d) { return same_folder(p.path, d); }))
      s.plugins.push_back(p.name);
  }
  if (s.plugins.empty()) {
    std::cerr << "attrib_conformance: no method plugin found";
    for (const auto& d : dirs) std::cerr << " in '" << d << "'";
    std::cerr << "\n";
    return 1;
  }
  s.fixtures = conformance::make_fixtures(*s.registry, &s.notes);
  for (const auto& n : s.notes) std::cerr << "attrib_conformance: note: " << n << "\n";
  s.scratch_dir =
      (fs::temp_directory_path() / ("attrib_conformance_" + std::to_string(::getpid()))).string();
  fs::create_directories(s.scratch_dir);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  // The plugins are loaded before InitGoogleTest, which evaluates the INSTANTIATE generators.
  std::vector<std::string> dirs;
  std::vector<char*> rest{argv[0]};
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--plugin-dir" && i + 1 < argc) {
      dirs.push_back(argv[++i]);
    } else if (a.rfind("--plugin-dir=", 0) == 0) {
      dirs.push_back(a.substr(13));
    } else {
      help = help || a == "--help" || a == "-h" || a == "-?";
      rest.push_back(argv[i]);
    }
  }
  if (help) {
    std::cout << "attrib_conformance [--plugin-dir DIR]... [gtest flags]\n"
                 "  Checks the method plugins of each DIR (default: every method plugin on the\n"
                 "  search path) against the AttributionMethod contract.\n\n";
  } else if (const int rc = load(dirs); rc >= 0) {
    return rc;
  }
  int n = static_cast<int>(rest.size());
  rest.push_back(nullptr);  // gtest shifts argv[0..argc] including the terminating null
  ::testing::InitGoogleTest(&n, rest.data());  // removes the gtest flags it knows
  if (help) return 0;
  if (n > 1) {
    std::cerr << "attrib_conformance: unknown argument '" << rest[1]
              << "' (expected --plugin-dir DIR or a gtest flag)\n";
    return 2;
  }
  const int rc = RUN_ALL_TESTS();
  std::error_code ec;
  fs::remove_all(setup().scratch_dir, ec);
  return rc;
}
