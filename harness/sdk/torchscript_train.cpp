// TorchScriptModel::train: fits a TorchScript module's parameters with Adam, early-stopped on
// validation accuracy (torchscript_model.cpp holds the rest of the adapter).
#include <torch/optim/adam.h>

#include <algorithm>

#include "attrib/error.h"
#include "attrib/torchscript_model.h"
#include "torchscript_detail.h"

namespace attrib {

using nlohmann::json;
using torchscript_detail::on;
using torchscript_detail::seeded_generator;

namespace {
double macro_f1(const at::Tensor& pred, const at::Tensor& gold, int64_t C) {
  auto p = pred.to(at::kCPU).contiguous();
  auto g = gold.to(at::kCPU).contiguous();
  const int64_t* pp = p.data_ptr<int64_t>();
  const int64_t* gp = g.data_ptr<int64_t>();
  std::vector<double> tp(C, 0), fp(C, 0), fn(C, 0);
  for (int64_t i = 0; i < p.numel(); ++i) {
    if (pp[i] == gp[i]) {
      tp[pp[i]] += 1;
    } else {
      if (pp[i] >= 0 && pp[i] < C) fp[pp[i]] += 1;
      fn[gp[i]] += 1;
    }
  }
  double sum = 0;
  int64_t n = 0;
  for (int64_t c = 0; c < C; ++c) {
    if (tp[c] + fp[c] + fn[c] == 0) continue;  // class absent from gold and predictions
    sum += 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]);
    ++n;
  }
  return n ? sum / n : 0.0;
}
}  // namespace

