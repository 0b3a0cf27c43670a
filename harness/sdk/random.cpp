#include "attrib/random.h"

#include <ATen/CPUGeneratorImpl.h>

#include "attrib/hash.h"

namespace attrib {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Each component is mixed in through its own splitmix64 round, so that (seed, id, stream) triples
// that differ in any one component land on unrelated keys.
uint64_t stream_key(uint64_t seed, const std::string& example_id, uint64_t stream) {
  uint64_t k = splitmix64(seed);
  k = splitmix64(k ^ fnv1a(example_id));
  return splitmix64(k ^ splitmix64(stream));
}

// Note: ATen's mt19937 keeps only the low 32 bits of the seed; splitmix64 mixes them well.
at::Generator example_generator(uint64_t seed, const std::string& example_id, uint64_t stream) {
  return at::make_generator<at::CPUGeneratorImpl>(stream_key(seed, example_id, stream));
}

}  // namespace attrib
