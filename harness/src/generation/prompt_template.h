#pragma once
// Prompts built from a template with named slots ("{name} lives in {city}") for a causal LM, and
// their two feature spaces:
// - token level (template_tokens): the prompt's tokens, a slot's tokens sharing one word id (one
//   feature), the template text never a feature. Every method works on it, gradients included.
// - slot level (SlotPromptModel): one input position per feature, where a feature is a slot or a
//   group of slots perturbed together, and an absent slot takes a baseline text of any length,
//   fixed or drawn from a distribution (Captum's TextTemplateInput with a mask and baselines).
//   Only perturbation methods apply: the input is a set of present features, not token ids.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/model.h"
#include "data/vocab.h"

namespace attrib {

class CausalLmTarget;

struct PromptTemplate {
  struct Piece {
    std::vector<int64_t> ids;
    std::vector<std::string> tokens;
    int slot = -1;  ///< index into slot_names; -1: template text
  };
  std::vector<Piece> pieces;            ///< in prompt order
  std::vector<std::string> slot_names;  ///< in prompt order
  std::vector<int64_t> ids() const;     ///< the whole prompt's token ids
  std::vector<std::string> tokens() const;
  int slot(const std::string& name) const;  ///< index of slot `name`, -1 when absent
};

/// Parses `text` ("... {slot} ...") with each slot's text from `values` (slot name -> text,
/// tokenised on whitespace with `vocab`). Throws attrib::Error on an unclosed '{', a slot without
/// text or without tokens, a repeated slot, a value for a slot the template lacks, or no slot.
PromptTemplate parse_template(const std::string& text,
                              const std::map<std::string, std::string>& values, const Vocab& vocab);

/// The token-level batch of one prompt: template text word id -1, slot k's tokens word id k.
Batch template_tokens(const PromptTemplate& t);

/// One feature of the slot-level space: a slot, or several slots perturbed together.
struct SlotFeature {
  std::string name;
  std::vector<int> slots;
};

/// What an absent slot becomes: one text, or texts to draw from (uniformly, seeded).
struct SlotBaseline {
  std::vector<std::string> texts;
  std::vector<std::vector<int64_t>> ids;
};

/// A model over slot-level inputs [B, F]: id 3 + f means feature f present, and the pad, unk and
/// mask ids 0, 1 and 2 (those of its info()) mean absent, replaced by the slot's baseline when it
/// has one, else by its tokens each turned into the LM's pad, unk or mask token (as the token-level
/// space would). Rows are rendered to token prompts and scored by the causal LM.
class SlotPromptModel : public ModelAdapter {
 public:
  /// `features` must cover every slot at most once; slots in no feature stay present.
  SlotPromptModel(std::shared_ptr<CausalLmTarget> lm, PromptTemplate prompt,
                  std::vector<SlotFeature> features, std::map<int, SlotBaseline> baselines);

  /// `rows` copies of the prompt with every feature present.
  Batch batch(int64_t rows) const;
  /// Whether any slot's baseline is a distribution.
  bool draws() const;
  /// Chooses the baseline of every slot with several texts for draw `k` under `seed` (a draw
  /// depends on seed, slot name and k only); returns {slot name: chosen text}.
  nlohmann::json draw(uint64_t seed, int64_t k);

  /// The LM's classes (its current target: the sequence, then each token) over slot inputs.
  const ModelInfo& info() const override;
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& attention_mask) override;
  void to(const at::Device& device) override;
  at::Device device() const override;

 private:
  std::shared_ptr<CausalLmTarget> lm_;
  PromptTemplate prompt_;
  std::vector<SlotFeature> features_;
  std::vector<int> feature_of_slot_;  ///< -1: always present
  std::map<int, SlotBaseline> baselines_;
  std::map<int, size_t> chosen_;  ///< slot -> index of its drawn baseline text
  mutable ModelInfo info_;        ///< classes refreshed from the LM's target by info()
};

}  // namespace attrib
