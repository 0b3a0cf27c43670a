#include "data_command.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "attrib/error.h"
#include "attrib/params.h"
#include "data/dataset.h"
#include "data/summary.h"

namespace {

using nlohmann::json;

const char* kDataHelp = R"(usage: attrib data SPEC [--param K=V]... [--name NAME] [--json]

Loads a dataset and prints, per split (train, val, test): the number of examples, the label
distribution, how many examples carry a ground-truth rationale and its mean length in tokens
(dense data: the mean mask area, the fraction of features marked relevant), plus how many
records the reader dropped and why (e.g. HateXplain posts without a majority). Dense data also
print the feature shape and names and how columns were encoded (one-hot categories, train
mean and std of standardised columns).

SPEC:
  hatexplain:DIR     HateXplain: DIR/df_test_processed.csv and df_val_processed.csv (test, val),
                     or DIR/dataset.json + post_id_divisions.json (train, val, test)
  eraser:DIR         ERASER: DIR/{train,val,test}.jsonl + DIR/docs/ (or docs.jsonl, docs.tar.gz)
  jsonl:FILE         one JSON object per line: {"id"?, "text", "label", "rationale"? (0/1 per
                     whitespace token) or "rationale_spans"? ([start, end) character spans),
                     "split"?}
  csv:FILE           tabular CSV (gzip allowed): a header of column names, a scikit-learn header
                     (N_SAMPLES,N_FEATURES,CLASS_NAMES...) or none; label = column "label" or
                     the last one; non-numeric columns one-hot, numeric ones standardised with
                     train statistics; split column "split" or seeded fractions
  arff:FILE          Weka ARFF (@attribute numeric|real|integer|string|{nominal}); same options
  idx:[DIR]          IDX images and labels (train-*, t10k-*, gzip or not), pixels / 255, val
                     carved from train; DIR defaults to /usr/share/datasets/fashion-mnist
  images:DIR         DIR/gray|images/[CLASS/]NAME.png|jpg with masks in DIR/figure_ground|masks
                     (same names); resized to height x width, masks >= 0.5 are the annotation;
                     class = subfolder, or the one class class_name (default: DIR's name)
  synthetic:planted_text
  synthetic:tabular_linear, synthetic:tabular_nonlinear
                     Gaussian features, label from a known function of n_informative of them
                     (the annotation mask)
  synthetic:block_mnist
                     a Fashion-MNIST item in one cell of a 2 x 2 canvas (mask = that cell),
                     noise or dimmed items elsewhere; needs the idx files

options:
  --param K=V        reader parameter (repeatable); V is parsed as JSON, else taken as a string.
                     hatexplain: classes=three|binary, rationale_vote=lists|annotators,
                     source=auto|csv|json; eraser: classes=[...], query=drop|append|prepend;
                     jsonl: split=train|val|test, classes=[...]; csv/arff: label=COL,
                     categorical=[...], numeric=[...], ignore=[...], standardize=false,
                     missing=error|impute, split_column=COL, val_fraction=F, test_fraction=F;
                     images: height=H, width=W, channels=1|3; see attrib data SPEC --json for
                     the resolved parameters
  --name NAME        dataset name used in messages and generated ids (default: data)
  --json             print the statistics as JSON
  -h, --help         this help

exit codes: 0 success, 2 usage error, 3 invalid input (unknown spec, bad parameter, malformed
data: the message names FILE:LINE, what was expected and what was found)
)";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

int attrib_data_command(const std::vector<std::string>& args) {
  try {
    std::vector<std::string> positional;
    json params = json::object();
    std::string name = "data";
    bool as_json = false;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&](const std::string& opt) -> std::string {
        if (a.size() > opt.size() && a.compare(0, opt.size() + 1, opt + "=") == 0)
          return a.substr(opt.size() + 1);
        if (i + 1 >= args.size()) throw Usage(opt + ": expected a value");
        return args[++i];
      };
      if (a == "-h" || a == "--help") {
        std::cout << kDataHelp;
        return 0;
      } else if (a == "--json") {
        as_json = true;
      } else if (a == "--param" || a.rfind("--param=", 0) == 0) {
        const std::string kv = value("--param");
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          throw Usage("--param: expected KEY=VALUE, got \"" + kv + "\"");
        const std::string key = kv.substr(0, eq);
        if (params.contains(key)) throw Usage("--param: " + key + " given twice");
        params[key] = attrib::parse_cli_value(kv.substr(eq + 1));
      } else if (a == "--name" || a.rfind("--name=", 0) == 0) {
        name = value("--name");
        if (name.empty()) throw Usage("--name: expected a non-empty name");
      } else if (a.size() > 1 && a[0] == '-') {
        throw Usage("unknown option " + a);
      } else {
        positional.push_back(a);
      }
    }
    if (positional.size() != 1)
      throw Usage("expected one dataset SPEC, got " + std::to_string(positional.size()));
    json report;
    const attrib::Dataset d = attrib::load_dataset_reported(name, positional[0], params, &report);
    const json summary = attrib::dataset_summary(d, report);
    if (as_json)
      std::cout << summary.dump(2) << "\n";
    else
      std::cout << attrib::render_dataset_summary(summary);
    return 0;
  } catch (const Usage& e) {
    std::cerr << "attrib data: " << e.what() << " (see attrib data --help)\n";
    return 2;
  } catch (const attrib::Error& e) {
    std::cerr << "attrib data: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::string s = e.what();
    std::cerr << "attrib data: internal error: " << s.substr(0, s.find('\n')) << "\n";
    return 1;
  }
}
