// The "randomisation" analysis: runs the sanity checks of randomisation.cpp for every method of a
// (dataset, model) on the first max_examples explained examples. Data randomisation retrains the
// model once (through the host's RetrainFn) on labels permuted here, shared by every method.
#include <algorithm>
#include <random>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "common/stats.h"
#include "metric.h"
#include "randomisation/randomisation.h"

namespace attrib {
namespace {

using nlohmann::json;

/// Model `mc` retrained with its own recipe on its training split with the labels permuted by a
/// seeded Fisher-Yates shuffle, without early stopping so that it can memorise them (cached like
/// any trained model). The record says how well it did: accuracy on the permuted training labels
/// and on the true validation labels.
struct PermutedLabelModel {
  std::shared_ptr<ModelAdapter> model;
  json record;
};

PermutedLabelModel train_on_permuted_labels(const AnalysisInput& in) {
  ATTRIB_CHECK(in.retrain, "data randomisation: model '", in.model_name,
               "' has no train block; the test retrains its architecture on permuted labels");
  const uint64_t seed = in.context.seed;
  RetrainRequest rq;
  rq.variant = "permuted labels";
  rq.data_tag = "labels permuted, seed " + std::to_string(seed);
  rq.relabel = [seed](std::vector<int64_t>& labels) {
    std::mt19937_64 rng(stream_key(seed, "data-randomisation", 0x6c61));
    for (size_t i = labels.size(); i > 1; --i) {
      const size_t j = stats::uniform_index(rng, i);
      std::swap(labels[i - 1], labels[j]);
    }
  };
  rq.edit_recipe = [](json& recipe) { recipe["patience"] = recipe["epochs"]; };  // memorise
  Retrained t = in.retrain(rq);
  const Batch& fit = t.train_batch;
  const double memorised =
      fit.size() > 0
          ? (batch_logits(*t.model, fit, in.context.max_rows).argmax(1) == fit.labels.to(at::kCPU))
                .to(at::kDouble)
                .mean()
                .item<double>()
          : 0;
  PermutedLabelModel out{t.model, json::object()};
  out.record = {
      {"labels", "training split '" + t.train_split + "' permuted (Fisher-Yates, seeded)"},
      {"label_seed", seed},
      {"train_accuracy_on_permuted_labels", memorised},
      {"val_accuracy_true_labels", t.report.value("val_accuracy", 0.0)},
      {"epochs_run", t.report.value("epochs_run", 0)},
      {"early_stopping", "off (patience = epochs)"},
      {"cached", t.report.value("cached", false)},
      {"checkpoint", t.checkpoint}};
  return out;
}

class RandomisationAnalysis : public Analysis {
 public:
  explicit RandomisationAnalysis(const json& p) : o_(randomisation_options(p, "randomisation")) {}

  std::vector<json> run(const AnalysisInput& in, Progress& progress) override {
    // The first max_examples explained examples, with their trained-model scores.
    std::vector<Batch> rb;
    std::vector<at::Tensor> rt, rvalid;
    int64_t have = 0;
    for (size_t bi = 0; bi < in.batches.size() && have < o_.max_examples; ++bi) {
      const int64_t take = std::min(in.batches[bi].size(), o_.max_examples - have);
      rb.push_back(slice_batch(in.batches[bi], 0, take));
      rt.push_back(in.targets[bi].slice(0, 0, take));
      // Text: the words (at their first token) are features; dense: every element (per method).
      rvalid.push_back(rb.back().modality == Modality::kText
                           ? word_starts(rb.back().word_ids.to(at::kCPU))
                           : at::Tensor());
      have += take;
    }
    PermutedLabelModel permuted;
    std::string permuted_error;
    if (std::find(o_.tests.begin(), o_.tests.end(), "data") != o_.tests.end()) {
      try {
        permuted = train_on_permuted_labels(in);
      } catch (...) {
        permuted_error = in_flight_error();
      }
    }
    progress.stage("randomisation (" + in.model_name + ", " + in.dataset + ")",
                   static_cast<int64_t>(in.explanations.size()));
    std::vector<json> out;
    for (const auto& ex : in.explanations) {
      json where = {{"dataset", in.dataset}, {"model", in.model_name}, {"method", ex.name}};
      if (!ex.ok()) {
        where["error"] = "explanation failed: " + ex.error;
        out.push_back(where);
        progress.advance();
        continue;
      }
      std::vector<at::Tensor> original;
      for (size_t bi = 0; bi < rb.size(); ++bi)
        original.push_back(ex.scores[bi].slice(0, 0, rb[bi].size()));
      std::vector<at::Tensor> valid = rvalid;
      for (size_t bi = 0; bi < valid.size(); ++bi)
        if (!valid[bi].defined()) valid[bi] = at::ones(original[bi].sizes(), at::kBool);
      RandomisationInput ri{in.model,
                            rb,
                            rt,
                            original,
                            valid,
                            [&](ModelAdapter& model, const std::vector<at::Tensor>& tg) {
                              return in.explain(*ex.method, model, rb, tg);
                            },
                            in.context.seed,
                            where,
                            permuted.model.get(),
                            permuted.record,
                            permuted_error,
                            in.feature_shape};
      json entries = run_randomisation(o_, ri, in.bootstrap_resamples, in.confidence);
      for (auto& e : entries) {
        if (e.contains("error"))
          in.fail("randomisation[" + e["test"].get<std::string>() + "] for " + ex.name, e["error"]);
        out.push_back(std::move(e));
      }
      progress.advance();
    }
    progress.done("randomisation of " + std::to_string(in.explanations.size()) + " methods");
    return out;
  }

 private:
  RandomisationOptions o_;
};

}  // namespace

AnalysisSpec randomisation_analysis() {
  AnalysisSpec s;
  s.name = "randomisation";
  s.description =
      "sanity checks: parameter (cascading, independent), random-logit and data randomisation "
      "(METRICS.md §2)";
  s.params = randomisation_schema();
  s.resolve = [](const json& given, const std::string& path) {
    json r = resolve_params(randomisation_schema(), given, path);
    randomisation_options(r, path);  // validates the lists
    return r;
  };
  s.create = [](const json& p) { return std::make_unique<RandomisationAnalysis>(p); };
  return s;
}

}  // namespace attrib
