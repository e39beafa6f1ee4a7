#!/usr/bin/env bash
# No Swift file over 400 lines, no function over 100, except the reviewed entries of
# checks/sizes.allow (checks/support/sizes.py). It first proves on a scratch file that it
# fails on one, then checks the real tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/checks" "$scratch/Sources/Big"
: > "$scratch/checks/sizes.allow"
{ echo "func long() {"; for i in $(seq 1 401); do echo "    print($i)"; done; echo "}"; } > "$scratch/Sources/Big/Big.swift"
if out=$(python3 checks/support/sizes.py "$scratch"); then
    echo "sizes: the self-test's 403-line file with a 403-line function was not caught"; exit 1
fi
grep -q "Big.swift: 403 lines" <<<"$out" && grep -q "long is 403 lines" <<<"$out" ||
    { echo "sizes: self-test failed for another reason:"; echo "$out"; exit 1; }
python3 checks/support/sizes.py .
echo "sizes: no file over 400 lines, no function over 100, beyond checks/sizes.allow"
