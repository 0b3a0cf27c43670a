#include "common/perturb.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/random.h"

namespace attrib {
namespace perturb {

namespace {
const char* kPerturbationSchema = R"JSON({
  "target": {"type": "string", "default": "predicted", "enum": ["predicted", "gold", "explained"],
             "description": "class whose score is tracked: the model's prediction on the unperturbed input, the gold label, or the class the explanation explains"},
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"]},
  "substrate": {"type": "string", "default": "auto",
                "enum": ["auto", "unk", "mask", "pad", "delete", "zero", "mean"],
                "description": "replacement of removed features; auto = unk for text, zero for dense. Text: replace by a special token or delete (positions shift); dense: zero or the example's mean"}
})JSON";

const char* kRankingSchema = R"JSON({
  "rank_by": {"type": "string", "default": "signed", "enum": ["signed", "abs"]},
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "order of tied scores: seeded random per example, or by position"}
})JSON";
}  // namespace

nlohmann::json params_schema(const char* extra, bool ranking) {
  nlohmann::json schema = nlohmann::json::parse(kPerturbationSchema);
  if (ranking) schema.update(nlohmann::json::parse(kRankingSchema));
  schema.update(nlohmann::json::parse(extra));
  return schema;
}

int64_t fraction_count(double fraction, int64_t n) {
  if (n <= 0) return 0;
  // A tolerance keeps exact products (0.1 * 30) from rounding up through float error.
  const double k = std::ceil(fraction * static_cast<double>(n) - 1e-9);
  return std::min<int64_t>(n, std::max<int64_t>(1, static_cast<int64_t>(k)));
}

nlohmann::json subset_schema() {
  return nlohmann::json::parse(R"JSON({
  "subset_fraction": {"type": "number", "default": 0.25, "minimum": 0.000001, "maximum": 1,
                      "description": "|S| = ceil(subset_fraction * n), at least 1; used when subset_size = 0"},
  "subset_size": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1000000000,
                  "description": "absolute |S| (Quantus subset_size, 224 there), clamped to n; 0 = use subset_fraction"}
})JSON");
}

int64_t subset_size(const nlohmann::json& params, int64_t n) {
  const int64_t fixed = params["subset_size"].get<int64_t>();
  if (fixed > 0) return std::min(fixed, n);
  return fraction_count(params["subset_fraction"].get<double>(), n);
}

std::vector<int64_t> random_subset(const std::vector<int64_t>& feats, int64_t k, at::Generator& g) {
  const int64_t n = static_cast<int64_t>(feats.size());
  ATTRIB_CHECK(k >= 0 && k <= n, "random subset: expected 0 <= k <= ", n, ", got ", k);
  const at::Tensor perm = at::randperm(n, g, at::kLong).contiguous();
  const int64_t* pp = perm.data_ptr<int64_t>();
  std::vector<int64_t> out(k);
  for (int64_t j = 0; j < k; ++j) out[j] = feats[pp[j]];
  return out;
}

namespace {
// Row i of an int64 [B, T] CPU tensor as a pointer, or nullptr when the tensor is not laid out
// that way (then the tensor path below is taken).
const int64_t* long_row(const at::Tensor& t, int64_t i) {
  if (!t.defined() || t.dim() != 2 || !t.device().is_cpu() || t.scalar_type() != at::kLong ||
      t.stride(1) != 1)
    return nullptr;
  return t.data_ptr<int64_t>() + i * t.stride(0);
}
}  // namespace

std::string resolve_substrate(const std::string& substrate, bool text, const std::string& metric) {
  std::string s = substrate;
  if (s == "auto") s = text ? "unk" : "zero";
  const bool text_substrate = s == "unk" || s == "mask" || s == "pad" || s == "delete";
  ATTRIB_CHECK(text == text_substrate, "metric ", metric, ": substrate '", s,
               "' does not apply to ", text ? "text" : "dense", " inputs");
  return s;
}

