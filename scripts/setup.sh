#!/usr/bin/env bash
# Installs attrib's Debian dependencies when any is missing. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-pthread        # without OpenBLAS torch uses reference BLAS (~14x slower)
  libboost-dev libeigen3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  libcli11-dev                             # attrib's command-line parsing
  libpng-dev libjpeg-dev                   # image datasets (images:DIR)
  libsqlite3-dev                           # the run store (<out>/store.sqlite)
  libopenmpi-dev openmpi-bin               # mpirun -n N attrib run (ATTRIB_WITH_MPI)
  chromium                                 # browser test of the HTML report (Report.Chromium*)
  dataset-fashion-mnist
)
if [[ "${ATTRIB_WITH_PYTHON_TESTS:-1}" == 1 ]]; then
  packages+=(python3 python3-torch)        # tests export models from Python to check the contract
  packages+=(python3-sklearn)              # reference restatements of ERASER/Quantus/OpenXAI metrics
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "attrib setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
