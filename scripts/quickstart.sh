#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the embedded default suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTRIB_WITH_PYTHON_TESTS=0 "$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root"
exec "${ATTRIB_BUILD_DIR:-$root/build}/bin/attrib" run "$@"
