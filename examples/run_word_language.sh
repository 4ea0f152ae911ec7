#!/usr/bin/env bash
# Builds and runs the word_language example with its defaults: the quick start of the README.
#
# On Debian, installs the packages below that are missing (with sudo unless run as root),
# configures a Release build in build/ (the folder tests/run.sh uses), builds only the
# word_language target and runs it. Arguments are passed on to the program, for example
#   examples/run_word_language.sh --epochs 3
#   examples/run_word_language.sh --compare
#   examples/run_word_language.sh --predict straße
# Environment: DEEPRNN_BUILD_DIR sets the build folder (default: build/ in the repository).
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${DEEPRNN_BUILD_DIR:-$repository/build}
jobs=$(nproc 2>/dev/null || echo 2)

# Build tools, the libraries deeprnn uses, and the eight word lists the example reads.
packages=(
  cmake g++ make libeigen3-dev nlohmann-json3-dev catch2
  wamerican wfrench wngerman wspanish witalian wportuguese wdutch wpolish
)

install_missing_packages() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "run_word_language.sh: no dpkg-query/apt-get, so no packages are installed; the build" \
      "needs CMake >= 3.20, a C++20 compiler, Eigen 3.4, nlohmann_json >= 3.10 and Catch2 2," \
      "and the example needs the word lists in /usr/share/dict" >&2
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
  echo "run_word_language.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

install_missing_packages

cmake -S "$repository" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" --parallel "$jobs" --target word_language

program="$build_dir/examples/word_language"
echo "run_word_language.sh: running $program $*"
# The program prints the absolute paths of everything it writes.
exec "$program" "$@"
