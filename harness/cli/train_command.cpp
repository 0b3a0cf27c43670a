#include "train_command.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "attrib/error.h"
#include "attrib/params.h"
#include "config.h"
#include "data/dataset.h"
#include "progress.h"
#include "registry.h"
#include "runner.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kTrainHelp =
    R"(usage: attrib train --model PLUGIN --dataset SPEC --out MODEL.pt [options]

Trains a model plugin on the dataset's train split with early stopping on its val split, or
reuses the model cache ($ATTRIB_CACHE_DIR/models) that `attrib run` shares: the same plugin,
parameters, data and options train once, whichever command asks first. Copies the checkpoint to
MODEL.pt and writes the report (val accuracy and macro-F1, epochs run, per-epoch history, the
options, the dataset spec and hash, test accuracy and macro-F1 when the dataset has a test split
that training did not use) to MODEL.json beside it. The checkpoint loads back with the plugin's
checkpoint parameter: `attrib explain --model PLUGIN:MODEL.pt ...`, or "params":
{"checkpoint": "MODEL.pt"} in a suite.

  --model PLUGIN          model plugin (see `attrib plugins`), e.g. text_transformer
  --dataset SPEC          dataset spec (see `attrib data --help`)
  --out FILE              where the checkpoint goes (the report goes to FILE with .json)
  --param K=V             model parameter (repeatable); V is parsed as JSON, else a string
  --dataset-param K=V     dataset reader/generator parameter (repeatable)
  --name NAME             dataset name (default data; synthetic example ids carry it, so use
                          the suite's dataset name to share its cached model)
  --epochs N              maximum epochs (default 10)
  --batch-size N          examples per optimiser step (default 64)
  --lr X                  Adam learning rate (default 0.001)
  --weight-decay X        Adam weight decay (default 0)
  --patience N            stop after N epochs without a better val accuracy (default 3)
  --seed N                initialisation and shuffling seed (default 0)
  --train-split S         split trained on: train (default), val or test
  --val-split S           split for early stopping: val (default), train or test
  --val-fraction F        carve this fraction (0 < F < 1) of the training split off as
                          validation instead (per-example hash; for corpora without a split)
  --max-len N             text: tokens kept per example (default 128)
  --vocab-min-freq N      text: minimum count of a vocabulary word (wordpiece: of a merged
                          pair) in the training split (default 2)
  --tokenizer T           text: word (default) or wordpiece (subword vocabulary trained on
                          the training split; the model records it)
  --vocab-size N          wordpiece: target vocabulary size, specials included (default 8000)
  --threads N             torch threads (default: all cores)
  --no-cache              train even when the cache has the model (the new one replaces it)
  --json                  print the report as JSON instead of a summary
  --quiet                 no progress output
  --plugin-dir DIR        extra plugin folder (repeatable)
  -h, --help              this help

exit codes: 0 success, 2 usage error, 3 invalid input (unknown model plugin, bad dataset spec or
parameter, untrainable model, unwritable output), 1 internal error
)";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t to_integer(const std::string& opt, const std::string& v, int64_t minimum) {
  try {
    size_t pos = 0;
    const long long x = std::stoll(v, &pos);
    if (pos != v.size() || x < minimum) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw Usage(opt + ": expected an integer >= " + std::to_string(minimum) + ", got \"" + v +
                "\"");
  }
}

double to_number(const std::string& opt, const std::string& v, double minimum, double below) {
  try {
    size_t pos = 0;
    const double x = std::stod(v, &pos);
    if (pos != v.size() || !(x >= minimum) || !(x < below)) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw Usage(opt + ": expected a number in [" + attrib::describe_json(minimum) + ", " +
                (below == HUGE_VAL ? std::string("inf") : attrib::describe_json(below)) +
                "), got \"" + v + "\"");
  }
}

void add_key_value(json& out, const std::string& kv, const std::string& opt) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Usage(opt + ": expected KEY=VALUE, got \"" + kv + "\"");
  const std::string key = kv.substr(0, eq);
  if (out.contains(key)) throw Usage(opt + ": " + key + " given twice");
  out[key] = attrib::parse_cli_value(kv.substr(eq + 1));
}

std::string split_name(const std::string& opt, const std::string& v) {
  if (v != "train" && v != "val" && v != "test")
    throw Usage(opt + ": expected train, val or test, got \"" + v + "\"");
  return v;
}

