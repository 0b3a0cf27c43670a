#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (readers, parsers, the suite and results readers)
# with clang in build-fuzz/ (-DATTRIB_FUZZ=ON, ASan + UBSan) and runs each for a bounded time on a
# copy of its seed corpus (tests/fuzz/corpus/TARGET; the committed corpus never grows), then
# prints executions, exec/s and crashes per target. Exits 1 when any target crashed; the inputs
# are kept in build-fuzz/fuzz-artifacts/TARGET/ (replay: build-fuzz/bin/fuzz_TARGET FILE).
#
# Not part of .ci/run: it needs a second, clang-built tree on top of the gcc build CI makes, and
# a fuzzing run is bounded by time, not by a pass/fail test list.
#
#   scripts/fuzz.sh [TARGET...]        all targets when none are named
#   ATTRIB_FUZZ_SECONDS=60             time per target
#   ATTRIB_FUZZ_JOBS=1                 build parallelism
#   ATTRIB_SHARED_DATA=../shared/data  small files of the shared data sets become extra seeds
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTRIB_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${ATTRIB_FUZZ_SECONDS:-60}"
shared="${ATTRIB_SHARED_DATA:-$root/../shared/data}"
all=(suite csv arff jsonl eraser hatexplain idx images precomputed compare csv_records
     python_literal gzip tar image)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 2; }
gen=(); command -v ninja >/dev/null && [[ ! -f "$build/Makefile" ]] && gen=(-G Ninja)
# -O1: the usual fuzzing trade-off between speed and faithful stack traces.
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DATTRIB_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" --parallel "${ATTRIB_FUZZ_JOBS:-1}" --target \
  "${targets[@]/#/fuzz_}"

# LibTorch keeps global allocations until exit: leaks are not what is looked for here.
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
work="$build/fuzz-run"
artifacts="$build/fuzz-artifacts"
rm -rf "$work"
mkdir -p "$work" "$artifacts"

# Extra seeds from the shared data sets, in the input format of tests/fuzz/fuzz_common.h.
shared_seeds() {  # TARGET DIR
  local target=$1 dir=$2 f n=0
  [[ -d "$shared" ]] || return 0
  local pattern
  case "$target" in
    csv) pattern='*.csv' ;; arff) pattern='*.arff' ;; image) pattern='*.jpg' ;; *) return 0 ;;
  esac
  while IFS= read -r -d '' f; do
    [[ $(stat -c %s "$f") -le 8192 && $n -lt 8 ]] || continue
    if [[ $target == image ]]; then
      cp "$f" "$dir/shared-$n"
    else
      { printf '%s\n' "--8<-- $(basename "$f")"; cat "$f"; } >"$dir/shared-$n"
    fi
    n=$((n + 1))
  done < <(find "$shared" -name "$pattern" -print0 | sort -z)
}

status=0
summary=$(printf '%-15s %7s %12s %9s %7s\n' target seconds executions exec/s crashes)
for t in "${targets[@]}"; do
  corpus="$work/corpus-$t"
  mkdir -p "$corpus" "$artifacts/$t"
  cp "$root/tests/fuzz/corpus/$t/"* "$corpus/"
  shared_seeds "$t" "$corpus"
  log="$work/$t.log"
  before=$(find "$artifacts/$t" -type f | wc -l)
  start=$(date +%s)
  # The scratch folders of the targets (fuzz_common.h) go to a temporary folder of their own.
  set +e
  TMPDIR="$work" "$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -detect_leaks=0 -print_final_stats=1 -dict="$root/tests/fuzz/fuzz.dict" \
    -artifact_prefix="$artifacts/$t/" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(($(find "$artifacts/$t" -type f | wc -l) - before))
  [[ $rc -ne 0 && $crashes -eq 0 ]] && crashes=1  # died without writing an input
  [[ $crashes -eq 0 ]] || { status=1; echo "== fuzz_$t: crash, see $log" >&2; tail -40 "$log" >&2; }
  line=$(printf '%-15s %7s %12s %9s %7s' "$t" "$took" "${runs:-?}" "${rate:-?}" "$crashes")
  echo "$line"
  summary+=$'\n'"$line"
done
echo
echo "$summary"
exit $status
