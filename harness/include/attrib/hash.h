#pragma once
// FNV-1a 64, the one non-cryptographic hash of attrib: per-example random stream keys, dataset
// content hashes, model-cache keys and checkpoint/model-file hashes. Written once so that every
// recorded hash is computed alike; header-only, so the SDK, the host and plugins share it without
// an ABI entry.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace attrib {

/// The standard FNV-1a 64 offset basis (14695981039346656037).
constexpr uint64_t kFnv1aBasis = 0xcbf29ce484222325ULL;
/// The basis attrib's recorded content hashes (Dataset::hash, the model-cache key,
/// checkpoint_fnv1a, file_hash) have always used: the standard one with its last decimal digit
/// lost. Kept so that hashes already in results, caches and baselines stay valid.
constexpr uint64_t kFnv1aLegacyBasis = 1469598103934665603ULL;
constexpr uint64_t kFnv1aPrime = 1099511628211ULL;

/// Incremental FNV-1a 64.
class Fnv1a {
 public:
  explicit constexpr Fnv1a(uint64_t basis = kFnv1aBasis) : h_(basis) {}
  /// One FNV step: h = (h ^ v) * prime. add() does this per byte; Dataset::hash also mixes whole
  /// 32-bit float words in one step (a Fashion-MNIST load has 47M values).
  constexpr void mix(uint64_t v) { h_ = (h_ ^ v) * kFnv1aPrime; }
  void add(std::string_view bytes) {
    for (unsigned char c : bytes) mix(c);
  }
  void add(const void* data, size_t n) { add(std::string_view(static_cast<const char*>(data), n)); }
  constexpr uint64_t value() const { return h_; }
  /// The value as 16 lower-case hex digits.
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  uint64_t h_;
};

/// FNV-1a 64 of `bytes`.
inline uint64_t fnv1a(std::string_view bytes, uint64_t basis = kFnv1aBasis) {
  Fnv1a h(basis);
  h.add(bytes);
  return h.value();
}

/// FNV-1a 64 of `bytes` from kFnv1aLegacyBasis: the content hashes attrib records.
inline uint64_t fnv1a_legacy(std::string_view bytes) { return fnv1a(bytes, kFnv1aLegacyBasis); }

}  // namespace attrib
