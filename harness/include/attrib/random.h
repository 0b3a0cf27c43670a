#pragma once
// Counter-based per-example random streams: a draw depends only on (run seed, example id,
// stream), never on batch size, packing order or device.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "attrib/export.h"

namespace attrib {

/// 64-bit key for (seed, example id, stream): FNV-1a of the id mixed with splitmix64.
ATTRIB_SDK_API uint64_t stream_key(uint64_t seed, const std::string& example_id, uint64_t stream);

/// A CPU generator seeded with stream_key(seed, example_id, stream). Draw on the CPU with it and
/// move the result to the device, so that numbers agree across devices.
ATTRIB_SDK_API at::Generator example_generator(uint64_t seed, const std::string& example_id,
                                               uint64_t stream);

/// Stream of the seeded tie-break order shared by the metrics' rankings and the agreement
/// analysis ("tie-bre"), so one example's ties fall the same way everywhere: key j of the
/// order is draw j of at::rand({n}, example_generator(seed, id, kTieBreakStream), at::kDouble)
/// over the example's n features, lower key first.
constexpr uint64_t kTieBreakStream = 0x7469652d627265ULL;

/// splitmix64 step: a well-mixed 64-bit hash of `x`.
ATTRIB_SDK_API uint64_t splitmix64(uint64_t x);

}  // namespace attrib
