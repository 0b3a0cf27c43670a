// Vocabularies: word-level and WordPiece (training and greedy longest-match-first encoding).
#include "data/vocab.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "attrib/error.h"

namespace attrib {

namespace {

const std::vector<std::string> kSpecials = {"<pad>", "<unk>", "<mask>"};
constexpr const char* kContinuation = "##";

// Byte offsets of the UTF-8 code points of `w` (and w.size() at the end).
std::vector<size_t> code_points(const std::string& w) {
  std::vector<size_t> cut;
  for (size_t i = 0; i < w.size(); ++i)
    if ((static_cast<unsigned char>(w[i]) & 0xC0) != 0x80) cut.push_back(i);
  cut.push_back(w.size());
  return cut;
}

// Counts of the words (special tokens included when `specials`), and the special tokens seen.
std::map<std::string, int64_t> word_counts(const std::vector<TextExample>& examples, bool specials,
                                           std::set<std::string>* seen = nullptr) {
  std::map<std::string, int64_t> counts;
  for (const auto& e : examples)
    for (size_t k = 0; k < e.tokens.size(); ++k) {
      const bool special = k < e.special.size() && e.special[k];
      if (special && seen) seen->insert(e.tokens[k]);
      if (!special || specials) ++counts[e.tokens[k]];
    }
  return counts;
}

// Incremental WordPiece trainer: pair counts are updated only for the words a merge touches.
class WordPieceTrainer {
 public:
  explicit WordPieceTrainer(const std::map<std::string, int64_t>& counts) {
    for (const auto& [w, f] : counts) {
      if (w.empty() || w.size() > Vocab::kMaxWordBytes) continue;
      const std::vector<size_t> cut = code_points(w);
      std::vector<int> seq;
      for (size_t k = 0; k + 1 < cut.size(); ++k)
        seq.push_back(symbol((k ? kContinuation : "") + w.substr(cut[k], cut[k + 1] - cut[k])));
      words_.push_back({std::move(seq), f});
    }
    for (size_t i = 0; i < words_.size(); ++i) {
      for (int s : words_[i].seq) count_[s] += words_[i].freq;
      add_pairs(static_cast<int>(i), +1);
    }
  }

  // Runs merges until `size` symbols (plus the specials) or no pair of count >= min_count.
  std::vector<std::string> train(int64_t size, int64_t min_count) {
    while (static_cast<int64_t>(kSpecials.size() + order_.size()) < size) {
      uint64_t best = 0;
      double best_score = -1;
      std::string best_text;
      for (const auto& [key, c] : pairs_) {
        if (c < min_count) continue;
        const int a = static_cast<int>(key >> 32), b = static_cast<int>(key & 0xffffffffu);
        const double score = static_cast<double>(c) / (static_cast<double>(count_[a]) * count_[b]);
        // Ties by the merged text, so the result never depends on hash order.
        if (score > best_score || (score == best_score && merged(a, b) < best_text)) {
          best = key;
          best_score = score;
          best_text = merged(a, b);
        }
      }
      if (best_score < 0) break;
      merge(static_cast<int>(best >> 32), static_cast<int>(best & 0xffffffffu));
    }
    return order_;
  }

 private:
  struct Word {
    std::vector<int> seq;
    int64_t freq;
  };

  int symbol(const std::string& text) {
    auto [it, inserted] = ids_.emplace(text, static_cast<int>(text_.size()));
    if (inserted) {
      text_.push_back(text);
      count_.push_back(0);
      order_.push_back(text);
    }
    return it->second;
  }
  std::string merged(int a, int b) const { return text_[a] + text_[b].substr(2); }
  static uint64_t key(int a, int b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
  }

  void add_pairs(int w, int sign) {
    const Word& word = words_[w];
    for (size_t k = 0; k + 1 < word.seq.size(); ++k) {
      const uint64_t p = key(word.seq[k], word.seq[k + 1]);
      int64_t& c = pairs_[p];
      c += sign * word.freq;
      if (sign > 0) where_[p].insert(w);
      if (c == 0) pairs_.erase(p);
    }
  }

  void merge(int a, int b) {
    const uint64_t p = key(a, b);
    const int m = symbol(merged(a, b));
    const std::unordered_set<int> touched = where_[p];  // copy: add_pairs inserts into where_
    // Sorted so that the order of updates (and so the result) is fixed.
    std::vector<int> ws(touched.begin(), touched.end());
    std::sort(ws.begin(), ws.end());
    for (int w : ws) {
      Word& word = words_[w];
      bool hit = false;
      for (size_t k = 0; k + 1 < word.seq.size(); ++k)
        hit |= word.seq[k] == a && word.seq[k + 1] == b;
      if (!hit) continue;
      add_pairs(w, -1);
      std::vector<int> out;
      for (size_t k = 0; k < word.seq.size(); ++k) {
        if (k + 1 < word.seq.size() && word.seq[k] == a && word.seq[k + 1] == b) {
          out.push_back(m);
          count_[a] -= word.freq;
          count_[b] -= word.freq;
          count_[m] += word.freq;
          ++k;
        } else {
          out.push_back(word.seq[k]);
        }
      }
      word.seq = std::move(out);
      add_pairs(w, +1);
    }
    where_.erase(p);
    pairs_.erase(p);
  }

