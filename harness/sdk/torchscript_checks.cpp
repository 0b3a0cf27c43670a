// TorchScriptModel's load-time conformance checks: each capability a module offers is verified on
// probe inputs (determinism, batch and padding independence, embeddings that reproduce forward,
// attention rows that sum to 1 over unmasked keys, attention gradients); a failed check withdraws
// the capability and says why in ModelInfo::capability_notes.
#include <torch/csrc/autograd/autograd.h>

#include "attrib/torchscript_model.h"
#include "torchscript_detail.h"

namespace attrib {

using namespace torchscript_detail;  // NOLINT: the TorchScriptModel sources' shared helpers

void TorchScriptModel::conformance_checks() {
  const std::string& name = info_.name;
  auto withdraw = [&](uint64_t cap, const std::string& key, const std::string& why) {
    info_.capabilities &= ~cap;
    if (!info_.capability_notes.contains(key)) info_.capability_notes[key] = why;
  };
  // A finding that withdraws nothing (e.g. forward is not batch-independent); appended.
  auto note = [&](const std::string& key, const std::string& why) {
    if (!info_.capability_notes.contains(key))
      info_.capability_notes[key] = why;
    else
      info_.capability_notes[key] = info_.capability_notes[key].get<std::string>() + "; " + why;
  };
  auto logits_of = [&](const char* method, std::vector<c10::IValue> args, int64_t batch) {
    at::Tensor out = call(method, std::move(args));
    if (out.dim() != 2 || out.size(0) != batch || !at::isFloatingType(out.scalar_type()))
      throw Error(detail::cat("torchscript model '", name, "': ", method, " returned shape ",
                              shape_str(out), " ", out.scalar_type(),
                              ", expected [B, C] float logits with B = ", batch));
    if (info_.num_classes > 0 && out.size(1) != info_.num_classes)
      throw Error(detail::cat("torchscript model '", name, "': ", method, " returned ", out.size(1),
                              " logits per example, expected num_classes = ", info_.num_classes,
                              " (metadata)"));
    return out;
  };

  // Layers (metadata "layers" or leaf submodules with parameters).
  if (info_.capabilities & ATTRIB_CAP_LAYERS) {
    try {
      if (layers().empty()) withdraw(ATTRIB_CAP_LAYERS, "layers", "no parameterised layers");
    } catch (const Error& e) {
      withdraw(ATTRIB_CAP_LAYERS, "layers", e.what());
    }
  }

  if (info_.modality == Modality::kDense) {
    if (info_.input_shape.empty()) {
      // Nothing to probe with: num_classes is set at the first forward.
      if (info_.num_classes == 0)
        note("num_classes", "unknown until the first forward (metadata has no input_shape)");
      return;
    }
    at::NoGradGuard no_grad;
    std::vector<int64_t> shape{3};
    shape.insert(shape.end(), info_.input_shape.begin(), info_.input_shape.end());
    at::Tensor x = at::randn(shape, seeded_generator(0)).to(device_);
    at::Tensor batch = logits_of("forward", {x}, 3);
    info_.num_classes = batch.size(1);
    at::Tensor again = logits_of("forward", {x}, 3);
    if (max_diff(batch, again) > kDeterminismTol * scale_of(batch))
      note("forward", "determinism: two identical forward calls differ (max |diff| " +
                          num_str(max_diff(batch, again)) + ")");
    for (int64_t i = 0; i < 3; ++i) {
      at::Tensor alone = logits_of("forward", {x.narrow(0, i, 1)}, 1);
      const std::string why = compare(alone, batch.narrow(0, i, 1), kTol);
      if (!why.empty()) {
        note("forward", "batch independence: example " + std::to_string(i) +
                            " alone vs in a batch of 3: " + why);
        break;
      }
    }
    // Gradient w.r.t. the input.
    try {
      at::AutoGradMode grad_on(true);
      at::Tensor xg = x.clone().requires_grad_(true);
      at::Tensor out = call("forward", {xg});
      auto g = torch::autograd::grad({out.sum()}, {xg}, {}, false, false, true);
      if (g.empty() || !g[0].defined() || !g[0].abs().sum().item<double>())
        withdraw(ATTRIB_CAP_INPUT_GRADIENT, "input_gradient",
                 "gradient of the logits w.r.t. the input is undefined or identically zero");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_INPUT_GRADIENT, "input_gradient",
               std::string("gradient w.r.t. the input failed: ") + one_line(e.what()));
    }
    return;
  }