TrainReport TorchScriptModel::train(const Batch& train, const Batch& val,
                                    const TrainOptions& options) {
  const std::string& name = info_.name;
  ATTRIB_CHECK(train.inputs.defined() && train.labels.defined(), "torchscript model '", name,
               "': train: expected a batch with inputs and labels");
  ATTRIB_CHECK(train.modality == info_.modality, "torchscript model '", name,
               "': train: expected a ", info_.modality == Modality::kText ? "text" : "dense",
               " batch, got a ", train.modality == Modality::kText ? "text" : "dense", " one");
  ATTRIB_CHECK(options.batch_size > 0 && options.epochs > 0, "torchscript model '", name,
               "': train: expected epochs > 0 and batch_size > 0, got ", options.epochs, " and ",
               options.batch_size);
  const bool text = info_.modality == Modality::kText;

  // Examples with a known label.
  auto labelled = [&](const Batch& b, at::Tensor* x, at::Tensor* m, at::Tensor* y) {
    if (!b.inputs.defined() || b.size() == 0 || !b.labels.defined()) return;
    at::Tensor labels = b.labels.to(at::kCPU, at::kLong);
    at::Tensor keep = at::nonzero(labels >= 0).view({-1});
    *x = on(b.inputs.index_select(0, keep.to(b.inputs.device())), device_);
    if (text) {
      ATTRIB_CHECK(b.attention_mask.defined(), "torchscript model '", name,
                   "': train: text batch without attention_mask");
      *m = on(b.attention_mask.index_select(0, keep.to(b.attention_mask.device())), device_);
    }
    *y = labels.index_select(0, keep).to(device_);
  };
  at::Tensor tx, tm, ty, vx, vm, vy;
  labelled(train, &tx, &tm, &ty);
  labelled(val, &vx, &vm, &vy);
  ATTRIB_CHECK(tx.defined() && tx.size(0) > 0, "torchscript model '", name,
               "': train: expected labelled training examples (label >= 0), found none");
  auto fwd = [&](const at::Tensor& x, const at::Tensor& m) {
    std::vector<c10::IValue> args{x};
    if (text) args.emplace_back(m);
    return call("forward", std::move(args));
  };
  // A module may define its own objective, training_loss(inputs[, attention_mask], labels) -> a
  // scalar (a causal LM's next-token loss over the whole sequence, say); else cross-entropy of
  // forward's logits against the labels.
  const bool own_loss = module_.find_method("training_loss").has_value();
  auto loss_of = [&](const at::Tensor& x, const at::Tensor& m, const at::Tensor& y) {
    std::vector<c10::IValue> args{x};
    if (text) args.emplace_back(m);
    args.emplace_back(y);
    const at::Tensor loss = call("training_loss", std::move(args));
    ATTRIB_CHECK(loss.numel() == 1, "torchscript model '", name,
                 "': training_loss returned a tensor of shape ", loss.sizes(),
                 ", expected a scalar");
    return loss.reshape({});
  };
  // Number of classes from a first forward when unknown.
  if (info_.num_classes == 0) {
    at::NoGradGuard no_grad;
    forward(tx.narrow(0, 0, 1), text ? tm.narrow(0, 0, 1) : at::Tensor());
  }
  const int64_t C = info_.num_classes;
  const int64_t max_label = ty.max().item<int64_t>();
  ATTRIB_CHECK(max_label < C, "torchscript model '", name, "': train: label ", max_label,
               " out of range, expected labels in [0, ", C, ")");
  const bool monitor_train = !vx.defined() || vx.size(0) == 0;
  if (monitor_train) {
    vx = tx;
    vm = tm;
    vy = ty;
  }
  ATTRIB_CHECK(vy.max().item<int64_t>() < C, "torchscript model '", name,
               "': train: validation label out of range, expected labels in [0, ", C, ")");

  auto predict = [&](const at::Tensor& x, const at::Tensor& m) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> preds;
    const int64_t step = std::max<int64_t>(options.batch_size, 256);
    for (int64_t i = 0; i < x.size(0); i += step) {
      const int64_t n = std::min(step, x.size(0) - i);
      preds.push_back(fwd(x.narrow(0, i, n), text ? m.narrow(0, i, n) : m).argmax(1));
    }
    return at::cat(preds);
  };

  at::manual_seed(options.seed);
  at::Generator gen = seeded_generator(options.seed);
  std::vector<at::Tensor> params;
  for (auto p : module_.parameters()) params.push_back(p);
  ATTRIB_CHECK(!params.empty(), "torchscript model '", name, "': train: no parameters to train");
  auto freeze = [&] {
    module_.eval();
    for (auto& p : params) {
      p.requires_grad_(false);
      p.mutable_grad() = at::Tensor();
    }
  };
  std::vector<at::Tensor> best;
  for (auto& p : params) best.push_back(p.detach().clone());
  double best_acc = -1.0;
  int64_t since_best = 0;
  TrainReport report;
  report.history = json::array();
  try {
    for (auto& p : params) p.requires_grad_(true);
    torch::optim::Adam optimizer(
        params,
        torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay));
    const int64_t N = tx.size(0);
    for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
      module_.train(true);
      at::Tensor order = at::randperm(N, gen, at::kLong).to(device_);
      double loss_sum = 0;
      for (int64_t i = 0; i < N; i += options.batch_size) {
        const int64_t n = std::min(options.batch_size, N - i);
        at::Tensor idx = order.narrow(0, i, n);
        const at::Tensor x = tx.index_select(0, idx), y = ty.index_select(0, idx);
        const at::Tensor m = text ? tm.index_select(0, idx) : tm;
        at::Tensor loss = own_loss ? loss_of(x, m, y) : at::cross_entropy_loss(fwd(x, m), y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>() * static_cast<double>(n);
      }
      module_.eval();
      const double acc = predict(vx, vm).eq(vy).to(at::kDouble).mean().item<double>();
      const double loss = loss_sum / static_cast<double>(N);
      json entry = {{"epoch", epoch}, {"train_loss", loss}, {"val_accuracy", acc}};
      if (monitor_train) entry["monitored"] = "training accuracy (no validation examples)";
      report.history.push_back(std::move(entry));
      report.epochs_run = epoch;
      if (options.on_epoch) options.on_epoch(epoch, options.epochs, loss, acc);
      if (acc > best_acc) {
        best_acc = acc;
        since_best = 0;
        at::NoGradGuard no_grad;
        for (size_t k = 0; k < params.size(); ++k) best[k].copy_(params[k]);
      } else if (++since_best >= options.patience) {
        break;
      }
    }
  } catch (...) {
    freeze();
    throw;
  }
  {
    at::NoGradGuard no_grad;
    for (size_t k = 0; k < params.size(); ++k) params[k].copy_(best[k]);
  }
  freeze();
  at::Tensor pred = predict(vx, vm);
  report.val_accuracy = pred.eq(vy).to(at::kDouble).mean().item<double>();
  report.val_macro_f1 = macro_f1(pred, vy, C);
  return report;
}

}  // namespace attrib
