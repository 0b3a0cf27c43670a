#pragma once
// Checks every built-in text model plugin must pass, parameterised by the plugin's name
// (text_transformer in models_test.cpp, text_bow and text_cnn in text_models_test.cpp), and the
// small helpers they use: a model on the synthetic vocabulary, its parameters and layer names,
// logits without gradients, short training options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/torchscript_model.h"
#include "model_fixtures.h"

namespace model_checks {

using json = nlohmann::json;
using attrib_test::error_of;  // the attrib::Error's message, or a note that none was thrown
using model_fixtures::registry;
using model_fixtures::synthetic_batch;
using model_fixtures::synthetic_vocab;

/// Parameters of a text model on the synthetic task: its vocabulary, classes absent / present.
inline json text_params(uint64_t seed = 0) {
  return {{"vocab", synthetic_vocab()},
          {"num_classes", 2},
          {"class_names", {"absent", "present"}},
          {"seed", seed}};
}

/// `plugin` built from text_params(seed), with `extra` added or overriding.
inline std::shared_ptr<attrib::ModelAdapter> model(const std::string& plugin, uint64_t seed = 0,
                                                   const json& extra = json::object()) {
  json p = text_params(seed);
  for (auto& [k, v] : extra.items()) p[k] = v;
  return registry().create_model(plugin, p, "models[0].params");
}

inline std::vector<at::Tensor> all_params(attrib::ModelAdapter& m) {
  std::vector<at::Tensor> out;
  for (const auto& l : m.layers())
    for (const auto& [name, t] : l.parameters) out.push_back(t);
  return out;
}

inline std::vector<std::string> layer_names(attrib::ModelAdapter& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers()) out.push_back(l.name);
  return out;
}

inline at::Tensor logits_of(attrib::ModelAdapter& m, const attrib::Batch& b) {
  at::NoGradGuard no_grad;
  return m.forward(b.inputs, b.attention_mask);
}

inline at::Tensor logits_of(attrib::ModelAdapter& m, const at::Tensor& ids,
                            const at::Tensor& mask) {
  at::NoGradGuard no_grad;
  return m.forward(ids, mask);
}

inline attrib::TrainOptions quick_options(uint64_t seed, int64_t epochs) {
  attrib::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.learning_rate = 5e-3;
  o.patience = 4;
  o.seed = seed;
  return o;
}

/// ATTRIB_TEST_TMP/model_checks/<name>.
inline std::string checks_path(const std::string& name) {
  return model_fixtures::tmp_path("model_checks", name);
}

/// The info and metadata of model(plugin): text modality, exactly `caps`, no capability notes,
/// the synthetic task's classes and vocabulary (lifted out of the metadata), the special ids,
/// d = 32 and the default tokenizer.
inline void expect_text_info(attrib::ModelAdapter& m, const std::string& plugin, uint64_t caps) {
  const auto& info = m.info();
  EXPECT_EQ(info.modality, attrib::Modality::kText);
  EXPECT_EQ(info.capabilities, caps) << info.capability_notes.dump();
  EXPECT_TRUE(info.capability_notes.empty()) << info.capability_notes.dump();
  EXPECT_EQ(info.num_classes, 2);
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"absent", "present"}));
  EXPECT_EQ(info.vocab, synthetic_vocab());
  EXPECT_EQ(info.pad_id, 0);
  EXPECT_EQ(info.unk_id, 1);
  EXPECT_EQ(info.mask_id, 2);
  EXPECT_EQ(info.metadata.at("model"), plugin);
  EXPECT_EQ(info.metadata.at("d").get<int64_t>(), 32);
  EXPECT_EQ(info.metadata.at("tokenizer"), "word");
  EXPECT_FALSE(info.metadata.contains("vocab"));  // lifted into info.vocab
}

/// What trains_on_synthetic_task asks of a plugin.
struct TrainingCheck {
  int64_t n_train = 2000, n_val = 300;
  int64_t n_test = 500;  // 0: no held-out test set (conformance then checked on 4 examples)
  int64_t epochs = 40, patience = 8;
  double min_accuracy = 0.98;  // on the validation set, and on the test set when there is one
  double min_macro_f1 = 0.0;   // on the validation set
  double max_seconds = 40.0;
};