std::vector<int64_t> features(const Batch& b, int64_t n_scores, int64_t i) {
  std::vector<int64_t> feats;
  if (b.modality == Modality::kText) {
    if (const int64_t* wp = long_row(b.word_ids, i)) {
      // word_starts() on one row, without a tensor op per example.
      for (int64_t t = 0; t < b.word_ids.size(1); ++t)
        if (wp[t] >= 0 && wp[t] != (t > 0 ? wp[t - 1] : -1)) feats.push_back(t);
      return feats;
    }
    const at::Tensor starts = word_starts(b.word_ids.slice(0, i, i + 1).to(at::kCPU))[0];
    const at::Tensor pos = starts.nonzero().view(-1).contiguous();
    feats.assign(pos.data_ptr<int64_t>(), pos.data_ptr<int64_t>() + pos.numel());
  } else {
    feats.resize(n_scores);
    std::iota(feats.begin(), feats.end(), 0);
  }
  return feats;
}

std::vector<int64_t> rank(const std::vector<int64_t>& feats, const at::Tensor& s,
                          const std::string& id, uint64_t seed, bool abs,
                          const std::string& tie_break) {
  std::vector<double> key(feats.size()), tie(feats.size());
  const double* sp = s.data_ptr<double>();
  for (size_t j = 0; j < feats.size(); ++j) key[j] = abs ? std::fabs(sp[feats[j]]) : sp[feats[j]];
  if (tie_break == "random") {
    at::Generator g = example_generator(seed, id, kTieStream);
    at::Tensor r = at::rand({static_cast<int64_t>(feats.size())}, g, at::kDouble).contiguous();
    std::copy(r.data_ptr<double>(), r.data_ptr<double>() + r.numel(), tie.begin());
  } else {
    for (size_t j = 0; j < feats.size(); ++j) tie[j] = static_cast<double>(j);
  }
  std::vector<size_t> idx(feats.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t c) {
    // NaN scores go last.
    const bool na = std::isnan(key[a]), nc = std::isnan(key[c]);
    if (na != nc) return nc;
    if (!na && key[a] != key[c]) return key[a] > key[c];
    return tie[a] < tie[c];
  });
  std::vector<int64_t> out;
  for (size_t j : idx) out.push_back(feats[j]);
  return out;
}

namespace {
// A text feature is a word: the positions of every token of the words at `changed` (positions
// outside any word are kept as given). `wp` is the example's word_ids row of length T.
std::vector<int64_t> word_tokens(const int64_t* wp, int64_t T,
                                 const std::vector<int64_t>& changed) {
  std::vector<int64_t> chosen, out;
  for (int64_t t : changed) {
    if (wp[t] >= 0)
      chosen.push_back(wp[t]);
    else
      out.push_back(t);
  }
  std::sort(chosen.begin(), chosen.end());
  for (int64_t t = 0; t < T; ++t)
    if (wp[t] >= 0 && std::binary_search(chosen.begin(), chosen.end(), wp[t])) out.push_back(t);
  return out;
}

// A copy of `n` int64 values as a new [n] tensor.
at::Tensor long_copy(const int64_t* p, int64_t n) {
  at::Tensor t = at::empty({n}, at::kLong);
  std::copy(p, p + n, t.data_ptr<int64_t>());
  return t;
}
}  // namespace

