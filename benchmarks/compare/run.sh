#!/usr/bin/env bash
# Compares deeprnn with PyTorch and oneDNN on this machine and writes benchmarks/RESULTS.md.
#
# Installs the Debian packages that are missing, builds the benchmark programs in Release
# (-O3 -DNDEBUG -march=native -fopenmp), then runs compare.py, which also runs the Google
# Benchmark suite. Arguments go on to compare.py (see compare.py --help), for example
# `--workloads ce --rounds-large 1 --rounds-small 1` for a quick check.
#
# Environment: BUILD_DIR (default <repository>/build-benchmarks), JOBS (parallel build jobs,
# default: all cores).
set -euo pipefail

repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${BUILD_DIR:-${repository}/build-benchmarks}"
jobs="${JOBS:-$(nproc)}"

# PyTorch from Debian calls the system BLAS; the OpenMP build of OpenBLAS follows
# torch.set_num_threads, where the reference BLAS would make PyTorch several times slower.
packages=(cmake g++ libeigen3-dev nlohmann-json3-dev libbenchmark-dev libdnnl-dev python3-torch
          libopenblas0-openmp)

if command -v apt-get > /dev/null; then
  missing=()
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "${package}" 2> /dev/null | grep -q "install ok installed"; then
      missing+=("${package}")
    fi
  done
  if ((${#missing[@]} > 0)); then
    sudo_command=()
    if ((EUID != 0)); then sudo_command=(sudo); fi
    echo "Installing ${missing[*]}"
    "${sudo_command[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_command[@]}" apt-get install -y \
      --no-install-recommends "${missing[@]}"
  fi
else
  echo "apt-get not found: install the equivalents of ${packages[*]} yourself" >&2
fi

cmake -S "${repository}" -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release \
  -DDEEPRNN_BUILD_BENCHMARKS=ON -DDEEPRNN_BUILD_TESTS=OFF -DDEEPRNN_BUILD_EXAMPLES=OFF \
  -DDEEPRNN_INSTALL=OFF -DDEEPRNN_BENCHMARK_ARCH_FLAGS=-march=native
cmake --build "${build_dir}" -j "${jobs}"

exec /usr/bin/python3 "${repository}/benchmarks/compare/compare.py" --build-dir "${build_dir}" "$@"