/// Trains `plugin` on the planted task and checks the accuracy, the time, the per-epoch
/// callback and history, that the best weights come back frozen and that the trained model is
/// still conformant.
inline void trains_on_synthetic_task(const std::string& plugin, const TrainingCheck& c = {}) {
  auto m = model(plugin, /*seed=*/0);
  attrib::Batch train = synthetic_batch(c.n_train, 1), val = synthetic_batch(c.n_val, 2);
  attrib::TrainOptions o = quick_options(/*seed=*/7, c.epochs);
  o.patience = c.patience;
  int64_t calls = 0;
  o.on_epoch = [&](int64_t epoch, int64_t epochs, double loss, double acc) {
    ++calls;
    EXPECT_EQ(epoch, calls);
    EXPECT_EQ(epochs, c.epochs);
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_GE(acc, 0.0);
  };
  const auto start = std::chrono::steady_clock::now();
  attrib::TrainReport r = m->train(train, val, o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ " << plugin << " ] val accuracy " << r.val_accuracy << ", macro-F1 "
            << r.val_macro_f1;
  ::testing::Test::RecordProperty("val_accuracy", std::to_string(r.val_accuracy));
  attrib::Batch probe = synthetic_batch(c.n_test > 0 ? c.n_test : 4, 3);
  if (c.n_test > 0) {
    const double test_acc =
        logits_of(*m, probe).argmax(1).eq(probe.labels).to(at::kDouble).mean().item<double>();
    std::cout << ", test accuracy " << test_acc;
    ::testing::Test::RecordProperty("test_accuracy", std::to_string(test_acc));
    EXPECT_GE(test_acc, c.min_accuracy);
  }
  std::cout << " after " << r.epochs_run << " epochs in " << seconds << " s\n";
  ::testing::Test::RecordProperty("train_seconds", std::to_string(seconds));
  EXPECT_GE(r.val_accuracy, c.min_accuracy);
  EXPECT_GE(r.val_macro_f1, c.min_macro_f1);
  EXPECT_EQ(calls, r.epochs_run);
  ASSERT_TRUE(r.history.is_array());
  EXPECT_EQ(static_cast<int64_t>(r.history.size()), r.epochs_run);
  EXPECT_LT(seconds, c.max_seconds);
  // Best weights restored, model back in evaluation mode with frozen parameters.
  const double acc =
      logits_of(*m, val).argmax(1).eq(val.labels).to(at::kDouble).mean().item<double>();
  EXPECT_DOUBLE_EQ(acc, r.val_accuracy);
  for (const auto& p : all_params(*m)) EXPECT_FALSE(p.requires_grad());
  // Still conformant after training.
  at::NoGradGuard no_grad;
  at::Tensor via_e = m->forward_from_embeddings(m->embed(probe.inputs), probe.attention_mask);
  EXPECT_TRUE(at::allclose(via_e, logits_of(*m, probe), 1e-5, 1e-5));
}

/// The same seed gives the same weights (another seed other ones), and training with the same
/// seed the same weights and logits.
inline void same_seed_same_weights(const std::string& plugin) {
  auto a = model(plugin, 3), b = model(plugin, 3), c = model(plugin, 4);
  auto pa = all_params(*a), pb = all_params(*b), pc = all_params(*c);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i])) << i;
  bool any_differs = false;
  for (size_t i = 0; i < pa.size(); ++i) any_differs |= !at::equal(pa[i], pc[i]);
  EXPECT_TRUE(any_differs) << "seed 4 gave the same weights as seed 3";
  // Training with the same seed gives identical weights.
  attrib::Batch train = synthetic_batch(128, 1), val = synthetic_batch(32, 2);
  a->train(train, val, quick_options(5, 2));
  b->train(train, val, quick_options(5, 2));
  pa = all_params(*a);
  pb = all_params(*b);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i])) << i;
  EXPECT_TRUE(at::equal(logits_of(*a, val), logits_of(*b, val)));
}

/// A trained model(plugin, 1, extra), saved, loads through the torchscript plugin with
/// capabilities `caps`, its name, hash and metadata, the same layers and bit-identical logits
/// and embeddings; the plugin's checkpoint parameter loads it too, another plugin's refuses it.
inline void save_load_bit_identical(const std::string& plugin, const json& extra, uint64_t caps) {
  auto m = model(plugin, 1, extra);
  m->train(synthetic_batch(128, 1), synthetic_batch(32, 2), quick_options(1, 2));
  const std::string path = checks_path(plugin + ".pt");
  m->save(path);
  auto loaded = registry().create_model("torchscript", {{"path", path}}, "models[1].params");
  EXPECT_EQ(loaded->info().capabilities, caps) << loaded->info().capability_notes.dump();
  EXPECT_EQ(loaded->info().name, path);
  EXPECT_EQ(loaded->info().artifact_hash, attrib::file_hash(path));
  EXPECT_EQ(loaded->info().artifact_hash.size(), 16u);
  EXPECT_EQ(loaded->info().vocab, synthetic_vocab());
  EXPECT_EQ(loaded->info().num_classes, 2);
  EXPECT_EQ(loaded->info().metadata.at("model"), plugin);
  EXPECT_EQ(loaded->info().metadata.at("tokenizer"), "word");
  ASSERT_EQ(loaded->layers().size(), m->layers().size());
  EXPECT_EQ(layer_names(*loaded), layer_names(*m));
  attrib::Batch probe = synthetic_batch(16, 9);
  EXPECT_TRUE(at::equal(logits_of(*loaded, probe), logits_of(*m, probe)));
  {
    at::NoGradGuard no_grad;
    EXPECT_TRUE(at::equal(loaded->embed(probe.inputs), m->embed(probe.inputs)));
  }
  // The plugin's checkpoint parameter loads the same archive; another model's is refused.
  auto again = registry().create_model(plugin, {{"checkpoint", path}}, "p");
  EXPECT_TRUE(at::equal(logits_of(*again, probe), logits_of(*m, probe)));
  EXPECT_EQ(again->info().artifact_hash, attrib::file_hash(path));
  const std::string other = plugin == "text_bow" ? "text_cnn" : "text_bow";
  EXPECT_THAT(
      error_of([&] {
        registry().create_model(other, {{"checkpoint", path}}, "p");
      }),
      ::testing::HasSubstr("expected a model saved by " + other + ", got one saved by " + plugin));
}

