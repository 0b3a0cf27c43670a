#pragma once
// What the command-line tests share: running the attrib binary in an isolated cache and the small
// suite they run (a tiny transformer trained on planted text, five methods, two metrics).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace attrib_test {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

/// `name` made unique to this test process. ctest runs every test in a process of its own, two
/// at a time, so what several tests set up for themselves (a fixture's run, a reference run) must
/// not share a path: two runs into one folder collide on its lock.
inline std::string per_process(const std::string& name) {
  return name + "-" + std::to_string(::getpid());
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `launcher` (e.g. "mpirun -n 2", or nothing) on attrib with `args` (shell words) in an
// isolated cache, with `env` assignments; captures stdout and stderr.
inline Result attrib_with_launcher(const std::string& launcher, const std::string& args,
                                   const std::string& tag, const std::string& env = "") {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "cli";
  fs::create_directories(dir);
  const fs::path out = dir / (tag + ".out"), err = dir / (tag + ".err");
  const std::string cmd = "env " + env + " ATTRIB_CACHE_DIR='" + (dir / "cache").string() + "' " +
                          launcher + " '" ATTRIB_BIN "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// Runs attrib with `args` (shell words) in an isolated cache; captures stdout and stderr.
inline Result attrib(const std::string& args, const std::string& tag, const std::string& env = "") {
  return attrib_with_launcher("", args, tag, env);
}

// Written to a temporary file and renamed, so that a test reading the same suite in another
// process never sees it half written.
inline fs::path write_suite(const std::string& name, const json& suite) {
  const fs::path p = fs::path(ATTRIB_TEST_TMP) / "cli" / name;
  fs::create_directories(p.parent_path());
  const fs::path tmp = p.string() + "." + per_process("tmp");
  std::ofstream(tmp) << suite.dump(2);
  fs::rename(tmp, p);
  return p;
}

inline json small_suite() {
  return json::parse(R"JSON({
    "schema_version": 1, "name": "small", "seed": 3, "batch_cap": 64, "explain_batch": 8,
    "statistics": {"bootstrap_resamples": 200},
    "datasets": [{"name": "planted", "spec": "synthetic:planted_text",
                  "params": {"n_train": 600, "n_val": 100, "n_test": 40, "min_len": 6,
                             "max_len": 12, "filler_words": 200},
                  "max_examples": 24, "max_len": 32}],
    "models": [{"name": "tiny", "plugin": "text_transformer",
                "params": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32},
                "train": {"epochs": 12, "learning_rate": 0.005, "patience": 3}}],
    "methods": [{"plugin": "random"}, {"plugin": "saliency"}, {"plugin": "input_x_gradient"},
                {"plugin": "integrated_gradients", "params": {"n_steps": 16}},
                {"plugin": "occlusion"}],
    "metrics": [{"metric": "deletion"}, {"metric": "insertion"}]
  })JSON");
}

/// small_suite() with 4 methods (12 explanation units of 3 batches, 24 score units with its 2
/// metrics) and the agreement analysis (1 unit): the suite of the store, resume and shard tests.
inline json units_suite() {
  json s = small_suite();
  s["methods"] = json::parse(R"([{"plugin": "random"}, {"plugin": "saliency"},
      {"plugin": "integrated_gradients", "params": {"n_steps": 8}}, {"plugin": "occlusion"}])");
  s["agreement"] = {{"k", 0.25}};
  return s;
}

inline json results_of(const fs::path& out) { return json::parse(slurp(out / "results.json")); }

/// The parts of a run that must not depend on how it was split over processes or interruptions.
inline void expect_same_results(const json& a, const json& b) {
  for (const char* key : {"rows", "leaderboards", "agreement", "errors"})
    EXPECT_EQ(a[key], b[key]) << key;
}

}  // namespace attrib_test
