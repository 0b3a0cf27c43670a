#pragma once
// What the command-line tests share: running the attrib binary in an isolated cache and the small
// suite they run (a tiny transformer trained on planted text, five methods, two metrics).
#include <sys/wait.h>

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

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs attrib with `args` (shell words) in an isolated cache; captures stdout and stderr.
inline Result attrib(const std::string& args, const std::string& tag, const std::string& env = "") {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "cli";
  fs::create_directories(dir);
  const fs::path out = dir / (tag + ".out"), err = dir / (tag + ".err");
  const std::string cmd = env + " ATTRIB_CACHE_DIR='" + (dir / "cache").string() +
                          "' '" ATTRIB_BIN "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

inline fs::path write_suite(const std::string& name, const json& suite) {
  const fs::path p = fs::path(ATTRIB_TEST_TMP) / "cli" / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << suite.dump(2);
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

}  // namespace attrib_test
