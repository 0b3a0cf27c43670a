#!/usr/bin/env bash
# Configures and builds attrib in build/ (Release). Extra arguments go to the CMake configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTRIB_BUILD_DIR:-$root/build}"
gen=(); command -v ninja >/dev/null && [[ ! -f "$build/Makefile" ]] && gen=(-G Ninja)
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build" --parallel "${ATTRIB_JOBS:-$(nproc)}"
