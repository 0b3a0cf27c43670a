#include "explain_lm.h"

#include <algorithm>
#include <map>
#include <set>

#include "attrib/error.h"

using nlohmann::json;

namespace attrib::cli {

void add_lm_options(CLI::App& app) {
  add_value(app, "--template", "STR",
            "causal LM: a prompt with named slots, e.g. \"{name} lives in {city}\"; each slot is\n"
            "one feature, the text around the slots is never perturbed");
  add_value(app, "--slot", "NAME=VALUE", "a --template slot's text (repeatable)");
  add_value(app, "--group", "NAME=SLOT,SLOT",
            "--template: slots perturbed together, one score under NAME (repeatable);\n"
            "perturbation methods only");
  add_value(app, "--baseline", "SLOT=TEXT[|TEXT...]",
            "--template: what an absent slot becomes (repeatable; default: its tokens replaced\n"
            "by the method's mask/unk/pad token); several texts: a distribution drawn from\n"
            "uniformly, the attributions averaged over --baseline-draws draws; perturbation\n"
            "methods only");
  add_value(app, "--baseline-draws", "N",
            "draws from the --baseline distributions, seeded by --seed (default 8)");
  add_value(app, "--target-text", "STR",
            "causal LM: the continuation to explain, tokenised on whitespace (default: the\n"
            "model's greedy continuation of the prompt)");
  add_value(app, "--max-new-tokens", "N", "causal LM: longest greedy continuation (default 20)");
  add_value(app, "--target-output", "log_prob|prob",
            "causal LM: the explained output of the continuation (default log_prob)");
}

namespace {

std::map<std::string, std::string> text_values(const Args& args, const std::string& option) {
  std::map<std::string, std::string> out;
  const json given = key_values(args.values(option), option);
  for (const auto& [name, v] : given.items())
    out[name] = v.is_string() ? v.get<std::string>() : v.dump();  // slot n=3: the text "3"
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t end; (end = s.find(sep, at)) != std::string::npos; at = end + 1)
    out.push_back(s.substr(at, end - at));
  out.push_back(s.substr(at));
  return out;
}

// Features of the slot-level space: the --group groups, then each slot in no group, in prompt
// order of their first slot.
std::vector<SlotFeature> slot_features(const PromptTemplate& t, const Args& args) {
  std::vector<SlotFeature> features;
  std::vector<int> group_of(t.slot_names.size(), -1);
  for (const auto& [name, members] : text_values(args, "--group")) {
    SlotFeature f{name, {}};
    if (t.slot(name) >= 0)
      throw UsageError("--group " + name + ": a group cannot take the name of a slot");
    for (const std::string& m : split(members, ',')) {
      const int s = t.slot(m);
      if (s < 0) throw UsageError("--group " + name + ": the template has no slot {" + m + "}");
      if (group_of[s] >= 0)
        throw UsageError("--group " + name + ": slot {" + m + "} is already in group " +
                         features[group_of[s]].name);
      group_of[s] = static_cast<int>(features.size());
      f.slots.push_back(s);
    }
    features.push_back(std::move(f));
  }
  for (size_t s = 0; s < t.slot_names.size(); ++s)
    if (group_of[s] < 0) features.push_back({t.slot_names[s], {static_cast<int>(s)}});
  std::stable_sort(features.begin(), features.end(),
                   [](const SlotFeature& a, const SlotFeature& b) {
                     return *std::min_element(a.slots.begin(), a.slots.end()) <
                            *std::min_element(b.slots.begin(), b.slots.end());
                   });
  return features;
}

}  // namespace

