#include "data/collate.h"

#include <algorithm>

#include "attrib/error.h"

namespace attrib {

Batch collate_text(const std::vector<TextExample>& examples, size_t begin, size_t end,
                   const Vocab& vocab, int64_t max_len) {
  ATTRIB_CHECK(begin < end && end <= examples.size(), "collate_text: bad range [", begin, ", ", end,
               ") of ", examples.size(), " examples");
  const int64_t B = static_cast<int64_t>(end - begin);
  // Tokens of every example first: T is the longest after truncation.
  struct Tokens {
    std::vector<int64_t> ids, word, start, stop;
  };
  std::vector<Tokens> rows(B);
  int64_t T = 1;
  std::vector<int64_t> ids;
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    Tokens& row = rows[r];
    int64_t pos = 0;
    for (size_t w = 0; w < e.tokens.size(); ++w) {
      ids.clear();
      spans.clear();
      const bool special = w < e.special.size() && e.special[w];
      if (special) {
        ids.push_back(vocab.id(e.tokens[w]));  // whole, never split into pieces
        spans.emplace_back(0, static_cast<int64_t>(e.tokens[w].size()));
      } else {
        vocab.encode(e.tokens[w], ids, &spans);
      }
      const int64_t room = max_len - static_cast<int64_t>(row.ids.size());
      // Whole words only, so that a kept word is never cut (a first word may be, to fit at all).
      if (static_cast<int64_t>(ids.size()) > room && !(w == 0 && room > 0)) break;
      for (size_t k = 0; k < ids.size() && static_cast<int64_t>(k) < room; ++k) {
        row.ids.push_back(ids[k]);
        row.word.push_back(special ? -1 : static_cast<int64_t>(w));
        row.start.push_back(pos + spans[k].first);
        row.stop.push_back(pos + spans[k].second);
      }
      pos += static_cast<int64_t>(e.tokens[w].size()) + 1;
    }
    T = std::max<int64_t>(T, row.ids.size());
  }
  Batch b;
  b.modality = Modality::kText;
  b.inputs = at::full({B, T}, Vocab::kPad, at::kLong);
  b.attention_mask = at::zeros({B, T}, at::kLong);
  b.word_ids = at::full({B, T}, -1, at::kLong);
  b.offsets = at::zeros({B, T, 2}, at::kLong);
  b.labels = at::empty({B}, at::kLong);
  auto in = b.inputs.accessor<int64_t, 2>();
  auto mask = b.attention_mask.accessor<int64_t, 2>();
  auto words = b.word_ids.accessor<int64_t, 2>();
  auto offs = b.offsets.accessor<int64_t, 3>();
  auto labels = b.labels.accessor<int64_t, 1>();
  for (int64_t r = 0; r < B; ++r) {
    b.ids.push_back(examples[begin + r].id);
    labels[r] = examples[begin + r].label;
    const Tokens& row = rows[r];
    for (size_t t = 0; t < row.ids.size(); ++t) {
      in[r][t] = row.ids[t];
      mask[r][t] = 1;
      words[r][t] = row.word[t];
      offs[r][t][0] = row.start[t];
      offs[r][t][1] = row.stop[t];
    }
  }
  return b;
}

Annotations collate_rationales(const std::vector<TextExample>& examples, size_t begin, size_t end,
                               const Batch& batch) {
  const int64_t B = static_cast<int64_t>(end - begin);
  ATTRIB_CHECK(batch.word_ids.defined() && batch.word_ids.size(0) == B,
               "collate_rationales: expected a text batch of ", B, " examples");
  const at::Tensor word_ids = batch.word_ids.to(at::kCPU).contiguous();
  const int64_t T = word_ids.size(1);
  auto words = word_ids.accessor<int64_t, 2>();
  Annotations a;
  a.mask = at::zeros({B, T}, at::kFloat);
  a.present = at::zeros({B}, at::kBool);
  auto m = a.mask.accessor<float, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    if (e.rationale.empty()) continue;
    a.present[r] = true;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t w = words[r][t];
      if (w >= 0 && w < static_cast<int64_t>(e.rationale.size())) m[r][t] = e.rationale[w];
    }
  }
  return a;
}

Batch collate_dense(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                    const std::vector<int64_t>& feature_shape) {
  ATTRIB_CHECK(begin <= end && end <= examples.size(), "collate_dense: bad range [", begin, ", ",
               end, ") of ", examples.size(), " examples");
  int64_t n = 1;
  for (int64_t d : feature_shape) n *= d;
  const int64_t B = static_cast<int64_t>(end - begin);
  std::vector<int64_t> shape = {B};
  shape.insert(shape.end(), feature_shape.begin(), feature_shape.end());
  Batch b;
  b.modality = Modality::kDense;
  at::Tensor flat = at::empty({B, n}, at::kFloat);
  b.labels = at::empty({B}, at::kLong);
  float* dst = flat.data_ptr<float>();
  int64_t* labels = b.labels.data_ptr<int64_t>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    ATTRIB_CHECK(static_cast<int64_t>(e.x.size()) == n, "collate_dense: example '", e.id,
                 "': expected ", n, " values (feature shape), found ", e.x.size());
    std::copy(e.x.begin(), e.x.end(), dst + r * n);
    labels[r] = e.label;
    b.ids.push_back(e.id);
  }
  b.inputs = flat.reshape(shape);
  return b;
}

Annotations collate_masks(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                          int64_t n_features) {
  ATTRIB_CHECK(begin <= end && end <= examples.size(), "collate_masks: bad range [", begin, ", ",
               end, ") of ", examples.size(), " examples");
  const int64_t B = static_cast<int64_t>(end - begin);
  Annotations a;
  a.mask = at::zeros({B, n_features}, at::kFloat);
  a.present = at::zeros({B}, at::kBool);
  float* m = a.mask.data_ptr<float>();
  bool* present = a.present.data_ptr<bool>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = examples[begin + r];
    if (e.mask.empty()) continue;
    ATTRIB_CHECK(static_cast<int64_t>(e.mask.size()) == n_features, "collate_masks: example '",
                 e.id, "': expected ", n_features, " mask values, found ", e.mask.size());
    std::copy(e.mask.begin(), e.mask.end(), m + r * n_features);
    present[r] = true;
  }
  return a;
}

}  // namespace attrib
