#pragma once
// Datasets: examples with labels and optional annotations, a vocabulary, and collation into the
// SDK's Batch. A dataset SPEC is `FORMAT:PATH` or `synthetic:GENERATOR`.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attrib/batch.h"
#include "attrib/model.h"

namespace attrib {

/// One text example at word granularity.
struct TextExample {
  std::string id;
  std::vector<std::string> tokens;
  int64_t label = -1;
  std::vector<float> rationale;  ///< one 0/1 per token; empty = not annotated
  /// One flag per token, 1 for a structural token (e.g. the [SEP] between two documents): fed to
  /// the model as one whole token, but never a feature (word id -1). Empty = none.
  std::vector<char> special;
};

/// One dense example: a float row (tabular) or image, flattened in row-major order.
struct DenseExample {
  std::string id;
  std::vector<float> x;  ///< prod(Dataset::feature_shape) values
  int64_t label = -1;
  std::vector<float> mask;  ///< one 0/1 per value of x (relevant features); empty = not annotated
};

/// A loaded dataset with its splits. Text datasets fill train/val/test; dense datasets
/// (modality kDense) fill dense_train/dense_val/dense_test and the feature description.
struct Dataset {
  std::string name;
  std::string spec;
  nlohmann::json params;  ///< resolved generator/reader options
  Modality modality = Modality::kText;
  std::vector<std::string> class_names;
  std::vector<TextExample> train, val, test;
  std::vector<int64_t> feature_shape;  ///< dense: shape of one example, e.g. {13} or {1, 28, 28}
  std::vector<std::string> feature_names;  ///< dense: one per value of x (tabular), else empty
  nlohmann::json encoding;  ///< dense: how features were derived (one-hot maps, scaling, ...)
  std::vector<DenseExample> dense_train, dense_val, dense_test;
  std::string hash;  ///< content hash of all splits (recorded with results)

  const std::vector<TextExample>& split(const std::string& name) const;
  const std::vector<DenseExample>& dense_split(const std::string& name) const;
  /// Examples in split `name` of whichever modality the dataset has.
  size_t split_size(const std::string& name) const;
  /// Values per dense example: the product of feature_shape (0 for text).
  int64_t num_features() const;
};

/// Token vocabulary of a text model. Ids 0, 1, 2 are <pad>, <unk>, <mask>.
///
/// kWord: one token per whitespace word (unknown words -> <unk>). kWordPiece: a word is split
/// into subword pieces by greedy longest-match-first (BERT); pieces after the first carry the
/// "##" prefix; a word that cannot be covered becomes one <unk>. Either way every token maps back
/// to its word (Batch::word_ids), so metrics work on words.
class Vocab {
 public:
  enum class Kind { kWord, kWordPiece };
  static constexpr int64_t kPad = 0, kUnk = 1, kMask = 2;
  /// Longest word (in bytes) WordPiece splits; longer ones become <unk> (BERT uses 100 chars).
  static constexpr size_t kMaxWordBytes = 200;

  /// Word vocabulary: tokens seen at least `min_freq` times in `examples`, most frequent first
  /// (ties by text).
  static Vocab build(const std::vector<TextExample>& examples, int64_t min_freq);
  /// WordPiece vocabulary trained on the words of `examples` (Schuster & Nakajima 2012, as in the
  /// Hugging Face course's WordPiece trainer): start from the characters (a word's first
  /// character as is, later ones with "##") and repeatedly merge the adjacent pair with the
  /// highest count(ab) / (count(a) count(b)) among pairs seen at least `min_pair_freq` times,
  /// until `size` tokens (specials included) or no pair is left. Every character of the data is
  /// kept, so the result may exceed `size` when the alphabet alone does. Deterministic.
  static Vocab build_wordpiece(const std::vector<TextExample>& examples, int64_t size,
                               int64_t min_pair_freq);
  /// "word" | "wordpiece"; throws attrib::Error for anything else.
  static Kind kind_from_name(const std::string& name);

  explicit Vocab(std::vector<std::string> tokens = {}, Kind kind = Kind::kWord);
  Kind kind() const { return kind_; }
  std::string kind_name() const { return kind_ == Kind::kWord ? "word" : "wordpiece"; }
  int64_t id(const std::string& token) const;
  /// Appends the token ids of one word to `ids` and, when `spans` is given, each token's
  /// [start, end) byte range within the word.
  void encode(const std::string& word, std::vector<int64_t>& ids,
              std::vector<std::pair<int64_t, int64_t>>* spans = nullptr) const;
  const std::vector<std::string>& tokens() const { return tokens_; }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> index_;
  Kind kind_ = Kind::kWord;
};

/// The vocabulary a suite or `attrib train` fits: `tokenizer` "word" (min_freq) or "wordpiece"
/// (vocab_size, min_freq as the minimum pair count).
Vocab fit_vocab(const std::vector<TextExample>& examples, const std::string& tokenizer,
                int64_t min_freq, int64_t vocab_size);

/// The vocabulary a model carries (ModelInfo::vocab, tokenizer from metadata "tokenizer"), or
/// `fallback` when it carries none. A model vocabulary without a declared tokenizer is taken with
/// fallback's kind.
Vocab model_vocab(const ModelInfo& info, const Vocab& fallback);

/// Splits text on whitespace.
std::vector<std::string> whitespace_tokens(const std::string& text);

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

/// Parameter schema of a dataset SPEC's options (for suite validation).
nlohmann::json dataset_params_schema(const std::string& spec);

/// Loads or generates a dataset. Throws attrib::Error naming the spec (or file:line) on failure.
Dataset load_dataset(const std::string& name, const std::string& spec, const nlohmann::json& params,
                     uint64_t seed);

}  // namespace attrib