  // ---- text ----
  int64_t vocab_size = static_cast<int64_t>(info_.vocab.size());
  vocab_size = int_field(info_.metadata, "vocab_size", vocab_size);
  if (vocab_size <= 0) vocab_size = 4;  // unknown: small ids are valid in any vocabulary
  int64_t max_len = int_field(info_.metadata, "max_len", 0);
  const int64_t T = max_len > 0 ? std::min<int64_t>(6, std::max<int64_t>(max_len - 2, 2)) : 6;
  const int64_t B = 3;
  const int64_t pad = info_.pad_id >= 0 && info_.pad_id < vocab_size ? info_.pad_id : 0;
  at::Tensor ids = at::randint(0, vocab_size, {B, T}, seeded_generator(0), at::kLong);
  at::Tensor mask = at::ones({B, T}, at::kLong);
  const int64_t lengths[3] = {T, std::max<int64_t>(1, T - 2), std::max<int64_t>(1, T / 3)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = lengths[b]; t < T; ++t) {
      mask[b][t] = 0;
      ids[b][t] = pad;
    }
  ids = ids.to(device_);
  mask = mask.to(device_);

  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    if (info_.num_classes == 0) {
      at::Tensor probe = logits_of("forward",
                                   {at::zeros({1, std::min<int64_t>(4, T)}, at::kLong).to(device_),
                                    at::ones({1, std::min<int64_t>(4, T)}, at::kLong).to(device_)},
                                   1);
      info_.num_classes = probe.size(1);
    }
    logits = logits_of("forward", {ids, mask}, B);
    at::Tensor again = logits_of("forward", {ids, mask}, B);
    if (max_diff(logits, again) > kDeterminismTol * scale_of(logits))
      note("forward", "determinism: two identical forward calls differ (max |diff| " +
                          num_str(max_diff(logits, again)) + ")");
    // Batch independence and padding invariance: each example alone, trimmed to its length.
    for (int64_t b = 0; b < B; ++b) {
      at::Tensor alone = logits_of("forward",
                                   {ids.narrow(0, b, 1).narrow(1, 0, lengths[b]),
                                    mask.narrow(0, b, 1).narrow(1, 0, lengths[b])},
                                   1);
      const std::string why = compare(alone, logits.narrow(0, b, 1), kTol);
      if (!why.empty()) {
        note("forward",
             detail::cat("batch independence / padding invariance: example ", b, " alone (length ",
                         lengths[b], ") vs padded in a batch of ", B, ": ", why));
        break;
      }
    }
    if (max_len <= 0 || T + 2 <= max_len) {
      at::Tensor ids2 = at::cat({ids, at::full({B, 2}, pad, ids.options())}, 1);
      at::Tensor mask2 = at::cat({mask, at::zeros({B, 2}, mask.options())}, 1);
      const std::string why = compare(logits_of("forward", {ids2, mask2}, B), logits, kTol);
      if (!why.empty()) note("forward", "padding invariance: 2 extra padded positions: " + why);
    }
  }

  // 1 + 6: embeddings.
  if (info_.capabilities & ATTRIB_CAP_EMBEDDINGS) {
    try {
      at::Tensor e;
      {
        at::NoGradGuard no_grad;
        e = call("embed", {ids});
      }
      if (e.dim() != 3 || e.size(0) != B || e.size(1) != T || !at::isFloatingType(e.scalar_type()))
        throw Error(detail::cat("embed returned shape ", shape_str(e), " ", e.scalar_type(),
                                ", expected [B, T, d] float with B = ", B, ", T = ", T));
      at::Tensor eg = e.detach().clone().requires_grad_(true);
      at::Tensor out;
      {
        at::AutoGradMode grad_on(true);
        out = call("forward_from_embeddings", {eg, mask});
      }
      const std::string why = compare(out, logits, kTol);
      if (!why.empty())
        throw Error("forward_from_embeddings(embed(ids)) differs from forward(ids): " + why);
      auto g = torch::autograd::grad({out.sum()}, {eg}, {}, false, false, true);
      if (g.empty() || !g[0].defined() || g[0].abs().sum().item<double>() == 0.0)
        throw Error(
            "gradient of forward_from_embeddings w.r.t. the embeddings is undefined or "
            "identically zero");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_INPUT_GRADIENT, "embeddings", one_line(e.what()));
      if (!info_.capability_notes.contains("input_gradient"))
        info_.capability_notes["input_gradient"] = "text models need the embeddings capability";
    }
  } else {
    note("input_gradient", "text models need embed() and forward_from_embeddings()");
  }

  // Rows of attention probabilities sum to 1 over unmasked keys (for unmasked queries).
  auto check_rows = [&](const at::Tensor& a, int64_t rows, const char* what) {
    // a: [B, H, R, T]; queries R are tokens (rows == T) or labels.
    at::Tensor keys = mask.to(a.scalar_type()).view({B, 1, 1, T});
    at::Tensor sums = (a.detach() * keys).sum(-1);  // [B, H, R]
    at::Tensor total = a.detach().sum(-1);
    at::Tensor valid = rows == T ? mask.view({B, 1, T}).to(at::kBool).expand_as(sums)
                                 : at::ones_like(sums, at::kBool);
    const double dev = (sums - 1).abs().masked_select(valid).max().item<double>();
    const double leak = (total - sums).abs().masked_select(valid).max().item<double>();
    if (!(dev <= kRowSumTol) || !(leak <= kRowSumTol))
      throw Error(detail::cat(what, ": rows do not sum to 1 over unmasked keys (max |sum - 1| ",
                              num_str(dev), ", mass on padded keys ", num_str(leak), ")"));
  };
  auto check_attentions = [&](const c10::IValue& out, const char* method,
                              std::vector<at::Tensor>* atts) -> at::Tensor {
    if (!out.isTuple() || out.toTupleRef().elements().size() != 2)
      throw Error(detail::cat(method, " returned ", out.tagKind(),
                              ", expected (logits [B, C], List[Tensor[B, H, T, T]])"));
    const auto& el = out.toTupleRef().elements();
    if (!el[0].isTensor()) throw Error(detail::cat(method, ": first output is not a Tensor"));
    *atts = tensor_list(el[1]);
    if (atts->empty())
      throw Error(detail::cat(method, ": expected a non-empty list of attention tensors, got ",
                              el[1].tagKind()));
    at::Tensor l = el[0].toTensor();
    const std::string why = compare(l, logits, kTol);
    if (!why.empty()) throw Error(detail::cat(method, " logits differ from forward's: ", why));
    for (size_t i = 0; i < atts->size(); ++i) {
      const at::Tensor& a = (*atts)[i];
      if (a.dim() != 4 || a.size(0) != B || a.size(2) != T || a.size(3) != T)
        throw Error(detail::cat(method, ": attention ", i, " has shape ", shape_str(a),
                                ", expected [B, H, T, T] with B = ", B, ", T = ", T));
      check_rows(a, T, (std::string(method) + " attention " + std::to_string(i)).c_str());
    }
    return l;
  };
  auto check_attention_grads = [&](const at::Tensor& l, const std::vector<at::Tensor>& atts,
                                   const char* method) {
    for (const auto& a : atts)
      if (!a.requires_grad())
        throw Error(detail::cat(method, ": attention probabilities are not on the autograd path"));
    auto g = torch::autograd::grad({l.select(1, 0).sum()}, {atts.begin(), atts.end()}, {}, false,
                                   false, true);
    for (size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined() || g[i].abs().sum().item<double>() == 0.0)
        throw Error(detail::cat(method, ": gradient of the logit w.r.t. attention ", i,
                                " is undefined or identically zero"));
  };

  // 2 + 3: attentions.
  if (info_.capabilities & ATTRIB_CAP_ATTENTIONS) {
    try {
      at::AutoGradMode grad_on(true);
      std::vector<at::Tensor> atts;
      at::Tensor l;
      if (info_.capabilities & ATTRIB_CAP_EMBEDDINGS) {
        // Parameters are frozen: put the graph on a leaf so attention gradients exist.
        at::Tensor e = call("embed", {ids}).detach().requires_grad_(true);
        if (module_.find_method("forward_from_embeddings_with_attentions")) {
          std::vector<at::Tensor> atts_e;
          at::Tensor le = check_attentions(
              invoke(module_, name, "forward_from_embeddings_with_attentions", {e, mask}),
              "forward_from_embeddings_with_attentions", &atts_e);
          check_attention_grads(le, atts_e, "forward_from_embeddings_with_attentions");
        }
      }
      l = check_attentions(invoke(module_, name, "forward_with_attentions", {ids, mask}),
                           "forward_with_attentions", &atts);
      // From ids the graph has no leaf requiring grad when parameters are frozen; the gradient
      // check then runs with parameters temporarily requiring grad.
      if (!atts.front().requires_grad()) {
        std::vector<at::Tensor> params;
        for (auto p : module_.parameters()) params.push_back(p);
        for (auto& p : params) p.requires_grad_(true);
        try {
          l = check_attentions(invoke(module_, name, "forward_with_attentions", {ids, mask}),
                               "forward_with_attentions", &atts);
          check_attention_grads(l, atts, "forward_with_attentions");
        } catch (...) {
          for (auto& p : params) p.requires_grad_(false);
          throw;
        }
        for (auto& p : params) p.requires_grad_(false);
      } else {
        check_attention_grads(l, atts, "forward_with_attentions");
      }
      info_.metadata["n_attention_layers"] = atts.size();
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_ATTENTIONS, "attentions", one_line(e.what()));
    }
  }

  // Label attention: (logits, A[B, H, C, T]).
  if (info_.capabilities & ATTRIB_CAP_LABEL_ATTENTION) {
    try {
      at::NoGradGuard no_grad;
      c10::IValue out = invoke(module_, name, "label_attention", {ids, mask});
      if (!out.isTuple() || out.toTupleRef().elements().size() != 2 ||
          !out.toTupleRef().elements()[0].isTensor() || !out.toTupleRef().elements()[1].isTensor())
        throw Error(detail::cat("label_attention returned ", out.tagKind(),
                                ", expected (logits [B, C], A [B, H, C, T])"));
      at::Tensor l = out.toTupleRef().elements()[0].toTensor();
      at::Tensor a = out.toTupleRef().elements()[1].toTensor();
      const std::string why = compare(l, logits, kTol);
      if (!why.empty()) throw Error("label_attention logits differ from forward's: " + why);
      if (a.dim() != 4 || a.size(0) != B || a.size(2) != info_.num_classes || a.size(3) != T)
        throw Error(detail::cat("label_attention returned attention of shape ", shape_str(a),
                                ", expected [B, H, C, T] = [", B, ", H, ", info_.num_classes, ", ",
                                T, "]"));
      check_rows(a, info_.num_classes, "label_attention");
    } catch (const std::exception& e) {
      withdraw(ATTRIB_CAP_LABEL_ATTENTION, "label_attention", one_line(e.what()));
    }
  }

  // Declared capabilities that were not found.
  if (info_.metadata.contains("capabilities") && info_.metadata["capabilities"].is_array()) {
    for (const auto& c : info_.metadata["capabilities"]) {
      if (!c.is_string()) continue;
      uint64_t bit = 0;
      try {
        bit = capability_from_name(c.get<std::string>());
      } catch (const Error&) {
        continue;
      }
      if (!(info_.capabilities & bit) && !info_.capability_notes.contains(c.get<std::string>()))
        info_.capability_notes[c.get<std::string>()] =
            "declared in metadata but not offered (method missing)";
    }
  }
}

}  // namespace attrib
