#pragma once
// HateXplain's label and rationale conventions (Mathew et al. 2021), public so that tests can pin
// them down apart from the file reading (readers/hatexplain.cpp).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attrib {

/// HateXplain majority vote: the label chosen by more than half of `votes`, or -1 (undecided).
int64_t majority_vote(const std::vector<int64_t>& votes);

/// HateXplain ground-truth rationale: token t is 1 when mean_k lists[k][t] >= 0.5. The mean is
/// over max(lists.size(), denominator) lists (missing lists count as all-zero); pass 0 to average
/// over the lists given. Lists must all have the same length.
std::vector<float> vote_rationale(const std::vector<std::vector<int64_t>>& lists,
                                  size_t denominator = 0);

}  // namespace attrib