/// What clone_independent leaves for further checks: the model, its clone (one layer
/// re-drawn) and the batch they were compared on.
struct Cloned {
  std::shared_ptr<attrib::ModelAdapter> original, copy;
  attrib::Batch batch;
};

/// clone_model gives a copy with the same logits and capabilities whose parameters are its own.
inline Cloned clone_independent(const std::string& plugin) {
  auto m = model(plugin, 5);
  attrib::Batch b = synthetic_batch(8, 5);
  at::Tensor before = logits_of(*m, b);
  std::shared_ptr<attrib::ModelAdapter> copy = attrib::clone_model(m);
  EXPECT_TRUE(at::equal(logits_of(*copy, b), before));
  EXPECT_EQ(copy->info().capabilities, m->info().capabilities);
  {
    at::NoGradGuard no_grad;
    for (auto& [name, t] : copy->layers().back().parameters) t.normal_();
  }
  EXPECT_FALSE(at::equal(logits_of(*copy, b), before));
  EXPECT_TRUE(at::equal(logits_of(*m, b), before));
  return {m, copy, b};
}

/// The Python side: torch.jit.load of a trained, saved model(plugin, 11) gives the same logits
/// and metadata, and `attention_layers` attention maps (0: no "attentions" at all). Needs
/// REQUIRE_PYTHON_TORCH() in the test.
inline void python_round_trip(const std::string& plugin, size_t attention_layers) {
  auto m = model(plugin, 11);
  m->train(synthetic_batch(128, 1), synthetic_batch(32, 2), quick_options(1, 2));
  const std::string model_path = checks_path("py_" + plugin + ".pt");
  m->save(model_path);
  attrib::Batch b = synthetic_batch(6, 11);
  const std::string in = checks_path("py_" + plugin + "_in.json"),
                    out = checks_path("py_" + plugin + "_out.json");
  auto rows = [](const at::Tensor& t) {
    json r = json::array();
    for (int64_t i = 0; i < t.size(0); ++i) {
      json row = json::array();
      for (int64_t j = 0; j < t.size(1); ++j) row.push_back(t[i][j].item<int64_t>());
      r.push_back(row);
    }
    return r;
  };
  std::ofstream(in)
      << json{{"input_ids", rows(b.inputs)}, {"attention_mask", rows(b.attention_mask)}}.dump();
  ASSERT_EQ(model_fixtures::run_python("run_logits.py", {model_path, in, out}), 0) << model_path;
  json result = json::parse(std::ifstream(out));
  at::Tensor logits = logits_of(*m, b);
  ASSERT_EQ(result["logits"].size(), static_cast<size_t>(b.size()));
  double max_diff = 0;
  for (int64_t i = 0; i < b.size(); ++i)
    for (int64_t c = 0; c < 2; ++c)
      max_diff = std::max(
          max_diff, std::abs(result["logits"][i][c].get<double>() - logits[i][c].item<double>()));
  std::cout << "[ " << plugin << " ] Python torch.jit.load logits: max |diff| " << max_diff << "\n";
  EXPECT_LT(max_diff, 1e-5);
  EXPECT_EQ(result["metadata"]["vocab"].get<std::vector<std::string>>(), synthetic_vocab());
  EXPECT_EQ(result["metadata"]["model"], plugin);
  EXPECT_EQ(result["metadata"]["tokenizer"], "word");
  if (attention_layers == 0)
    EXPECT_FALSE(result.contains("attentions"));
  else
    EXPECT_EQ(result["attentions"].size(), attention_layers);
}

}  // namespace model_checks
