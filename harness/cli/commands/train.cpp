// `attrib train`: trains a model plugin on a dataset (or reuses the model cache that suites
// share) and writes the checkpoint plus a JSON report beside it.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "attrib/error.h"
#include "attrib/params.h"
#include "command.h"
#include "config.h"
#include "data/dataset.h"
#include "progress.h"
#include "registry.h"
#include "runner.h"

namespace attrib::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

void add_options(CLI::App& app) {
  app.description(
      "Trains a model plugin on the dataset's train split with early stopping on its val split, "
      "or\nreuses the model cache ($ATTRIB_CACHE_DIR/models) that `attrib run` shares: the same "
      "plugin,\nparameters, data and options train once, whichever command asks first. Copies the "
      "checkpoint to\nMODEL.pt and writes the report (val accuracy and macro-F1, epochs run, "
      "per-epoch history, the\noptions, the dataset spec and hash, test accuracy and macro-F1 "
      "when the dataset has a test split\nthat training did not use) to MODEL.json beside it. The "
      "checkpoint loads back with the plugin's\ncheckpoint parameter: `attrib explain --model "
      "PLUGIN:MODEL.pt ...`, or \"params\":\n{\"checkpoint\": \"MODEL.pt\"} in a suite.");
  add_value(app, "--model", "PLUGIN", "model plugin (see `attrib plugins`), e.g. text_transformer");
  add_value(app, "--dataset", "SPEC", "dataset spec (see `attrib data --help`)");
  add_value(app, "--out", "FILE", "where the checkpoint goes (the report goes to FILE with .json)");
  add_value(app, "--param", "K=V",
            "model parameter (repeatable); V is parsed as JSON, else a string");
  add_value(app, "--dataset-param", "K=V", "dataset reader/generator parameter (repeatable)");
  add_value(app, "--name", "NAME",
            "dataset name (default data; synthetic example ids carry it, so use\n"
            "the suite's dataset name to share its cached model)");
  add_value(app, "--epochs", "N", "maximum epochs (default 10)");
  add_value(app, "--batch-size", "N", "examples per optimiser step (default 64)");
  add_value(app, "--lr", "X", "Adam learning rate (default 0.001)");
  add_value(app, "--weight-decay", "X", "Adam weight decay (default 0)");
  add_value(app, "--patience", "N",
            "stop after N epochs without a better val accuracy (default 3)");
  add_value(app, "--seed", "N", "initialisation and shuffling seed (default 0)");
  add_value(app, "--train-split", "S", "split trained on: train (default), val or test");
  add_value(app, "--val-split", "S", "split for early stopping: val (default), train or test");
  add_value(app, "--val-fraction", "F",
            "carve this fraction (0 < F < 1) of the training split off as\n"
            "validation instead (per-example hash; for corpora without a split)");
  add_value(app, "--max-len", "N", "text: tokens kept per example (default 128)");
  add_value(app, "--vocab-min-freq", "N",
            "text: minimum count of a vocabulary word (wordpiece: of a merged\n"
            "pair) in the training split (default 2)");
  add_value(app, "--tokenizer", "T",
            "text: word (default) or wordpiece (subword vocabulary trained on\n"
            "the training split; the model records it)");
  add_value(app, "--vocab-size", "N",
            "wordpiece: target vocabulary size, specials included (default 8000)");
  add_value(app, "--threads", "N", "torch threads (default: all cores)");
  app.add_flag("--no-cache", "train even when the cache has the model (the new one replaces it)");
  app.add_flag("--json", "print the report as JSON instead of a summary");
  app.add_flag("--quiet", "no progress output");
  add_value(app, "--plugin-dir", "DIR", "extra plugin folder (repeatable)");
  app.footer(
      "exit codes: 0 success, 2 usage error, 3 invalid input (unknown model plugin, bad dataset "
      "spec or\nparameter, untrainable model, unwritable output), 1 internal error");
}

std::string split_name(const Args& args, const std::string& option, const std::string& fallback) {
  const std::string v = args.value(option, fallback);
  if (v != "train" && v != "val" && v != "test")
    throw UsageError(option + ": expected train, val or test, got \"" + v + "\"");
  return v;
}

