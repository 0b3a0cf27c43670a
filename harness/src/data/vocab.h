#pragma once
// Token vocabularies of text models (word-level and WordPiece) and how a suite or `attrib train`
// fits one.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attrib/model.h"
#include "data/examples.h"

namespace attrib {

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

}  // namespace attrib
