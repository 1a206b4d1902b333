#!/usr/bin/env bash
# Idempotent setup shared by ./run and ./test: system libraries (apt, when root),
# a .venv with the pinned packages of requirements.lock, and the bundled sprites.
# Each step is skipped when its stamp says it is already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'bootstrap: %s\n' "$*" >&2; }

# --- system libraries -------------------------------------------------------------
# libportaudio2: sound output (without it the studio runs on a silent clock).
# The xcb/xkb/EGL/fontconfig libraries: Qt's windowing on X11 (tests use offscreen).
APT_PACKAGES=(libportaudio2 libsndfile1 libegl1 libgl1 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0
  libxcb-xkb1 libxcb-sync1 libxcb-shm0 libxcb-render0 libx11-xcb1)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}"
    say "(continuing: without libportaudio2 there is no sound, without the xcb libraries no window)"
  fi
fi

# --- Python environment ---------------------------------------------------------
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$c"; break
    fi
  done
fi
[ -n "$PY" ] || { say "Python 3.11 is required (python3.11 not found on PATH)."; exit 1; }

want="$(sha256sum requirements.lock | cut -c1-16)"
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.stamp 2>/dev/null)" != "$want" ]; then
  say "creating .venv with the pinned packages of requirements.lock"
  rm -rf .venv
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  echo "$want" > .venv/.stamp
fi

# --- native fast path (native/: the PNG encoder and the fused render kernel) ---------
# Compiled with the system C compiler into .venv (pinned setuptools, no network), again
# whenever its sources change. Without it export still works (fpng, OpenCV) and says so.
want_native="$(cat native/setup.py native/pyproject.toml native/src/*.[ch] | sha256sum | cut -c1-16)"
if [ "$(cat .venv/.native-stamp 2>/dev/null)" != "$want_native" ]; then
  py_h="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h"
  need=()
  command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
  [ -f "$py_h" ] || need+=(python3-dev)
  if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing the C build tools: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || true
  fi
  say "building the native fast path (native/)"
  if command -v cc >/dev/null 2>&1 && [ -f "$py_h" ] && (cd native && ../.venv/bin/python -m pip install -q \
       --disable-pip-version-check --no-build-isolation --no-deps --no-index . >/tmp/lipsync-native-build.log 2>&1); then
    rm -rf native/build native/*.egg-info native/src/*.egg-info
  else
    .venv/bin/python -m pip uninstall -q -y lipsync-native >/dev/null 2>&1 || true
    if [ ${#need[@]} -gt 0 ] && ! { command -v cc >/dev/null 2>&1 && [ -f "$py_h" ]; }; then
      say "the native fast path needs a C compiler and $py_h: sudo apt-get install gcc libc6-dev python3-dev"
    else
      say "the native fast path did not compile: see /tmp/lipsync-native-build.log"
    fi
    say "(export works without it: OpenCV kernel and fpng, about 2x slower; it says so in one warning)"
  fi
  echo "$want_native" > .venv/.native-stamp   # not retried until native/ changes: rm .venv/.native-stamp to retry
fi

# --- bundled sprites (generated, not stored in git) ----------------------------
want_assets="$(cat assets_min/generate.py assets_min/atlas.min.json | sha256sum | cut -c1-16)"
if [ "$(cat assets_min/.stamp 2>/dev/null)" != "$want_assets" ]; then
  say "drawing the bundled character sprites (assets_min/)"
  .venv/bin/python assets_min/generate.py
  echo "$want_assets" > assets_min/.stamp
fi
