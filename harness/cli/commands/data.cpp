// `attrib data SPEC`: loads a dataset and prints per-split statistics.
#include <iostream>

#include "attrib/error.h"
#include "command.h"
#include "data/dataset.h"
#include "data/summary.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Loads a dataset and prints, per split (train, val, test): the number of examples, the "
      "label\n"
      "distribution, how many examples carry a ground-truth rationale and its mean length in "
      "tokens\n"
      "(dense data: the mean mask area, the fraction of features marked relevant), plus how many\n"
      "records the reader dropped and why (e.g. HateXplain posts without a majority). Dense data "
      "also\n"
      "print the feature shape and names and how columns were encoded (one-hot categories, train\n"
      "mean and std of standardised columns).\n"
      "\n"
      "SPEC:\n"
      "  hatexplain:DIR     HateXplain: DIR/df_test_processed.csv and df_val_processed.csv (test, "
      "val),\n"
      "                     or DIR/dataset.json + post_id_divisions.json (train, val, test)\n"
      "  eraser:DIR         ERASER: DIR/{train,val,test}.jsonl + DIR/docs/ (or docs.jsonl, "
      "docs.tar.gz)\n"
      "  jsonl:FILE         one JSON object per line: {\"id\"?, \"text\", \"label\", "
      "\"rationale\"? (0/1 per\n"
      "                     whitespace token) or \"rationale_spans\"? ([start, end) character "
      "spans),\n"
      "                     \"split\"?}\n"
      "  csv:FILE           tabular CSV (gzip allowed): a header of column names, a scikit-learn "
      "header\n"
      "                     (N_SAMPLES,N_FEATURES,CLASS_NAMES...) or none; label = column "
      "\"label\" or\n"
      "                     the last one; non-numeric columns one-hot, numeric ones standardised "
      "with\n"
      "                     train statistics; split column \"split\" or seeded fractions\n"
      "  arff:FILE          Weka ARFF (@attribute numeric|real|integer|string|{nominal}); same "
      "options\n"
      "  idx:[DIR]          IDX images and labels (train-*, t10k-*, gzip or not), pixels / 255, "
      "val\n"
      "                     carved from train; DIR defaults to /usr/share/datasets/fashion-mnist\n"
      "  images:DIR         DIR/gray|images/[CLASS/]NAME.png|jpg with masks in "
      "DIR/figure_ground|masks\n"
      "                     (same names); resized to height x width, masks >= 0.5 are the "
      "annotation;\n"
      "                     class = subfolder, or the one class class_name (default: DIR's name)\n"
      "  synthetic:planted_text\n"
      "  synthetic:tabular_linear, synthetic:tabular_nonlinear\n"
      "                     Gaussian features, label from a known function of n_informative of "
      "them\n"
      "                     (the annotation mask)\n"
      "  synthetic:block_mnist\n"
      "                     a Fashion-MNIST item in one cell of a 2 x 2 canvas (mask = that "
      "cell),\n"
      "                     noise or dimmed items elsewhere; needs the idx files");
  add_value(app, "--param", "K=V",
            "reader parameter (repeatable); V is parsed as JSON, else taken as a string.\n"
            "hatexplain: classes=three|binary, rationale_vote=lists|annotators,\n"
            "source=auto|csv|json; eraser: classes=[...], query=drop|append|prepend;\n"
            "jsonl: split=train|val|test, classes=[...]; csv/arff: label=COL,\n"
            "categorical=[...], numeric=[...], ignore=[...], standardize=false,\n"
            "missing=error|impute, split_column=COL, val_fraction=F, test_fraction=F;\n"
            "images: height=H, width=W, channels=1|3; see attrib data SPEC --json for\n"
            "the resolved parameters");
  add_value(app, "--name", "NAME",
            "dataset name used in messages and generated ids (default: data)");
  app.add_flag("--json", "print the statistics as JSON");
  app.footer(
      "exit codes: 0 success, 2 usage error, 3 invalid input (unknown spec, bad parameter, "
      "malformed\ndata: the message names FILE:LINE, what was expected and what was found)");
}

int run(const Args& args) {
  const json params = key_values(args.values("--param"), "--param");
  const std::string name = args.value("--name", "data");
  if (args.given("--name") && name.empty()) throw UsageError("--name: expected a non-empty name");
  const auto& positional = args.positional();
  if (positional.size() != 1)
    throw UsageError("expected one dataset SPEC, got " + std::to_string(positional.size()));
  json report;
  const Dataset d = load_dataset_reported(name, positional[0], params, &report);
  const json summary = dataset_summary(d, report);
  if (args.flag("--json"))
    // Class names and categories come from the data, which need not be UTF-8.
    std::cout << summary.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  else
    std::cout << render_dataset_summary(summary);
  return kOk;
}

}  // namespace

const Command kDataCommand = {
    "data",
    "SPEC",
    "load a dataset and print per-split statistics",
    "SPEC [--param K=V]... [--name NAME] [--json]",
    add_options,
    run,
};

}  // namespace attrib::cli
