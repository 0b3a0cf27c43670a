#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "${ATTRIB_BUILD_DIR:-$root/build}"
# ctest -j runs processes side by side: idle OpenMP threads that spin would steal the cores (README,
# "Measured"); attrib itself sets this, the test binaries read it from here.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --output-on-failure --timeout 900 -j "${ATTRIB_TEST_JOBS:-2}" "$@"
