#include "fixtures.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "attrib/random.h"
#include "test_models.h"

namespace conformance {

using nlohmann::json;

namespace {

// Three examples of the analytic smooth model, the batch of the former hand-written checks.
Fixture dense_smooth() {
  const at::Tensor x =
      at::tensor({0.7f, -1.2f, 0.9f, 1.5f, 0.4f, -0.8f, -0.3f, 2.0f, 1.1f}).view({3, 3});
  return {"dense_smooth", std::make_shared<attrib_test::DenseModel>(attrib_test::smooth_model()),
          attrib_test::dense_batch(x, {"p", "q", "r"}), at::tensor({0, 1, 1}, at::kLong)};
}

Fixture image_cnn(const attrib::Registry& registry) {
  auto model = registry.create_model(
      "image_cnn", {{"input_shape", {1, 12, 12}}, {"num_classes", 3}, {"seed", 5}}, "image_cnn");
  at::Generator g = attrib::example_generator(21, "conformance", 0);
  const at::Tensor x = at::randn({4, 1, 12, 12}, g, at::kFloat);
  return {"image_cnn", model, attrib_test::dense_batch(x, {"i0", "i1", "i2", "i3"}),
          at::tensor({0, 1, 2, 0}, at::kLong)};
}

Fixture text_tiny() {
  return {"text_tiny", std::make_shared<attrib_test::TextModel>(), attrib_test::text_batch(),
          at::tensor({1, 0}, at::kLong)};
}

// Ids: 0 PAD, 1 UNK, 2 MASK, 3 "good", 4.. words; three right-padded examples of 4, 3 and 6
// tokens, one word per token.
Fixture text_transformer(const attrib::Registry& registry) {
  std::vector<std::string> vocab{"[PAD]", "[UNK]", "[MASK]", "good"};
  while (vocab.size() < 30) vocab.push_back("w" + std::to_string(vocab.size()));
  auto model = registry.create_model("text_transformer",
                                     {{"vocab", vocab},
                                      {"num_classes", 2},
                                      {"class_names", {"absent", "present"}},
                                      {"seed", 3},
                                      {"label_attention", true}},
                                     "text_transformer");
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0", "t1", "t2"};
  b.inputs = at::tensor({5, 3, 9, 12, 0, 0, 7, 8, 6, 0, 0, 0, 11, 4, 3, 10, 13, 14}, at::kLong)
                 .view({3, 6});
  b.attention_mask = b.inputs.ne(0).to(at::kLong);
  b.word_ids = at::where(b.attention_mask.to(at::kBool), at::arange(6, at::kLong).expand({3, 6}),
                         at::full({3, 6}, -1, at::kLong));
  b.labels = at::tensor({1, 0, 1}, at::kLong);
  return {"text_transformer", model, b, b.labels.clone()};
}

}  // namespace

std::vector<Fixture> make_fixtures(const attrib::Registry& registry,
                                   std::vector<std::string>* notes) {
  std::vector<Fixture> out{dense_smooth()};
  if (registry.find("image_cnn", ATTRIB_KIND_MODEL))
    out.push_back(image_cnn(registry));
  else
    notes->push_back("model plugin image_cnn not found: no fixture with layers");
  out.push_back(text_tiny());
  if (registry.find("text_transformer", ATTRIB_KIND_MODEL))
    out.push_back(text_transformer(registry));
  else
    notes->push_back("model plugin text_transformer not found: no fixture with attentions");
  return out;
}

json required_params(const std::string& plugin, const std::vector<Fixture>& fixtures,
                     const std::string& scratch_dir) {
  if (plugin != "precomputed") return nullptr;
  // One score per input element (dense) or per word (text), distinct per example and element.
  const std::string path = (std::filesystem::path(scratch_dir) / "precomputed.jsonl").string();
  std::ofstream out(path);
  for (const Fixture& f : fixtures) {
    for (int64_t i = 0; i < f.batch.size(); ++i) {
      const int64_t n = f.batch.modality == attrib::Modality::kText
                            ? f.batch.word_ids[i].max().item<int64_t>() + 1
                            : f.batch.inputs[i].numel();
      std::vector<double> scores;
      for (int64_t k = 0; k < n; ++k) scores.push_back(0.25 * (k + 1) - 0.5 * i);
      out << json{{"id", f.batch.ids[i]}, {"method", "conformance"}, {"scores", scores}}.dump()
          << "\n";
    }
  }
  if (!out) throw std::runtime_error(path + ": cannot write the precomputed scores");
  return {{"file", path}};
}

}  // namespace conformance
