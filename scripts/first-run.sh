#!/usr/bin/env bash
# The README's first command, exactly as written there, in a fresh clone of this repository
# on a toolchain without the wasm32 target: the build must install the target by itself
# (saying so on stderr) and vet the example manifest. Used by CI before anything else builds.
#
# CARGO_TARGET_DIR (default: this checkout's target/) is shared with the clone so the
# compiled dependencies are reused; the clone's own guest build starts from nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=wasm32-unknown-unknown

cmd=$(grep -m1 -E '^cargo run ' README.md) || { echo "first-run: no \`cargo run\` line in README.md" >&2; exit 1; }
case "$cmd" in
  *check\ examples/*) ;;
  *) echo "first-run: unexpected first command in README.md: $cmd" >&2; exit 1 ;;
esac

work=$(mktemp -d)
restore() {
  # Leave the machine as it was: the rest of CI needs the target.
  if command -v rustup >/dev/null 2>&1; then
    (cd "$root" && rustup target add "$target" >/dev/null 2>&1) || true
  fi
  rm -rf "$work"
}
trap restore EXIT

git clone -q "$root" "$work/microvet"
cd "$work/microvet"
if command -v rustup >/dev/null 2>&1; then
  # The toolchain of rust-toolchain.toml, as the command below will use it.
  rustup target remove "$target" >/dev/null 2>&1 || true
  if rustup target list --installed | grep -qx "$target"; then
    echo "first-run: could not remove the $target target for the test" >&2
    exit 1
  fi
fi

echo "first-run: $cmd"
set +e
# As on machines where rustup may not install by itself (the toolchain file's `targets`).
RUSTUP_AUTO_INSTALL=0 CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" bash -c "$cmd" >"$work/out" 2>"$work/err"
status=$?
set -e
if [ "$status" -ne 0 ] || ! grep -q '^examples/hr-onboarding-helper.yaml: approve-with-controls$' "$work/out"; then
  echo "first-run: the README's first command failed (exit $status)" >&2
  tail -n 40 "$work/err" >&2
  cat "$work/out" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1 && ! grep -q "installing it with \`rustup target add $target\`" "$work/err"; then
  echo "first-run: the build did not say that it installed the $target target" >&2
  tail -n 40 "$work/err" >&2
  exit 1
fi
grep -m1 "rustup target add" "$work/err" || true
head -n 3 "$work/out"
echo "first-run: ok (exit 0, verdict approve-with-controls, target installed by the build)"