double macro_f1(const at::Tensor& pred, const at::Tensor& gold, int64_t C) {
  // Per class F1 = 2 TP / (2 TP + FP + FN); classes absent from gold and predictions are
  // skipped (the SDK's training report uses the same rule).
  std::vector<double> tp(C, 0), fp(C, 0), fn(C, 0);
  const auto p = pred.accessor<int64_t, 1>();
  const auto g = gold.accessor<int64_t, 1>();
  for (int64_t i = 0; i < pred.size(0); ++i) {
    if (p[i] == g[i]) {
      tp[p[i]] += 1;
    } else {
      fp[p[i]] += 1;
      fn[g[i]] += 1;
    }
  }
  double sum = 0;
  int64_t n = 0;
  for (int64_t c = 0; c < C; ++c) {
    if (tp[c] + fp[c] + fn[c] == 0) continue;
    sum += 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]);
    ++n;
  }
  return n ? sum / n : 0.0;
}

// Accuracy and macro-F1 of `model` on a whole split, forwards of at most 256 rows.
json evaluate(attrib::ModelAdapter& model, const attrib::Dataset& ds, const std::string& split,
              const attrib::Vocab& vocab, int64_t max_len) {
  const size_t n = ds.split_size(split);
  std::vector<at::Tensor> preds, golds;
  at::NoGradGuard no_grad;
  for (size_t b = 0; b < n; b += 256) {
    const size_t e = std::min(n, b + 256);
    attrib::Batch batch = ds.modality == attrib::Modality::kDense
                              ? attrib::collate_dense(ds.dense_split(split), b, e, ds.feature_shape)
                              : attrib::collate_text(ds.split(split), b, e, vocab, max_len);
    at::Tensor mask =
        batch.attention_mask.defined() ? batch.attention_mask.to(model.device()) : at::Tensor();
    preds.push_back(model.forward(batch.inputs.to(model.device()), mask).argmax(1).to(at::kCPU));
    golds.push_back(batch.labels.to(at::kCPU, at::kLong));
  }
  at::Tensor pred = at::cat(preds), gold = at::cat(golds);
  at::Tensor keep = at::nonzero(gold >= 0).view({-1});
  pred = pred.index_select(0, keep).contiguous();
  gold = gold.index_select(0, keep).contiguous();
  if (gold.size(0) == 0) return json();
  return {{"split", split},
          {"n", gold.size(0)},
          {"accuracy", pred.eq(gold).to(at::kDouble).mean().item<double>()},
          {"macro_f1", macro_f1(pred, gold, model.info().num_classes)}};
}

}  // namespace

