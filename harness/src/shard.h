#pragma once
// Sharding a suite over processes and machines: `--shard K/N` computes the explanation batches
// (and their metric scores) that a deterministic, cost-balanced plan gives to shard K; every
// shard computes the same plan independently, so no coordinator is needed. `attrib merge`
// combines the shards' stores and computes the rest (the analyses, which need every method).
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "prepare.h"
#include "registry.h"

namespace attrib {

/// Shard `index` (1-based) of `count`; count 0 means unsharded.
struct ShardSpec {
  int64_t index = 0, count = 0;
  bool active() const { return count > 0; }
  std::string label() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// "K/N" with 1 <= K <= N <= 100000; throws attrib::Error saying what was expected.
ShardSpec parse_shard(const std::string& text);

/// The plan: per (dataset, model) pair, in the order every shard prepares them, its explanation
/// units (method x batch) are assigned largest estimated cost first to the shard with the least
/// estimated work so far (ties: the lower shard), carrying the loads from pair to pair. The cost
/// of a unit is the method's cost formula (`attrib plugins --json`: forward + backward rows for
/// the batch's feature counts) plus its metric scores (kMetricRowsPerExample rows per example and
/// metric); a method without a usable formula counts kUnknownRowsPerExample rows per example.
class ShardPlanner {
 public:
  /// Measured on the default suite (2-core machine, one process): integrated gradients' 20,000
  /// forward + backward rows took 4.33 s, and its 4 metrics 0.44 s for 200 examples, so one
  /// metric's batched, gradient-free forwards cost about 3 gradient rows per example (a deletion
  /// curve's 20 steps run without autograd, many examples per call).
  static constexpr double kMetricRowsPerExample = 3;
  static constexpr double kUnknownRowsPerExample = 64;

  explicit ShardPlanner(ShardSpec spec) : spec_(spec), loads_(spec.count, 0.0) {}
  /// Plans the units of `p` (call once per prepared pair, in run order).
  void plan(const PreparedModel& p, const SuiteConfig& suite, const Registry& registry);
  /// Whether this shard computes batch `batch` of method `method` (suite order) of the last pair.
  bool owns(size_t method, size_t batch) const;
  /// Estimated rows per shard so far, and what a round-robin split would have given.
  const std::vector<double>& loads() const { return loads_; }
  const std::vector<double>& naive_loads() const { return naive_; }
  const ShardSpec& spec() const { return spec_; }

 private:
  ShardSpec spec_;
  std::vector<double> loads_, naive_;
  size_t naive_next_ = 0;
  std::vector<std::vector<int64_t>> owner_;  ///< [method][batch] -> shard (0-based)
};

}  // namespace attrib
