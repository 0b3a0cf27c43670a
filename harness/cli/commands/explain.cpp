// `attrib explain`: explains one input with one method and prints the attributions as JSON.
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "attrib/error.h"
#include "attrib/params.h"
#include "command.h"
#include "data/dataset.h"
#include "explain_lm.h"
#include "registry.h"
#include "runner.h"
#include "suite_args.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Explains one input and prints {\"attributions\": [[...]], \"extras\": {...}, ...} as JSON.");
  add_value(app, "--model", "SPEC",
            "torchscript:PATH (any TorchScript model following the contract) or\n"
            "PLUGIN[:PATH] (a model plugin; PATH is its checkpoint)");
  add_value(app, "--method", "NAME", "a method plugin (see `attrib plugins`)");
  add_value(app, "--param", "K=V",
            "method parameter (repeatable); V is parsed as JSON, else taken as a string");
  add_value(app, "--model-param", "K=V", "model plugin parameter (repeatable)");
  add_value(app, "--input", "JSON",
            "dense input: one example as a JSON array, {\"batch\": [...]} for several,\n"
            "or @FILE to read the JSON from a file");
  add_value(app, "--text", "STR",
            "text input, tokenised on whitespace with the model's vocabulary");
  add_value(app, "--target", "K", "class to explain (default: predicted)");
  add_value(app, "--seed", "N", "seed for random methods (default 0)");
  add_value(app, "--batch-cap", "N", "most rows per model forward (default 256)");
  add_value(app, "--reduction", "R",
            "text: embedding reduction sum|mean|l2|l1|max_abs (default sum)");
  add_value(app, "--threads", "N", "torch threads (default: all cores)");
  add_value(app, "--plugin-dir", "DIR", "extra plugin folder (repeatable)");
  add_isolation_options(app);
  add_lm_options(app);
  app.add_flag("--json", "compact JSON (default: indented)");
}

json tensor_to_json(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  if (c.dim() == 0) return c.item<double>();
  json out = json::array();
  for (int64_t i = 0; i < c.size(0); ++i) out.push_back(tensor_to_json(c[i]));
  return out;
}

at::Tensor json_to_tensor(const json& v, const std::string& where) {
  if (v.is_number()) return at::scalar_tensor(v.get<double>(), at::kFloat);
  if (!v.is_array() || v.empty())
    throw InputError(where + ": expected a number or a non-empty array, got " + describe_json(v));
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < v.size(); ++i)
    parts.push_back(json_to_tensor(v[i], where + "[" + std::to_string(i) + "]"));
  for (const auto& p : parts)
    if (p.sizes() != parts[0].sizes())
      throw InputError(where + ": ragged array (elements of shapes " +
                       std::to_string(parts[0].numel()) + " and " + std::to_string(p.numel()) +
                       " values)");
  return at::stack(parts);
}

