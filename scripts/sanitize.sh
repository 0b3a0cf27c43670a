#!/usr/bin/env bash
# Builds attrib with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and runs the
# tests of the code that parses user input and computes the numbers (readers, suite and JSON
# parsing, metrics, statistics, agreement, cost formulas, plugin loading). Model training and the
# Python interop tests are left out: they spend minutes inside LibTorch, which is not
# instrumented. Leak detection is off because LibTorch keeps global allocations until exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTRIB_ASAN_BUILD_DIR:-$root/build-asan}"
"$root/scripts/setup.sh"
ATTRIB_BUILD_DIR="$build" "$root/scripts/build.sh" -DATTRIB_SANITIZE=ON
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
filter='Plausibility*:MetricCatalogue*:FaithfulnessCorrelation*:Monotonicity*:Infidelity*:PredictionGap*:Perturb*:Localisation*:Complexity*:Agreement*:Stats*:Leaderboard*:Config*:JsonText*'
filter+=':Datasets*:Jsonl*:DenseData*:Eraser*:Cost*:MetricReference*:Precomputed*:Registry*'
filter+=':Params*:WordPiece*:Vocab*'
"$build/bin/attrib_tests" --gtest_filter="$filter" "$@"
