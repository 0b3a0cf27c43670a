#include "prepare.h"

#include <set>

#include "attrib/error.h"
#include "metric.h"
#include "store/unit_key.h"
#include "train.h"

namespace attrib {

using nlohmann::json;

namespace {

/// The examples of one (dataset, split), collated once and shared by all methods and metrics.
struct Batches {
  std::vector<Batch> batches;
  std::vector<Annotations> annotations;
  std::vector<std::string> ids;
  std::vector<std::string> split_ids;  ///< the whole split's, before max_examples
};

/// Dense collation of examples [begin, end) with inputs and labels on `device`.
Batch dense_batch(const Dataset& ds, const std::vector<DenseExample>& split, size_t begin,
                  size_t end, const at::Device& device) {
  Batch batch = collate_dense(split, begin, end, ds.feature_shape);
  batch.inputs = batch.inputs.to(device);
  batch.labels = batch.labels.to(device);
  return batch;
}

Batches make_batches(const Dataset& ds, const DatasetConfig& dc, const Vocab& vocab,
                     int64_t per_batch, const at::Device& device) {
  if (ds.modality == Modality::kDense) {
    const auto& split = ds.dense_split(dc.split);
    size_t n = split.size();
    if (dc.max_examples > 0) n = std::min<size_t>(n, dc.max_examples);
    ATTRIB_CHECK(n > 0, "dataset '", ds.name, "': split '", dc.split, "' has no examples");
    Batches out;
    for (const auto& x : split) out.split_ids.push_back(x.id);
    for (size_t b = 0; b < n; b += per_batch) {
      const size_t e = std::min(n, b + static_cast<size_t>(per_batch));
      Batch batch = dense_batch(ds, split, b, e, device);
      out.ids.insert(out.ids.end(), batch.ids.begin(), batch.ids.end());
      out.batches.push_back(std::move(batch));
      out.annotations.push_back(collate_masks(split, b, e, ds.num_features()));
    }
    return out;
  }
  const auto& split = ds.split(dc.split);
  size_t n = split.size();
  if (dc.max_examples > 0) n = std::min<size_t>(n, dc.max_examples);
  ATTRIB_CHECK(n > 0, "dataset '", ds.name, "': split '", dc.split, "' has no examples");
  Batches out;
  for (const auto& x : split) out.split_ids.push_back(x.id);
  for (size_t b = 0; b < n; b += per_batch) {
    const size_t e = std::min(n, b + static_cast<size_t>(per_batch));
    Batch batch = collate_text(split, b, e, vocab, dc.max_len);
    out.annotations.push_back(collate_rationales(split, b, e, batch));
    batch.inputs = batch.inputs.to(device);
    batch.attention_mask = batch.attention_mask.to(device);
    batch.word_ids = batch.word_ids.to(device);
    batch.labels = batch.labels.to(device);
    out.ids.insert(out.ids.end(), batch.ids.begin(), batch.ids.end());
    out.batches.push_back(std::move(batch));
  }
  return out;
}

struct LoadedModel {
  std::shared_ptr<ModelAdapter> model;
  json record;
};

LoadedModel acquire_model(const ModelConfig& mc, const Dataset& ds, const DatasetConfig& dc,
                          const Vocab& vocab, const Registry& registry, const SuiteConfig& suite,
                          Progress& progress) {
  const PluginInfo* plugin = registry.find(mc.plugin, ATTRIB_KIND_MODEL);
  ATTRIB_CHECK(plugin != nullptr, "model plugin '", mc.plugin, "' is not loaded");
  const json schema = plugin->metadata.value("params", json::object());
  json params = with_dataset_params(mc.params, schema, ds, vocab, dc);
  const std::string where = "models[" + mc.name + "].params";
  LoadedModel out;
  out.record = {{"name", mc.name},
                {"plugin", mc.plugin},
                {"plugin_version", plugin->version},
                {"dataset", ds.name}};
  if (mc.train.is_null()) {
    out.model = registry.create_model(mc.plugin, params, where);
  } else {
    TrainedModel t = train_or_load(mc, ds, dc, vocab, registry, progress, /*use_cache=*/true);
    out.model = t.model;
    out.record["train"] = t.report;
    out.record["checkpoint"] = t.checkpoint;
  }
  if (suite.device == "cuda") out.model->to(at::Device(at::kCUDA));
  const ModelInfo& info = out.model->info();
  out.record["capabilities"] = capability_names(info.capabilities);
  out.record["capability_notes"] = info.capability_notes;
  out.record["num_classes"] = info.num_classes;
  out.record["artifact_hash"] = info.artifact_hash;
  out.record["content_hash"] = model_content_hash(*out.model, out.record);
  out.record["params"] = params.contains("vocab") ? json(json::object()) : params;
  if (params.contains("vocab")) {
    json p = params;
    p["vocab"] = std::to_string(params["vocab"].size()) + " tokens";
    out.record["params"] = p;
  }
  return out;
}

/// Model `mc` on dataset `ds`, trained or loaded, with its explained split collated and the
/// explained classes chosen (the gold label or the prediction); `record` gains its accuracy.
PreparedModel prepare_model(const Dataset& ds, const DatasetConfig& dc, const ModelConfig& mc,
                            const Vocab& dataset_vocab, const SuiteConfig& suite,
                            const Registry& registry, Progress& progress, const at::Device& device,
                            json& record) {
  // The vocabulary comes from the examples the model is trained on (as in `attrib train`).
  const std::string fit_split =
      mc.train.is_object() ? mc.train.value("train_split", std::string("train")) : "train";
  Vocab vocab =
      fit_split == "train" || ds.modality != Modality::kText
          ? dataset_vocab
          : fit_vocab(ds.split(fit_split), dc.tokenizer, dc.vocab_min_freq, dc.vocab_size);
  LoadedModel lm = acquire_model(mc, ds, dc, vocab, registry, suite, progress);
  vocab = model_vocab(lm.model->info(), vocab);
  Batches data = make_batches(ds, dc, vocab, suite.explain_batch, device);
  std::vector<at::Tensor> targets, logits;
  int64_t correct = 0, total = 0;
  for (const auto& b : data.batches) {
    logits.push_back(batch_logits(*lm.model, b, suite.batch_cap));
    at::Tensor pred = logits.back().argmax(1);
    correct += (pred == b.labels.to(at::kCPU)).sum().item<int64_t>();
    total += b.size();
    targets.push_back(suite.target == "gold" ? b.labels.to(at::kCPU) : pred);
  }
  lm.record["accuracy"] = {{"split", dc.split}, {"value", double(correct) / total}, {"n", total}};
  if (ds.modality == Modality::kText) lm.record["vocab_size"] = vocab.size();
  record = lm.record;
  return PreparedModel{&ds,
                       &mc,
                       lm.model,
                       std::move(data.batches),
                       std::move(data.annotations),
                       std::move(data.ids),
                       std::move(targets),
                       std::move(logits),
                       device,
                       &dc,
                       std::move(vocab),
                       record["content_hash"].get<std::string>(),
                       std::move(data.split_ids)};
}

json dataset_record(const Dataset& ds, const DatasetConfig& dc) {
  return {{"name", ds.name},
          {"spec", ds.spec},
          {"params", ds.params},
          {"hash", ds.hash},
          {"split", dc.split},
          {"sizes",
           {{"train", ds.split_size("train")},
            {"val", ds.split_size("val")},
            {"test", ds.split_size("test")}}},
          {"tokenizer", dc.tokenizer},
          {"vocab_size", nullptr},
          {"vocab_min_freq", dc.vocab_min_freq}};
}

}  // namespace

void for_each_model(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                    RunResults& res, const std::function<void(PreparedModel&)>& fn) {
  if (suite.device == "cuda" && !at::hasCUDA())
    throw Error("device: 'cuda' requested, but this LibTorch build has no CUDA device available");
  const at::Device device = suite.device == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  auto fail = [&](const std::string& where, const std::string& message) {
    res.errors.push_back({{"where", where}, {"message", message}});
    progress.note("error: " + where + ": " + message);
  };
  for (const auto& dc : suite.datasets) {
    Dataset ds;
    try {
      progress.stage("dataset " + dc.name, 1);
      ds = load_dataset(dc.name, dc.spec, dc.params);
      progress.done(std::to_string(ds.split_size("train")) + " train / " +
                    std::to_string(ds.split_size("val")) + " val / " +
                    std::to_string(ds.split_size("test")) + " test examples");
    } catch (...) {
      fail("datasets[" + dc.name + "]", in_flight_error());
      continue;
    }
    const Vocab dataset_vocab = fit_vocab(ds.train, dc.tokenizer, dc.vocab_min_freq, dc.vocab_size);
    // vocab_size is filled in below from the vocabularies the models use (the train split may be
    // empty, e.g. HateXplain trained on val).
    const size_t dataset_entry = res.datasets.size();
    json model_vocab_sizes = json::object();
    res.datasets.push_back(dataset_record(ds, dc));
    for (const auto& mc : suite.models) {
      PreparedModel p;
      try {
        json record;
        p = prepare_model(ds, dc, mc, dataset_vocab, suite, registry, progress, device, record);
        if (suite.batch_rows == "measured")
          progress.stage("batch plan (" + mc.name + ", " + ds.name + ")", 1);
        p.plan = plan_batches(suite, p);
        if (suite.batch_rows == "measured")
          progress.done(std::to_string(p.plan.forward_rows) + " rows per forward, " +
                        std::to_string(p.plan.gradient_rows) + " per forward+backward" +
                        (p.plan.record["cached"].get<bool>() ? " (cached)" : ""));
        record["batch_plan"] = p.plan.record;
        if (ds.modality == Modality::kText) model_vocab_sizes[mc.name] = p.vocab.size();
        res.models.push_back(std::move(record));
      } catch (...) {
        fail("models[" + mc.name + "] on " + ds.name, in_flight_error());
        continue;
      }
      fn(p);
    }
    // The dataset's vocabulary size is that of its models' vocabulary when they share one;
    // otherwise null, with each model's size under vocab_sizes (and in models[].vocab_size).
    json& entry = res.datasets[dataset_entry];
    std::set<int64_t> sizes;
    for (const auto& [name, size] : model_vocab_sizes.items()) sizes.insert(size.get<int64_t>());
    if (sizes.size() == 1) entry["vocab_size"] = *sizes.begin();
    if (sizes.size() > 1) entry["vocab_sizes"] = model_vocab_sizes;
  }
}

RetrainFn retrainer(const PreparedModel& p, const Registry& registry, Progress& progress) {
  if (!p.config->train.is_object()) return nullptr;
  return [&p, &registry, &progress](const RetrainRequest& rq) {
    const ModelConfig& mc = *p.config;
    const Dataset& ds = *p.dataset;
    const DatasetConfig& dc = *p.dataset_config;
    const std::string split = mc.train.value("train_split", std::string("train"));
    Dataset changed = ds;
    auto relabel = [&](auto& examples) {
      std::vector<int64_t> labels;
      for (const auto& e : examples) labels.push_back(e.label);
      rq.relabel(labels);
      for (size_t i = 0; i < examples.size(); ++i) examples[i].label = labels[i];
    };
    if (ds.modality == Modality::kDense)
      relabel(split == "train" ? changed.dense_train
              : split == "val" ? changed.dense_val
                               : changed.dense_test);
    else
      relabel(split == "train" ? changed.train : split == "val" ? changed.val : changed.test);
    changed.hash = ds.hash + "|" + rq.data_tag;
    ModelConfig variant = mc;
    variant.name = mc.name + "[" + rq.variant + "]";
    if (rq.edit_recipe) rq.edit_recipe(variant.train);
    TrainedModel t = train_or_load(variant, changed, dc, p.vocab, registry, progress);
    Retrained out;
    out.train_batch = training_batch(changed, split, p.vocab, dc.max_len,
                                     variant.train.value("val_fraction", 0.0),
                                     variant.train.at("seed").get<uint64_t>(), false);
    out.model = t.model;
    if (p.device != at::Device(at::kCPU)) {
      out.model->to(p.device);
      Batch& b = out.train_batch;
      for (at::Tensor* x : {&b.inputs, &b.attention_mask, &b.word_ids, &b.labels})
        if (x->defined()) *x = x->to(p.device);
    }
    out.train_split = split;
    out.report = t.report;
    out.checkpoint = t.checkpoint;
    return out;
  };
}

}  // namespace attrib
