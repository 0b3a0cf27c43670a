#include "generation/prompt_template.h"

#include <algorithm>

#include "attrib/error.h"
#include "attrib/random.h"
#include "generation/causal_lm.h"

namespace attrib {

using nlohmann::json;

std::vector<int64_t> PromptTemplate::ids() const {
  std::vector<int64_t> out;
  for (const Piece& p : pieces) out.insert(out.end(), p.ids.begin(), p.ids.end());
  return out;
}

std::vector<std::string> PromptTemplate::tokens() const {
  std::vector<std::string> out;
  for (const Piece& p : pieces) out.insert(out.end(), p.tokens.begin(), p.tokens.end());
  return out;
}

int PromptTemplate::slot(const std::string& name) const {
  const auto it = std::find(slot_names.begin(), slot_names.end(), name);
  return it == slot_names.end() ? -1 : static_cast<int>(it - slot_names.begin());
}

PromptTemplate parse_template(const std::string& text,
                              const std::map<std::string, std::string>& values,
                              const Vocab& vocab) {
  PromptTemplate t;
  auto add = [&](const std::string& s, int slot) {
    PromptTemplate::Piece piece;
    piece.slot = slot;
    for (const std::string& w : whitespace_tokens(s)) {
      piece.ids.push_back(vocab.id(w));
      piece.tokens.push_back(w);
    }
    if (!piece.ids.empty()) t.pieces.push_back(std::move(piece));
  };
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find('{', at);
    add(text.substr(at, open == std::string::npos ? std::string::npos : open - at), -1);
    if (open == std::string::npos) break;
    const size_t close = text.find('}', open);
    ATTRIB_CHECK(close != std::string::npos, "'{' at character ", open, " is not closed");
    const std::string name = text.substr(open + 1, close - open - 1);
    const auto value = values.find(name);
    ATTRIB_CHECK(value != values.end(), "slot {", name, "} has no text");
    ATTRIB_CHECK(t.slot(name) < 0, "slot {", name, "} appears twice");
    t.slot_names.push_back(name);
    const size_t before = t.pieces.size();
    add(value->second, static_cast<int>(t.slot_names.size()) - 1);
    ATTRIB_CHECK(t.pieces.size() > before, "slot {", name, "}: no tokens in its text");
    at = close + 1;
  }
  for (const auto& [name, v] : values)
    ATTRIB_CHECK(t.slot(name) >= 0, "the template has no slot {", name, "}");
  ATTRIB_CHECK(!t.slot_names.empty(), "no {slot} in the template");
  return t;
}

Batch template_tokens(const PromptTemplate& t) {
  std::vector<int64_t> words;
  for (const PromptTemplate::Piece& p : t.pieces) words.insert(words.end(), p.ids.size(), p.slot);
  Batch b;
  b.modality = Modality::kText;
  b.inputs = at::tensor(t.ids(), at::kLong).unsqueeze(0);
  b.attention_mask = at::ones_like(b.inputs);
  b.word_ids = at::tensor(words, at::kLong).unsqueeze(0);
  b.labels = at::full({1}, -1, at::kLong);
  b.ids = {"input-0"};
  return b;
}

namespace {
constexpr int64_t kPad = 0, kUnk = 1, kMask = 2, kFirstFeature = 3;
}  // namespace

SlotPromptModel::SlotPromptModel(std::shared_ptr<CausalLmTarget> lm, PromptTemplate prompt,
                                 std::vector<SlotFeature> features,
                                 std::map<int, SlotBaseline> baselines)
    : lm_(std::move(lm)),
      prompt_(std::move(prompt)),
      features_(std::move(features)),
      baselines_(std::move(baselines)) {
  feature_of_slot_.assign(prompt_.slot_names.size(), -1);
  info_ = lm_->info();
  info_.name = lm_->info().name + " (template slots)";
  info_.vocab = {"<absent:pad>", "<absent:unk>", "<absent:mask>"};
  for (size_t f = 0; f < features_.size(); ++f) {
    ATTRIB_CHECK(!features_[f].slots.empty(), "feature ", features_[f].name, " has no slot");
    for (int s : features_[f].slots) {
      ATTRIB_CHECK(s >= 0 && s < static_cast<int>(feature_of_slot_.size()), "feature ",
                   features_[f].name, ": no slot ", s);
      ATTRIB_CHECK(feature_of_slot_[s] < 0, "slot {", prompt_.slot_names[s],
                   "} is in two features");
      feature_of_slot_[s] = static_cast<int>(f);
    }
    info_.vocab.push_back(features_[f].name);
  }
  for (const auto& [slot, b] : baselines_) {
    ATTRIB_CHECK(!b.ids.empty() && b.ids.size() == b.texts.size(), "slot {",
                 prompt_.slot_names.at(slot), "}: a baseline needs at least one text");
    chosen_[slot] = 0;
  }
  info_.pad_id = kPad;
  info_.unk_id = kUnk;
  info_.mask_id = kMask;
  info_.capabilities = ATTRIB_CAP_FORWARD;
  info_.metadata["inputs"] = "slot level: one position per feature, id 3 + f present, 0/1/2 absent";
}

