#pragma once
// The generators' random numbers: splitmix64 steps, so that generated data depend only on the
// generator seed (never on the run seed, the platform or the standard library's distributions).
#include <cmath>
#include <cstdint>
#include <string>

#include "attrib/random.h"

namespace attrib::synthetic {

/// Sequential generator for the fixed parts of synthetic data (relevant features, weights).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return state_ = splitmix64(state_); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

/// The per-example generator: draws depend only on (seed, id), not on the split sizes.
inline Rng example_rng(uint64_t seed, const std::string& id) {
  return Rng(stream_key(seed, id, 0));
}

}  // namespace attrib::synthetic
