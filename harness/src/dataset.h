#pragma once
// Datasets: examples with labels and optional annotations, a vocabulary, and collation into the
// SDK's Batch. A dataset SPEC is `FORMAT:PATH` or `synthetic:GENERATOR`.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "attrib/batch.h"

namespace attrib {

/// One text example at word granularity.
struct TextExample {
  std::string id;
  std::vector<std::string> tokens;
  int64_t label = -1;
  std::vector<float> rationale;  ///< one 0/1 per token; empty = not annotated
};

/// A loaded dataset with its splits.
struct Dataset {
  std::string name;
  std::string spec;
  nlohmann::json params;  ///< resolved generator/reader options
  Modality modality = Modality::kText;
  std::vector<std::string> class_names;
  std::vector<TextExample> train, val, test;
  std::string hash;  ///< content hash of all splits (recorded with results)

  const std::vector<TextExample>& split(const std::string& name) const;
};

/// Word-level vocabulary. Ids 0, 1, 2 are <pad>, <unk>, <mask>.
class Vocab {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kMask = 2;
  /// Tokens seen at least `min_freq` times in `examples`, most frequent first (ties by text).
  static Vocab build(const std::vector<TextExample>& examples, int64_t min_freq);
  explicit Vocab(std::vector<std::string> tokens = {});
  int64_t id(const std::string& token) const;
  const std::vector<std::string>& tokens() const { return tokens_; }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> index_;
};

/// Splits text on whitespace.
std::vector<std::string> whitespace_tokens(const std::string& text);

/// Collates examples [begin, end) into a text Batch (right-padded to the longest, truncated to
/// `max_len`); word_ids = word index; offsets assume tokens joined by single spaces.
Batch collate_text(const std::vector<TextExample>& examples, size_t begin, size_t end,
                   const Vocab& vocab, int64_t max_len);

/// Rationale masks [B, T] aligned with collate_text's tokens, and which examples have one.
Annotations collate_rationales(const std::vector<TextExample>& examples, size_t begin, size_t end,
                               int64_t max_len);

/// Parameter schema of a dataset SPEC's options (for suite validation).
nlohmann::json dataset_params_schema(const std::string& spec);

/// Loads or generates a dataset. Throws attrib::Error naming the spec (or file:line) on failure.
Dataset load_dataset(const std::string& name, const std::string& spec, const nlohmann::json& params,
                     uint64_t seed);

}  // namespace attrib