TemplateInput template_input(const std::shared_ptr<CausalLmTarget>& lm, const Args& args,
                             const Vocab& vocab) {
  TemplateInput in;
  PromptTemplate t;
  try {
    t = parse_template(args.value("--template"), text_values(args, "--slot"), vocab);
  } catch (const Error& e) {
    throw UsageError(std::string("--template: ") + e.what());
  }
  in.prompt_ids = t.ids();
  in.baselines = json::object();
  if (!args.given("--group") && !args.given("--baseline")) {
    in.batch = template_tokens(t);
    in.tokens = t.tokens();
    in.features = t.slot_names;
    return in;
  }
  std::map<int, SlotBaseline> baselines;
  for (const auto& [name, texts] : text_values(args, "--baseline")) {
    const int s = t.slot(name);
    if (s < 0) throw UsageError("--baseline " + name + ": the template has no slot {" + name + "}");
    SlotBaseline b;
    for (const std::string& text : split(texts, '|')) {
      std::vector<int64_t> ids;
      for (const std::string& w : whitespace_tokens(text)) ids.push_back(vocab.id(w));
      b.texts.push_back(text);  // an empty text removes the slot
      b.ids.push_back(std::move(ids));
    }
    in.baselines[name] = b.texts;
    baselines[s] = std::move(b);
  }
  std::vector<SlotFeature> features = slot_features(t, args);
  in.features = json::array();
  for (const SlotFeature& f : features) in.features.push_back(f.name);
  in.tokens = in.features;
  in.slots = std::make_shared<SlotPromptModel>(lm, std::move(t), std::move(features),
                                               std::move(baselines));
  in.batch = in.slots->batch(1);
  return in;
}

json set_continuation(CausalLmTarget& lm, const std::vector<int64_t>& prompt_ids, Batch& batch,
                      const Vocab& vocab, const Args& args) {
  const std::string given = args.value("--target-text");
  const int64_t max_new = args.integer("--max-new-tokens", 20, 1);
  const std::string output = args.value("--target-output", "log_prob");
  if (output != "log_prob" && output != "prob")
    throw UsageError("--target-output: expected log_prob or prob, got \"" + output + "\"");
  std::vector<int64_t> target;
  for (const std::string& w : whitespace_tokens(given)) target.push_back(vocab.id(w));
  const bool generated = target.empty();
  if (generated) {
    if (!given.empty()) throw UsageError("--target-text: no tokens in the given text");
    target = lm.generate(prompt_ids, max_new);
  }
  lm.set_target(target, output);
  const int64_t n = 1 + static_cast<int64_t>(target.size());
  for (at::Tensor* t : {&batch.inputs, &batch.attention_mask, &batch.word_ids})
    *t = t->repeat({n, 1});
  if (batch.labels.defined()) batch.labels = batch.labels.repeat({n});
  if (batch.offsets.defined()) batch.offsets = batch.offsets.repeat({n, 1, 1});
  // One id for every copy: sampling methods draw the same coalitions for every output.
  batch.ids.assign(n, batch.ids.front());
  json tokens = json::array();
  for (int64_t id : target)
    tokens.push_back(id >= 0 && id < vocab.size() ? vocab.tokens()[id] : std::to_string(id));
  return {{"target_ids", target},
          {"target_tokens", tokens},
          {"generated", generated},
          {"output", output}};
}

Explanation explain_prompt(AttributionMethod& method, ModelAdapter& model, SlotPromptModel* slots,
                           const Batch& batch, const at::Tensor& targets, const ExplainContext& ctx,
                           const Args& args, json& draws) {
  const int64_t n_draws = args.integer("--baseline-draws", 8, 1);
  if (!slots || !slots->draws()) {
    if (args.given("--baseline-draws"))
      throw UsageError("--baseline-draws: no --baseline has several texts to draw from");
    return method.explain(model, batch, targets, ctx);
  }
  // The mean over draws of the attributions, each draw with its own baselines (Captum's
  // num_trials): the expectation over the baseline distribution, estimated.
  Explanation sum;
  for (int64_t k = 0; k < n_draws; ++k) {
    draws.push_back(slots->draw(ctx.seed, k));
    Explanation e = method.explain(model, batch, targets, ctx);
    const at::Tensor a = e.attributions.to(at::kDouble);
    sum.attributions = k == 0 ? a : sum.attributions + a;
    sum.forward_rows += e.forward_rows;
    sum.backward_rows += e.backward_rows;
    if (k == 0) sum.info = e.info;
  }
  sum.attributions = sum.attributions / static_cast<double>(n_draws);
  sum.info["baseline_draws"] = n_draws;
  return sum;
}

}  // namespace attrib::cli
