#pragma once
// Batch making: examples [begin, end) of a split into the SDK's Batch, and their annotations
// (rationales, masks) aligned with it.
#include <cstdint>
#include <vector>

#include "attrib/batch.h"
#include "data/examples.h"
#include "data/vocab.h"

namespace attrib {

/// Collates examples [begin, end) into a text Batch (right-padded to the longest, truncated to
/// `max_len` tokens at a word boundary, except that a first word longer than max_len keeps its
/// first max_len tokens); word_ids = word index, shared by a word's subword tokens; offsets are
/// character ranges in the words joined by single spaces.
Batch collate_text(const std::vector<TextExample>& examples, size_t begin, size_t end,
                   const Vocab& vocab, int64_t max_len);

/// Rationale masks [B, T] aligned with `batch` (collate_text of the same range): every token of
/// word w carries rationale[w]; and which examples have one.
Annotations collate_rationales(const std::vector<TextExample>& examples, size_t begin, size_t end,
                               const Batch& batch);

/// Collates dense examples [begin, end) into Batch{kDense, ids, inputs float [B, shape...],
/// labels}. An empty range gives B = 0. Throws when an example has the wrong number of values.
Batch collate_dense(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                    const std::vector<int64_t>& feature_shape);

/// Annotation masks [B, n_features] of dense examples [begin, end) and which examples have one.
Annotations collate_masks(const std::vector<DenseExample>& examples, size_t begin, size_t end,
                          int64_t n_features);

}  // namespace attrib
