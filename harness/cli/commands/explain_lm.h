#pragma once
// `attrib explain` on a causal LM (generation/causal_lm.h): the --template prompt with its slots,
// groups and baselines, the continuation to explain (given or generated), and explaining it,
// averaged over baseline draws when a slot's baseline is a distribution.
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "attrib/method.h"
#include "command.h"
#include "data/vocab.h"
#include "generation/causal_lm.h"
#include "generation/prompt_template.h"

namespace attrib::cli {

/// --template, --slot, --group, --baseline, --baseline-draws, --target-text, --max-new-tokens and
/// --target-output.
void add_lm_options(CLI::App& app);

/// A --template prompt: its one-row batch (token level, or slot level when --group or --baseline
/// asks for it, with `slots` the model that reads it), the names shown for its features and the
/// prompt's token ids.
struct TemplateInput {
  Batch batch;
  nlohmann::json tokens;    ///< one name per feature (slot level) or per token (token level)
  nlohmann::json features;  ///< feature names: slots, or groups and ungrouped slots
  std::vector<int64_t> prompt_ids;
  std::shared_ptr<SlotPromptModel> slots;  ///< null at token level
  nlohmann::json baselines;                ///< {slot: [texts]} as given
};

/// Parses --template with --slot, --group and --baseline (UsageError naming the option).
TemplateInput template_input(const std::shared_ptr<CausalLmTarget>& lm, const Args& args,
                             const Vocab& vocab);

/// Sets the continuation to explain (--target-text, else the greedy continuation of
/// `prompt_ids`) and repeats `batch` once per explained output: the sequence, then each token.
/// Returns {target_ids, target_tokens, generated, output}.
nlohmann::json set_continuation(CausalLmTarget& lm, const std::vector<int64_t>& prompt_ids,
                                Batch& batch, const Vocab& vocab, const Args& args);

/// method.explain, averaged over --baseline-draws draws when a slot's baseline is a distribution
/// (each draw's chosen texts appended to `draws`).
Explanation explain_prompt(AttributionMethod& method, ModelAdapter& model, SlotPromptModel* slots,
                           const Batch& batch, const at::Tensor& targets, const ExplainContext& ctx,
                           const Args& args, nlohmann::json& draws);

}  // namespace attrib::cli