int run(const Args& args) {
  const bool compact = args.flag("--json");
  const std::string model_spec = args.value("--model");
  const std::string method_name = args.value("--method");
  const json params = key_values(args.values("--param"), "--param");
  json model_params = key_values(args.values("--model-param"), "--model-param");
  const std::string input = args.value("--input");
  const std::string text = args.value("--text");
  const std::string target = args.value("--target", "predicted");
  const int64_t seed = args.integer("--seed", 0, 0);
  const int64_t batch_cap = args.integer("--batch-cap", 256, 1);
  const std::string reduction = args.value("--reduction", "sum");
  const int64_t threads = args.integer("--threads", 0, 0);
  if (!args.positional().empty())
    throw UsageError("unexpected argument \"" + args.positional()[0] + "\"");
  if (model_spec.empty()) throw UsageError("--model is required");
  if (method_name.empty()) throw UsageError("--method is required");
  const std::string templ = args.value("--template");
  if (input.empty() + text.empty() + templ.empty() != 2)
    throw UsageError("give exactly one of --input, --text and --template");
  Registry registry;
  load_plugins(registry, args.values("--plugin-dir"));
  configure_threads(threads);
  report_load_errors(registry);
  // The --input JSON is checked before a model is loaded.
  json input_json;
  if (!input.empty()) {
    try {
      input_json =
          input[0] == '@' ? read_json_file(input.substr(1)) : parse_json_text(input, "--input");
    } catch (const Error& e) {
      throw InputError(e.what());
    }
  }

  // Model SPEC: PLUGIN[:PATH].
  const auto colon = model_spec.find(':');
  const std::string plugin = model_spec.substr(0, colon);
  const PluginInfo* mp = registry.find(plugin, ATTRIB_KIND_MODEL);
  if (colon != std::string::npos && mp) {
    const json schema = mp->metadata.value("params", json::object());
    model_params[schema.contains("path") ? "path" : "checkpoint"] = model_spec.substr(colon + 1);
  }
  const IsolationOptions isolation = isolation_options(args);
  std::shared_ptr<ModelAdapter> model;
  std::shared_ptr<AttributionMethod> method;
  try {
    // A TorchScript causal LM is explained through its continuation's log-probability.
    if (plugin == "torchscript" && colon != std::string::npos)
      model = load_causal_lm(model_spec.substr(colon + 1));
    if (!model) model = registry.create_model(plugin, model_params, "--model-param");
    method = registry.create_method(method_name, params, "--param");
    if (isolated(*registry.find(method_name, ATTRIB_KIND_METHOD), isolation))
      method = isolate(std::move(method), method_name, isolation.timeout_seconds);
  } catch (const Error& e) {
    throw PluginError(e.what());
  }
  const ModelInfo& info = model->info();
  const std::shared_ptr<CausalLmTarget> lm = std::dynamic_pointer_cast<CausalLmTarget>(model);

  Batch batch;
  json tokens;
  Vocab vocab;
  TemplateInput prompt;
  if (!templ.empty()) {
    if (info.vocab.empty() || !lm)
      throw UsageError("--template: needs a causal LM with a vocabulary");
    vocab = model_vocab(info, Vocab());
    prompt = template_input(lm, args, vocab);
    batch = prompt.batch;
    tokens = prompt.tokens;
    if (prompt.slots) model = prompt.slots;  // slot-level inputs, read by the slot model
  } else if (!text.empty()) {
    if (info.modality != Modality::kText)
      throw InputError("--text: model '" + info.name + "' takes dense inputs; use --input");
    if (info.vocab.empty())
      throw InputError("--text: model '" + info.name +
                       "' carries no vocabulary (metadata 'vocab'); pass token ids with --input");
    TextExample ex{"input-0", whitespace_tokens(text), -1, {}};
    if (ex.tokens.empty()) throw InputError("--text: no tokens in the given text");
    tokens = ex.tokens;
    std::vector<TextExample> one = {ex};
    vocab = model_vocab(info, Vocab());
    // The model's own length limit when it declares one (metadata max_len), cut at a word.
    int64_t max_len = 1 << 20;
    if (info.metadata.is_object() && info.metadata.contains("max_len") &&
        info.metadata["max_len"].is_number_integer())
      max_len = std::max<int64_t>(1, info.metadata["max_len"].get<int64_t>());
    batch = collate_text(one, 0, 1, vocab, max_len);
    const int64_t kept = batch.word_ids.max().item<int64_t>() + 1;
    if (kept < static_cast<int64_t>(ex.tokens.size())) {
      std::cerr << "attrib explain: --text: kept the first " << kept << " of " << ex.tokens.size()
                << " words (the model takes at most " << max_len << " tokens)\n";
      tokens = json(std::vector<std::string>(ex.tokens.begin(), ex.tokens.begin() + kept));
    }
  } else {
    const json& v = input_json;
    const bool many = v.is_object() && v.contains("batch");
    at::Tensor x = json_to_tensor(many ? v["batch"] : v, many ? "--input.batch" : "--input");
    if (!many) x = x.unsqueeze(0);
    if (info.modality == Modality::kText) {
      batch.modality = Modality::kText;
      batch.inputs = x.to(at::kLong);
      batch.attention_mask = at::ones_like(batch.inputs);
      batch.word_ids = at::arange(x.size(1)).unsqueeze(0).expand({x.size(0), -1}).contiguous();
    } else {
      batch.inputs = x;
    }
    for (int64_t i = 0; i < x.size(0); ++i) batch.ids.push_back("input-" + std::to_string(i));
    batch.labels = at::full({x.size(0)}, -1, at::kLong);
  }
  for (const char* option : {"--slot", "--group", "--baseline", "--baseline-draws"})
    if (templ.empty() && args.given(option))
      throw UsageError(std::string(option) + ": only with --template");
  registry.check_compatible(method_name, *model, method_name, model->info().name);
  json generation;
  if (lm) {
    if (text.empty() && templ.empty())
      throw UsageError("a causal LM explains a --text or --template prompt");
    if (args.given("--target")) throw UsageError("--target: a causal LM explains every class");
    std::vector<int64_t> prompt_ids = prompt.prompt_ids;
    if (templ.empty()) {
      const at::Tensor ids = batch.inputs[0].masked_select(batch.attention_mask[0].to(at::kBool));
      prompt_ids.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
    }
    generation = set_continuation(*lm, prompt_ids, batch, vocab, args);
  }
  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    logits = model->forward(batch.inputs, batch.attention_mask).to(at::kCPU);
  }
  at::Tensor targets;
  if (lm) {
    targets = at::arange(batch.size(), at::kLong);  // the sequence, then each target token
  } else if (target == "predicted") {
    targets = logits.argmax(1);
  } else {
    const int64_t k = std::atoll(target.c_str());
    if (target.find_first_not_of("0123456789") != std::string::npos || k >= logits.size(1))
      throw UsageError("--target: expected 'predicted' or a class index in [0, " +
                       std::to_string(logits.size(1) - 1) + "], got \"" + target + "\"");
    targets = at::full({batch.size()}, k, at::kLong);
  }
  ExplainContext ctx{static_cast<uint64_t>(seed), batch_cap};
  json draws = json::array();
  Explanation e =
      explain_prompt(*method, *model, prompt.slots.get(), batch, targets, ctx, args, draws);
  json doc = {
      {"model", model_spec},
      {"method", method_name},
      {"params", registry.resolve(method_name, ATTRIB_KIND_METHOD, params, "--param")},
      {"target", tensor_to_json(targets)},
      {"logits", tensor_to_json(logits)},
      {"attributions", tensor_to_json(e.attributions)},
      {"attribution_shape", e.attributions.sizes().vec()},
      {"sum",
       tensor_to_json(e.attributions.to(at::kDouble).reshape({e.attributions.size(0), -1}).sum(1))},
      {"info", e.info},
      {"forward_rows", e.forward_rows},
      {"backward_rows", e.backward_rows}};
  json extras = json::object();
  for (const auto& [k, v] : e.extras) extras[k] = tensor_to_json(v);
  doc["extras"] = extras;
  if (info.modality == Modality::kText) {
    // One score per word (a word's subword tokens summed); the model's own tokens beside them
    // when they differ from the words.
    const at::Tensor per_token = token_scores(e.attributions, batch, reduction);
    const at::Tensor starts = word_starts(batch.word_ids.to(at::kCPU));
    const at::Tensor per_word = feature_scores(e.attributions, batch, reduction);
    doc["tokens"] = tokens;
    doc["token_scores"] = tensor_to_json(per_word);
    const bool subwords = starts.sum().item<int64_t>() < batch.word_ids.ge(0).sum().item<int64_t>();
    if (starts.size(0) == 1 && subwords) {
      doc["token_scores"] = tensor_to_json(per_word.masked_select(starts).unsqueeze(0));
      json pieces = json::array();
      const at::Tensor ids = batch.inputs.to(at::kCPU).contiguous();
      for (int64_t t = 0; t < ids.size(1); ++t) {
        const int64_t id = ids[0][t].item<int64_t>();
        pieces.push_back(id >= 0 && id < vocab.size() ? vocab.tokens()[id] : std::to_string(id));
      }
      doc["subword_tokens"] = pieces;
      doc["subword_word_ids"] = tensor_to_json(batch.word_ids.to(at::kCPU));
      doc["subword_scores"] = tensor_to_json(per_token);
      doc["subword_aggregation"] = "sum";
    }
    doc["token_reduction"] = reduction;
  }
  if (lm) {
    // Captum's LLMAttribution layout: seq_attr [words], token_attr [words x target tokens].
    const at::Tensor per_word = feature_scores(e.attributions, batch, reduction)
                                    .masked_select(word_starts(batch.word_ids.to(at::kCPU)))
                                    .view({batch.size(), -1});
    generation["seq_attr"] = tensor_to_json(per_word[0]);
    generation["token_attr"] = tensor_to_json(per_word.slice(0, 1).t());
    generation["target_scores"] = tensor_to_json(logits[0]);
    if (!templ.empty()) generation["features"] = prompt.features;
    if (prompt.slots) {
      generation["feature_space"] = "slots";  // one position per slot or group
      generation["baselines"] = prompt.baselines;
      if (!draws.empty()) generation["baseline_draws"] = draws;
    }
    doc["generation"] = generation;
  }
  std::cout << (compact ? doc.dump() : doc.dump(2)) << "\n";
  return kOk;
}

}  // namespace

const Command kExplainCommand = {
    "explain",
    "",
    "explain one input with one method and print the attributions as JSON",
    "--model SPEC --method NAME (--input JSON | --text STR) [options]",
    add_options,
    run,
};

}  // namespace attrib::cli