  std::vector<Word> words_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::string> text_, order_;  // order_: vocabulary order (alphabet, then merges)
  std::vector<int64_t> count_;
  std::unordered_map<uint64_t, int64_t> pairs_;
  std::unordered_map<uint64_t, std::unordered_set<int>> where_;
};

}  // namespace

Vocab::Vocab(std::vector<std::string> tokens, Kind kind) : tokens_(std::move(tokens)), kind_(kind) {
  if (tokens_.empty()) tokens_ = kSpecials;
  for (size_t i = 0; i < tokens_.size(); ++i) index_.emplace(tokens_[i], static_cast<int64_t>(i));
}

Vocab Vocab::build(const std::vector<TextExample>& examples, int64_t min_freq) {
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [t, c] : word_counts(examples, /*specials=*/true))
    if (c >= min_freq) kept.emplace_back(t, c);
  std::stable_sort(kept.begin(), kept.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> tokens = kSpecials;
  for (const auto& [t, c] : kept) tokens.push_back(t);
  return Vocab(std::move(tokens));
}

Vocab Vocab::build_wordpiece(const std::vector<TextExample>& examples, int64_t size,
                             int64_t min_pair_freq) {
  // Structural tokens (e.g. [SEP]) are whole vocabulary entries, right after <pad> <unk> <mask>.
  std::set<std::string> structural;
  const auto counts = word_counts(examples, /*specials=*/false, &structural);
  std::vector<std::string> tokens = kSpecials;
  for (const auto& t : structural)
    if (std::find(tokens.begin(), tokens.end(), t) == tokens.end()) tokens.push_back(t);
  std::unordered_set<std::string> have(tokens.begin(), tokens.end());
  const int64_t extra = static_cast<int64_t>(tokens.size() - kSpecials.size());
  for (auto& t : WordPieceTrainer(counts).train(size - extra, min_pair_freq))
    if (have.insert(t).second) tokens.push_back(std::move(t));
  return Vocab(std::move(tokens), Kind::kWordPiece);
}

Vocab::Kind Vocab::kind_from_name(const std::string& name) {
  if (name == "word") return Kind::kWord;
  if (name == "wordpiece") return Kind::kWordPiece;
  throw Error("tokenizer: expected \"word\" or \"wordpiece\", got \"" + name + "\"");
}

int64_t Vocab::id(const std::string& token) const {
  auto it = index_.find(token);
  return it == index_.end() ? kUnk : it->second;
}

void Vocab::encode(const std::string& word, std::vector<int64_t>& ids,
                   std::vector<std::pair<int64_t, int64_t>>* spans) const {
  const auto whole = [&](int64_t id) {
    ids.push_back(id);
    if (spans) spans->emplace_back(0, static_cast<int64_t>(word.size()));
  };
  if (kind_ == Kind::kWord) return whole(id(word));
  if (word.empty() || word.size() > kMaxWordBytes) return whole(kUnk);
  const std::vector<size_t> cut = code_points(word);
  std::vector<int64_t> got;
  std::vector<std::pair<int64_t, int64_t>> got_spans;
  for (size_t s = 0; s + 1 < cut.size();) {
    size_t e = cut.size() - 1;
    int64_t found = -1;
    for (; e > s; --e) {
      const std::string piece = (s ? kContinuation : "") + word.substr(cut[s], cut[e] - cut[s]);
      auto it = index_.find(piece);
      if (it != index_.end() && it->second >= static_cast<int64_t>(kSpecials.size())) {
        found = it->second;
        break;
      }
    }
    if (found < 0) return whole(kUnk);  // BERT: an uncoverable word is one unknown token
    got.push_back(found);
    got_spans.emplace_back(static_cast<int64_t>(cut[s]), static_cast<int64_t>(cut[e]));
    s = e;
  }
  ids.insert(ids.end(), got.begin(), got.end());
  if (spans) spans->insert(spans->end(), got_spans.begin(), got_spans.end());
}

Vocab fit_vocab(const std::vector<TextExample>& examples, const std::string& tokenizer,
                int64_t min_freq, int64_t vocab_size) {
  if (Vocab::kind_from_name(tokenizer) == Vocab::Kind::kWordPiece)
    return Vocab::build_wordpiece(examples, vocab_size, min_freq);
  return Vocab::build(examples, min_freq);
}

Vocab model_vocab(const ModelInfo& info, const Vocab& fallback) {
  if (info.vocab.empty()) return fallback;
  Vocab::Kind kind = fallback.kind();
  if (info.metadata.is_object() && info.metadata.contains("tokenizer")) {
    const auto& t = info.metadata["tokenizer"];
    ATTRIB_CHECK(t.is_string(), "model '", info.name,
                 "': metadata.tokenizer: expected \"word\" or \"wordpiece\", got ", t.dump());
    try {
      kind = Vocab::kind_from_name(t.get<std::string>());
    } catch (const Error& e) {
      throw Error("model '" + info.name + "': metadata." + e.what());
    }
  }
  return Vocab(info.vocab, kind);
}

std::vector<std::string> whitespace_tokens(const std::string& text) {
  std::istringstream is(text);
  std::vector<std::string> out;
  for (std::string t; is >> t;) out.push_back(t);
  return out;
}

}  // namespace attrib