double number(const Args& args, const std::string& option, Range range, double fallback) {
  return args.given(option) ? parse_number(option, args.value(option), range) : fallback;
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
json evaluate(ModelAdapter& model, const Dataset& ds, const std::string& split, const Vocab& vocab,
              int64_t max_len) {
  const size_t n = ds.split_size(split);
  std::vector<at::Tensor> preds, golds;
  at::NoGradGuard no_grad;
  for (size_t b = 0; b < n; b += 256) {
    const size_t e = std::min(n, b + 256);
    Batch batch = ds.modality == Modality::kDense
                      ? collate_dense(ds.dense_split(split), b, e, ds.feature_shape)
                      : collate_text(ds.split(split), b, e, vocab, max_len);
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

// The runner's training options (the cache key hashes them, so their names and defaults are
// those of a suite's "train" object) from the command line.
json train_options(const Args& args) {
  return {{"epochs", args.integer("--epochs", 10, 1)},
          {"batch_size", args.integer("--batch-size", 64, 1)},
          {"learning_rate", number(args, "--lr", {0.0, false}, 0.001)},
          {"weight_decay", number(args, "--weight-decay", {0.0, false}, 0.0)},
          {"patience", args.integer("--patience", 3, 1)},
          {"seed", args.integer("--seed", 0, 0)}};
}

int run(const Args& args) {
  for (const auto& a : args.positional())
    throw UsageError("unexpected argument \"" + a + "\" (the dataset goes after --dataset)");
  const std::string plugin = args.value("--model");
  const std::string spec = args.value("--dataset");
  const std::string out = args.value("--out");
  const std::string name = args.value("--name", "data");
  if (name.empty()) throw UsageError("--name: expected a non-empty name");
  json train = train_options(args);
  const std::string train_split = split_name(args, "--train-split", "train");
  const std::string val_split = split_name(args, "--val-split", "val");
  const double val_fraction = number(args, "--val-fraction", {0.0, false, 1.0}, 0.0);
  const int64_t max_len = args.integer("--max-len", 128, 1);
  const int64_t vocab_min_freq = args.integer("--vocab-min-freq", 2, 1);
  const std::string tokenizer = args.value("--tokenizer", "word");
  if (tokenizer != "word" && tokenizer != "wordpiece")
    throw UsageError("--tokenizer: expected word or wordpiece, got \"" + tokenizer + "\"");
  const int64_t vocab_size = args.integer("--vocab-size", 8000, 4);
  const int64_t threads = args.integer("--threads", 0, 0);
  const json params = key_values(args.values("--param"), "--param");
  const json dataset_params = key_values(args.values("--dataset-param"), "--dataset-param");
  const bool as_json = args.flag("--json"), quiet = args.flag("--quiet");
  const bool use_cache = !args.flag("--no-cache");
  if (plugin.empty()) throw UsageError("--model is required");
  if (spec.empty()) throw UsageError("--dataset is required");
  if (out.empty()) throw UsageError("--out is required");
  if (val_fraction == 0 && val_split == train_split)
    throw UsageError("--val-split: expected a split other than the training split '" + train_split +
                     "' (or --val-fraction to carve one off it)");
  if (train_split != "train") train["train_split"] = train_split;
  if (val_fraction > 0)
    train["val_fraction"] = val_fraction;
  else if (val_split != "val")
    train["val_split"] = val_split;

  Registry registry;
  load_plugins(registry, args.values("--plugin-dir"));
  report_load_errors(registry);
  const PluginInfo* info = registry.find(plugin, ATTRIB_KIND_MODEL);
  if (!info) {
    std::string known;
    for (const auto& p : registry.plugins())
      if (p.kind == ATTRIB_KIND_MODEL) known += (known.empty() ? "" : ", ") + p.name;
    throw Error("--model: no model plugin named \"" + plugin +
                "\" (loaded: " + (known.empty() ? std::string("none") : known) + ")");
  }
  if (!(info->capabilities & ATTRIB_CAP_TRAINABLE))
    throw Error("--model: plugin '" + plugin +
                "' is not trainable (it lacks the trainable capability)");
  const int n_threads = configure_threads(threads);

  Progress progress(isatty(STDERR_FILENO) && !std::getenv("CI"), quiet);
  DatasetConfig dc;
  dc.name = name;
  dc.spec = spec;
  try {
    dc.params = resolve_params(dataset_params_schema(spec), dataset_params, "--dataset-param");
  } catch (const Error& e) {
    throw Error(std::string("--dataset: ") + e.what());
  }
  dc.split = "test";
  dc.max_len = max_len;
  dc.vocab_min_freq = vocab_min_freq;
  dc.tokenizer = tokenizer;
  dc.vocab_size = vocab_size;
  progress.stage("load " + spec, 1);
  const Dataset ds = load_dataset(name, spec, dc.params);
  progress.done(std::to_string(ds.split_size("train")) + " train / " +
                std::to_string(ds.split_size("val")) + " val / " +
                std::to_string(ds.split_size("test")) + " test examples");
  // The vocabulary comes from the examples trained on.
  const Vocab vocab = ds.modality == Modality::kText
                          ? fit_vocab(ds.split(train_split), tokenizer, vocab_min_freq, vocab_size)
                          : Vocab();

  ModelConfig mc;
  mc.name = plugin;
  mc.plugin = plugin;
  mc.params = params;
  mc.train = train;
  const auto t0 = std::chrono::steady_clock::now();
  TrainedModel t = train_or_load(mc, ds, dc, vocab, registry, progress, use_cache);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Test accuracy when the test split is held out from training and early stopping.
  json test;
  if (ds.split_size("test") > 0 && train_split != "test" &&
      (val_fraction > 0 || val_split != "test")) {
    test = evaluate(*t.model, ds, "test", model_vocab(t.model->info(), vocab), max_len);
  }

  const fs::path pt(out);
  fs::path report_path = pt;
  report_path.replace_extension(".json");
  if (report_path == pt) report_path += ".json";
  try {
    if (pt.has_parent_path()) fs::create_directories(pt.parent_path());
    // From memory when the cache could not be written; through a temporary name either way.
    write_file_atomically(
        pt.string(), t.checkpoint.empty() ? checkpoint_bytes(*t.model) : file_bytes(t.checkpoint));
  } catch (const fs::filesystem_error& e) {
    throw Error("--out: cannot write '" + out + "': " + e.code().message());
  } catch (const Error& e) {
    throw Error(std::string("--out: ") + e.what());
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
                 {"command_line", args.command_line()}};
  try {
    write_file_atomically(report_path.string(), report.dump(2) + "\n");
  } catch (const Error& e) {
    throw Error(std::string("--out: ") + e.what());
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
  return kOk;
}

}  // namespace

const Command kTrainCommand = {
    "train",
    "",
    "train a model plugin on a dataset, cached",
    "--model PLUGIN --dataset SPEC --out MODEL.pt [options]",
    add_options,
    run,
};

}  // namespace attrib::cli