Batch SlotPromptModel::batch(int64_t rows) const {
  const int64_t F = static_cast<int64_t>(features_.size());
  Batch b;
  b.modality = Modality::kText;
  b.inputs = (at::arange(F, at::kLong) + kFirstFeature).unsqueeze(0).repeat({rows, 1});
  b.attention_mask = at::ones_like(b.inputs);
  b.word_ids = at::arange(F, at::kLong).unsqueeze(0).repeat({rows, 1});
  b.labels = at::full({rows}, -1, at::kLong);
  b.ids.assign(rows, "input-0");
  return b;
}

bool SlotPromptModel::draws() const {
  for (const auto& [slot, b] : baselines_)
    if (b.texts.size() > 1) return true;
  return false;
}

json SlotPromptModel::draw(uint64_t seed, int64_t k) {
  json chosen = json::object();
  for (auto& [slot, b] : baselines_) {
    if (b.texts.size() < 2) continue;
    const std::string& name = prompt_.slot_names[slot];
    chosen_[slot] = splitmix64(stream_key(seed, name, static_cast<uint64_t>(k))) % b.texts.size();
    chosen[name] = b.texts[chosen_[slot]];
  }
  return chosen;
}

at::Tensor SlotPromptModel::forward(const at::Tensor& inputs, const at::Tensor& /*mask*/) {
  const at::Tensor cpu = inputs.to(at::kCPU, at::kLong).contiguous();
  const int64_t B = cpu.size(0), F = cpu.size(1);
  const auto x = cpu.accessor<int64_t, 2>();
  ATTRIB_CHECK(F == static_cast<int64_t>(features_.size()), "template slots: expected ",
               features_.size(), " features per row, got ", F);
  const ModelInfo& lm = lm_->info();
  auto absent_token = [&](int64_t code) {
    const int64_t id = code == kPad ? lm.pad_id : code == kUnk ? lm.unk_id : lm.mask_id;
    ATTRIB_CHECK(id >= 0, "template slots: the method removes a slot with the ",
                 code == kPad   ? "pad"
                 : code == kUnk ? "unk"
                                : "mask",
                 " token, which model '", lm.name, "' does not declare");
    return id;
  };
  std::vector<std::vector<int64_t>> rows(B);
  int64_t width = 1;
  for (int64_t r = 0; r < B; ++r) {
    for (const PromptTemplate::Piece& p : prompt_.pieces) {
      const int f = p.slot < 0 ? -1 : feature_of_slot_[p.slot];
      const int64_t code = f < 0 ? kFirstFeature : x[r][f];
      if (code >= kFirstFeature) {
        rows[r].insert(rows[r].end(), p.ids.begin(), p.ids.end());
      } else if (const auto b = baselines_.find(p.slot); b != baselines_.end()) {
        const std::vector<int64_t>& ids = b->second.ids[chosen_.at(p.slot)];
        rows[r].insert(rows[r].end(), ids.begin(), ids.end());
      } else {
        rows[r].insert(rows[r].end(), p.ids.size(), absent_token(code));
      }
    }
    ATTRIB_CHECK(!rows[r].empty(), "template slots: a perturbed prompt has no tokens left");
    width = std::max<int64_t>(width, static_cast<int64_t>(rows[r].size()));
  }
  at::Tensor ids = at::full({B, width}, std::max<int64_t>(lm.pad_id, 0), at::kLong);
  at::Tensor mask = at::zeros({B, width}, at::kLong);
  for (int64_t r = 0; r < B; ++r) {
    const int64_t n = static_cast<int64_t>(rows[r].size());
    ids[r].slice(0, 0, n).copy_(at::tensor(rows[r], at::kLong));
    mask[r].slice(0, 0, n).fill_(1);
  }
  const at::Device d = lm_->device();
  return lm_->forward(ids.to(d), mask.to(d));
}

const ModelInfo& SlotPromptModel::info() const {
  info_.num_classes = lm_->info().num_classes;
  info_.class_names = lm_->info().class_names;
  return info_;
}

void SlotPromptModel::to(const at::Device& device) { lm_->to(device); }

at::Device SlotPromptModel::device() const { return lm_->device(); }

}  // namespace attrib