int attrib_train_command(const std::vector<std::string>& args,
                         const std::vector<std::string>& command_line) {
  try {
    std::string plugin, spec, out, name = "data";
    std::string train_split = "train", val_split = "val";
    double val_fraction = 0;
    json params = json::object(), dataset_params = json::object();
    json train = {{"epochs", 10},        {"batch_size", 64}, {"learning_rate", 0.001},
                  {"weight_decay", 0.0}, {"patience", 3},    {"seed", 0}};
    int64_t max_len = 128, vocab_min_freq = 2, threads = 0, vocab_size = 8000;
    std::string tokenizer = "word";
    bool as_json = false, quiet = false, use_cache = true;
    std::vector<std::string> plugin_dirs;
    std::set<std::string> seen;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      const auto eq = a.find('=');
      const std::string opt =
          a.rfind("--", 0) == 0 && eq != std::string::npos ? a.substr(0, eq) : a;
      auto value = [&]() -> std::string {
        if (opt != a) return a.substr(eq + 1);
        if (i + 1 >= args.size()) throw Usage(opt + ": expected a value");
        return args[++i];
      };
      // Single-valued options may be given once.
      auto once = [&]() {
        if (!seen.insert(opt).second) throw Usage(opt + ": given more than once");
      };
      if (a == "-h" || a == "--help") {
        std::cout << kTrainHelp;
        return 0;
      } else if (a == "--json") {
        as_json = true;
      } else if (a == "--quiet") {
        quiet = true;
      } else if (a == "--no-cache") {
        use_cache = false;
      } else if (opt == "--param") {
        add_key_value(params, value(), opt);
      } else if (opt == "--dataset-param") {
        add_key_value(dataset_params, value(), opt);
      } else if (opt == "--plugin-dir") {
        plugin_dirs.push_back(value());
      } else if (opt == "--model") {
        once();
        plugin = value();
      } else if (opt == "--dataset") {
        once();
        spec = value();
      } else if (opt == "--out") {
        once();
        out = value();
      } else if (opt == "--name") {
        once();
        name = value();
        if (name.empty()) throw Usage("--name: expected a non-empty name");
      } else if (opt == "--epochs") {
        once();
        train["epochs"] = to_integer(opt, value(), 1);
      } else if (opt == "--batch-size") {
        once();
        train["batch_size"] = to_integer(opt, value(), 1);
      } else if (opt == "--lr") {
        once();
        train["learning_rate"] = to_number(opt, value(), 0, HUGE_VAL);
      } else if (opt == "--weight-decay") {
        once();
        train["weight_decay"] = to_number(opt, value(), 0, HUGE_VAL);
      } else if (opt == "--patience") {
        once();
        train["patience"] = to_integer(opt, value(), 1);
      } else if (opt == "--seed") {
        once();
        train["seed"] = to_integer(opt, value(), 0);
      } else if (opt == "--train-split") {
        once();
        train_split = split_name(opt, value());
      } else if (opt == "--val-split") {
        once();
        val_split = split_name(opt, value());
      } else if (opt == "--val-fraction") {
        once();
        val_fraction = to_number(opt, value(), 0, 1);
      } else if (opt == "--max-len") {
        once();
        max_len = to_integer(opt, value(), 1);
      } else if (opt == "--vocab-min-freq") {
        once();
        vocab_min_freq = to_integer(opt, value(), 1);
      } else if (opt == "--tokenizer") {
        once();
        tokenizer = value();
        if (tokenizer != "word" && tokenizer != "wordpiece")
          throw Usage("--tokenizer: expected word or wordpiece, got \"" + tokenizer + "\"");
      } else if (opt == "--vocab-size") {
        once();
        vocab_size = to_integer(opt, value(), 4);
      } else if (opt == "--threads") {
        once();
        threads = to_integer(opt, value(), 0);
      } else if (a.size() > 1 && a[0] == '-') {
        throw Usage("unknown option " + a);
      } else {
        throw Usage("unexpected argument \"" + a + "\" (the dataset goes after --dataset)");
      }
    }
    if (plugin.empty()) throw Usage("--model is required");
    if (spec.empty()) throw Usage("--dataset is required");
    if (out.empty()) throw Usage("--out is required");
    if (val_fraction == 0 && val_split == train_split)
      throw Usage("--val-split: expected a split other than the training split '" + train_split +
                  "' (or --val-fraction to carve one off it)");
    if (train_split != "train") train["train_split"] = train_split;
    if (val_fraction > 0)
      train["val_fraction"] = val_fraction;
    else if (val_split != "val")
      train["val_split"] = val_split;

    attrib::Registry registry;
    registry.load_directories(attrib::Registry::search_path(plugin_dirs));
    for (const auto& e : registry.errors()) std::cerr << "plugin load error: " << e.message << "\n";
    const attrib::PluginInfo* info = registry.find(plugin, ATTRIB_KIND_MODEL);
    if (!info) {
      std::string known;
      for (const auto& p : registry.plugins())
        if (p.kind == ATTRIB_KIND_MODEL) known += (known.empty() ? "" : ", ") + p.name;
      throw attrib::Error("--model: no model plugin named \"" + plugin +
                          "\" (loaded: " + (known.empty() ? std::string("none") : known) + ")");
    }
    if (!(info->capabilities & ATTRIB_CAP_TRAINABLE))
      throw attrib::Error("--model: plugin '" + plugin +
                          "' is not trainable (it lacks the trainable capability)");
    const int n_threads = attrib::configure_threads(threads);

    attrib::Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), quiet);
    attrib::DatasetConfig dc;
    dc.name = name;
    dc.spec = spec;
    try {
      dc.params = attrib::resolve_params(attrib::dataset_params_schema(spec), dataset_params,
                                         "--dataset-param");
    } catch (const attrib::Error& e) {
      throw attrib::Error(std::string("--dataset: ") + e.what());
    }
    dc.split = "test";
    dc.max_len = max_len;
    dc.vocab_min_freq = vocab_min_freq;
    dc.tokenizer = tokenizer;
    dc.vocab_size = vocab_size;
    progress.stage("load " + spec, 1);
    const attrib::Dataset ds = attrib::load_dataset(name, spec, dc.params);
    progress.done(std::to_string(ds.split_size("train")) + " train / " +
                  std::to_string(ds.split_size("val")) + " val / " +
                  std::to_string(ds.split_size("test")) + " test examples");
    // The vocabulary comes from the examples trained on.
    const attrib::Vocab vocab =
        ds.modality == attrib::Modality::kText
            ? attrib::fit_vocab(ds.split(train_split), tokenizer, vocab_min_freq, vocab_size)
            : attrib::Vocab();

    attrib::ModelConfig mc;
    mc.name = plugin;
    mc.plugin = plugin;
    mc.params = params;
    mc.train = train;
    const auto t0 = std::chrono::steady_clock::now();
    attrib::TrainedModel t =
        attrib::train_or_load(mc, ds, dc, vocab, registry, progress, use_cache);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // Test accuracy when the test split is held out from training and early stopping.
    json test;
    if (ds.split_size("test") > 0 && train_split != "test" &&
        (val_fraction > 0 || val_split != "test")) {
      test = evaluate(*t.model, ds, "test", attrib::model_vocab(t.model->info(), vocab), max_len);
    }

    const fs::path pt(out);
    fs::path report_path = pt;
    report_path.replace_extension(".json");
    if (report_path == pt) report_path += ".json";
    try {
      if (pt.has_parent_path()) fs::create_directories(pt.parent_path());
      // From memory when the cache could not be written; through a temporary name either way.
      attrib::write_file_atomically(pt.string(), t.checkpoint.empty()
                                                     ? attrib::checkpoint_bytes(*t.model)
                                                     : attrib::file_bytes(t.checkpoint));
    } catch (const fs::filesystem_error& e) {
      throw attrib::Error("--out: cannot write '" + out + "': " + e.code().message());
    } catch (const attrib::Error& e) {
      throw attrib::Error(std::string("--out: ") + e.what());
    }
    json shown_params = t.params;
    if (shown_params.contains("vocab"))
      shown_params["vocab"] = std::to_string(t.params["vocab"].size()) + " tokens";
    json report = {{"model", plugin},
                   {"plugin_version", info->version},
                   {"params", shown_params},
                   {"dataset",
                    {{"name", ds.name},
                     {"spec", ds.spec},
                     {"params", ds.params},
                     {"hash", ds.hash},
                     {"sizes",
                      {{"train", ds.split_size("train")},
                       {"val", ds.split_size("val")},
                       {"test", ds.split_size("test")}}},
                     {"max_len", max_len},
                     {"vocab_min_freq", vocab_min_freq},
                     {"tokenizer", tokenizer},
                     {"vocab_size", vocab.size()}}},
                   {"options", t.report.value("options", train)},
                   {"epochs_run", t.report.value("epochs_run", 0)},
                   {"val_accuracy", t.report.value("val_accuracy", 0.0)},
                   {"val_macro_f1", t.report.value("val_macro_f1", 0.0)},
                   {"history", t.report.value("history", json::array())},
                   {"test", test},
                   {"cached", t.report.value("cached", false)},
                   {"seconds", secs},
                   {"train_seconds", t.report.value("train_seconds", json())},
                   {"threads", n_threads},
                   {"checkpoint", pt.string()},
                   {"cache_checkpoint", t.checkpoint},
                   {"cache_key", t.report.value("cache_key", "")},
                   {"artifact_hash", t.model->info().artifact_hash},
                   {"command_line", command_line}};
    try {
      attrib::write_file_atomically(report_path.string(), report.dump(2) + "\n");
    } catch (const attrib::Error& e) {
      throw attrib::Error(std::string("--out: ") + e.what());
    }
    if (as_json) {
      std::cout << report.dump(2) << "\n";
    } else {
      char line[256];
      std::snprintf(line, sizeof line, "val accuracy %.4f, macro-F1 %.4f (%lld epochs%s, %.1f s)",
                    report["val_accuracy"].get<double>(), report["val_macro_f1"].get<double>(),
                    static_cast<long long>(report["epochs_run"].get<int64_t>()),
                    report["cached"].get<bool>() ? ", from the cache" : "", secs);
      std::cout << line << "\n";
      if (!test.is_null()) {
        std::snprintf(line, sizeof line, "test accuracy %.4f, macro-F1 %.4f (%lld examples)",
                      test["accuracy"].get<double>(), test["macro_f1"].get<double>(),
                      static_cast<long long>(test["n"].get<int64_t>()));
        std::cout << line << "\n";
      }
      std::cout << "model:  " << pt.string() << "\nreport: " << report_path.string() << "\n";
    }
    return 0;
  } catch (const Usage& e) {
    std::cerr << "attrib train: " << e.what() << " (see attrib train --help)\n";
    return 2;
  } catch (const attrib::Error& e) {
    std::cerr << "attrib train: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::string s = e.what();
    std::cerr << "attrib train: internal error: " << s.substr(0, s.find('\n')) << "\n";
    return 1;
  }
}