std::pair<at::Tensor, at::Tensor> replace(const Batch& b, const at::Tensor& inputs, int64_t i,
                                          const std::vector<int64_t>& changed,
                                          const std::string& substrate, const ModelInfo& info,
                                          const std::string& metric) {
  if (b.modality == Modality::kText) {
    // Metrics build up to hundreds of rows per example: the rows are written through raw
    // pointers (CPU copies made once only when a tensor is elsewhere), not per-token tensor ops.
    const at::Tensor in_cpu =
        long_row(inputs, i) ? inputs : inputs.to(at::kCPU, at::kLong).contiguous();
    const at::Tensor mask_cpu = long_row(b.attention_mask, i)
                                    ? b.attention_mask
                                    : b.attention_mask.to(at::kCPU, at::kLong).contiguous();
    const at::Tensor words_cpu =
        long_row(b.word_ids, i) ? b.word_ids : b.word_ids.to(at::kCPU, at::kLong).contiguous();
    const int64_t T = in_cpu.size(1);
    const int64_t* ip = long_row(in_cpu, i);
    const int64_t* mp = long_row(mask_cpu, i);
    const std::vector<int64_t> changed_tokens = word_tokens(long_row(words_cpu, i), T, changed);
    if (substrate == "delete") {
      std::vector<char> drop(T, 0);
      for (int64_t t : changed_tokens) drop[t] = 1;
      at::Tensor out_ids = at::full({T}, info.pad_id >= 0 ? info.pad_id : 0, at::kLong);
      at::Tensor out_mask = at::zeros({T}, at::kLong);
      int64_t* op = out_ids.data_ptr<int64_t>();
      int64_t* omp = out_mask.data_ptr<int64_t>();
      int64_t w = 0;
      for (int64_t t = 0; t < T; ++t)
        if (!drop[t] && mp[t] != 0) {
          op[w] = ip[t];
          omp[w] = 1;
          ++w;
        }
      return {out_ids, out_mask};
    }
    const int64_t token = substrate == "unk"    ? info.unk_id
                          : substrate == "mask" ? info.mask_id
                                                : info.pad_id;
    ATTRIB_CHECK(token >= 0, "metric ", metric, ": substrate '", substrate, "' needs the model's ",
                 substrate, " token id, but model '", info.name, "' declares none");
    at::Tensor ids = long_copy(ip, T);
    int64_t* idp = ids.data_ptr<int64_t>();
    for (int64_t t : changed_tokens) idp[t] = token;
    return {ids, long_copy(mp, T)};
  }
  at::Tensor x = inputs[i].to(at::kFloat).clone();
  at::Tensor flat = x.view({-1});
  const double fill = dense_fill(inputs, i, substrate);
  if (!changed.empty()) flat.index_fill_(0, at::tensor(changed, at::kLong), fill);
  return {x, at::Tensor()};
}

double dense_fill(const at::Tensor& inputs, int64_t i, const std::string& substrate) {
  return substrate == "mean" ? inputs[i].to(at::kFloat).mean().item<double>() : 0.0;
}

at::Tensor dense_with(const at::Tensor& inputs, int64_t i, const std::vector<int64_t>& changed,
                      const at::Tensor& values, bool add) {
  ATTRIB_CHECK(values.numel() == static_cast<int64_t>(changed.size()), "dense_with: expected ",
               changed.size(), " values, got ", values.numel());
  at::Tensor x = inputs[i].to(at::kFloat).clone();
  if (changed.empty()) return x;
  at::Tensor flat = x.view({-1});
  const at::Tensor idx = at::tensor(changed, at::kLong);
  const at::Tensor v = values.to(at::kFloat).view({-1});
  if (add) {
    flat.index_add_(0, idx, v);
  } else {
    flat.index_copy_(0, idx, v);
  }
  return x;
}

at::Tensor base_logits(const MetricInput& in) {
  if (!in.shared) return batch_logits(in.model, in.batch, in.max_rows);
  if (in.shared->base_logits.defined()) {
    note_saved(in, in.batch.size());
  } else {
    in.shared->base_logits = batch_logits(in.model, in.batch, in.max_rows);
  }
  return in.shared->base_logits;
}

void note_saved(const MetricInput& in, int64_t rows) {
  if (in.shared) in.shared->saved_rows += rows;
}

