#include "attrib/batch.h"

#include "attrib/error.h"

namespace attrib {

namespace {
void check_word_ids(const at::Tensor& word_ids) {
  ATTRIB_CHECK(word_ids.defined(), "word_ids: expected int64 [B, T], got an undefined tensor");
  ATTRIB_CHECK(word_ids.dim() == 2, "word_ids: expected int64 [B, T], got shape ",
               word_ids.sizes());
}

// Position of each token's word start (the last start at or before it), [B, T].
at::Tensor start_position(const at::Tensor& starts) {
  const at::Tensor pos = at::arange(starts.size(1), starts.options().dtype(at::kLong));
  return std::get<0>(at::where(starts, pos, at::zeros_like(pos)).cummax(1));
}
}  // namespace

at::Tensor word_starts(const at::Tensor& word_ids) {
  check_word_ids(word_ids);
  const at::Tensor w = word_ids.to(at::kLong);
  at::Tensor prev = at::full_like(w, -1);
  if (w.size(1) > 1) prev.slice(1, 1) = w.slice(1, 0, -1);
  return w.ge(0) & w.ne(prev);
}

at::Tensor sum_to_word_starts(const at::Tensor& scores, const at::Tensor& word_ids) {
  check_word_ids(word_ids);
  ATTRIB_CHECK(scores.dim() == 2 && scores.sizes() == word_ids.sizes(),
               "sum_to_word_starts: expected scores of shape ", word_ids.sizes(), ", got ",
               scores.sizes());
  const at::Tensor w = word_ids.to(scores.device());
  const at::Tensor starts = word_starts(w);
  const at::Tensor words = scores.masked_fill(w.lt(0), 0);
  return at::zeros_like(scores)
      .scatter_add(1, start_position(starts), words)
      .masked_fill(starts.logical_not(), 0);
}

at::Tensor word_token_share(const at::Tensor& word_ids) {
  check_word_ids(word_ids);
  const at::Tensor w = word_ids.to(at::kLong);
  const at::Tensor valid = w.ge(0);
  const at::Tensor head = start_position(word_starts(w));
  const at::Tensor count = at::zeros(w.sizes(), w.options().dtype(at::kDouble))
                               .scatter_add(1, head, valid.to(at::kDouble))
                               .gather(1, head);
  return at::where(valid, 1.0 / count.clamp_min(1.0), at::zeros_like(count));
}

}  // namespace attrib