at::Tensor target_classes(const MetricInput& in, const at::Tensor& base_logits,
                          const std::string& target, const std::string& metric) {
  if (target == "predicted") return base_logits.argmax(1);
  if (target == "gold") {
    at::Tensor g = in.batch.labels.to(at::kCPU);
    ATTRIB_CHECK((g >= 0).all().item<bool>(), "metric ", metric,
                 ": target 'gold' needs gold labels, but some examples have none");
    return g;
  }
  return in.targets.to(at::kCPU, at::kLong);
}

std::vector<double> evaluate(const MetricInput& in, const std::vector<at::Tensor>& rows,
                             const std::vector<at::Tensor>& masks,
                             const std::vector<int64_t>& owner, const at::Tensor& cls,
                             const std::string& output) {
  const bool text = in.batch.modality == Modality::kText;
  std::vector<double> values(rows.size());
  for (size_t start = 0; start < rows.size(); start += in.max_rows) {
    const size_t end = std::min(rows.size(), start + static_cast<size_t>(in.max_rows));
    at::Tensor x = at::stack(std::vector<at::Tensor>(rows.begin() + start, rows.begin() + end));
    at::Tensor mask;
    if (text) mask = at::stack(std::vector<at::Tensor>(masks.begin() + start, masks.begin() + end));
    at::Tensor logits =
        in.model.forward(x.to(in.model.device()), text ? mask.to(in.model.device()) : at::Tensor());
    std::vector<int64_t> who(owner.begin() + start, owner.begin() + end);
    at::Tensor c = cls.index_select(0, at::tensor(who, at::kLong));
    at::Tensor v =
        output_score(checked_logits(logits, in.model).to(at::kCPU), c, output).contiguous();
    std::copy(v.data_ptr<double>(), v.data_ptr<double>() + v.numel(), values.begin() + start);
  }
  return values;
}

RowEvaluator::RowEvaluator(const MetricInput& in, at::Tensor cls, std::string output)
    : in_(in), cls_(std::move(cls)), output_(std::move(output)) {}

size_t RowEvaluator::add(const std::pair<at::Tensor, at::Tensor>& row, int64_t example) {
  rows_.push_back(row.first);
  if (row.second.defined()) masks_.push_back(row.second);
  owner_.push_back(example);
  const size_t index = values_.size() + rows_.size() - 1;
  if (static_cast<int64_t>(rows_.size()) >= in_.max_rows) flush();
  return index;
}

const std::vector<double>& RowEvaluator::values() {
  flush();
  return values_;
}

void RowEvaluator::flush() {
  if (rows_.empty()) return;
  at::NoGradGuard no_grad;
  const std::vector<double> v = evaluate(in_, rows_, masks_, owner_, cls_, output_);
  values_.insert(values_.end(), v.begin(), v.end());
  rows_.clear();
  masks_.clear();
  owner_.clear();
}

Base base(const MetricInput& in, const std::string& target, const std::string& output,
          const std::string& metric) {
  const at::Tensor logits = base_logits(in);
  Base b;
  b.cls = target_classes(in, logits, target, metric);
  const at::Tensor s = output_score(logits, b.cls, output).contiguous();
  b.score.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  return b;
}

std::string OutputCache::key(const MetricInput& in, int64_t example, int64_t cls) {
  char model[32];
  std::snprintf(model, sizeof model, "%p", static_cast<const void*>(&in.model));
  return std::string(model) + "|" + std::to_string(in.seed) + "|" + std::to_string(cls) + "|" +
         in.batch.ids[example];
}

const std::vector<double>* OutputCache::find(const std::string& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

void OutputCache::put(const std::string& key, std::vector<double> values) {
  values_[key] = std::move(values);
}

const std::vector<double>& OutputCache::take(const std::string& key,
                                             const std::vector<double>& values, size_t first,
                                             size_t n) {
  if (const std::vector<double>* known = find(key)) return *known;
  return values_[key] = std::vector<double>(values.begin() + first, values.begin() + first + n);
}

}  // namespace perturb
}  // namespace attrib
