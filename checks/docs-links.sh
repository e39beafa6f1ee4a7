#!/usr/bin/env bash
# Every relative link in README.md, docs/, examples/ and cluster/ Markdown resolves to a
# file or folder of the repository (and a `#anchor` to a heading of the target page).
# Repository paths named in any tracked file (docs/x.md in a code comment) must exist too.
# It first proves, on a scratch page, the check fails on a broken link.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check() {   # check ROOT: prints each broken link, exits 1 if any
python3 - "$1" <<'PY'
import os, re, sys
root = sys.argv[1]
pages = [os.path.join(root, "README.md")]
for sub in ("docs", "examples", "cluster"):
    for d, _, files in os.walk(os.path.join(root, sub)):
        pages += [os.path.join(d, f) for f in sorted(files) if f.endswith(".md")]
link = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
def anchors(path):
    text = open(path, encoding="utf-8").read()
    slugs = set()
    for h in re.findall(r"^#+\s+(.*)$", text, re.M):
        s = re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        slugs.add(s)
    return slugs
bad = 0
for page in pages:
    if not os.path.exists(page):
        continue
    text = open(page, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)       # links inside code blocks are not links
    for target in link.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("mailto:"):
            continue                                         # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        dest = page if path == "" else os.path.normpath(os.path.join(os.path.dirname(page), path))
        rel = os.path.relpath(page, root)
        if not os.path.exists(dest):
            print(f"{rel}: broken link '{target}' ({os.path.relpath(dest, root)} does not exist)")
            bad += 1
        elif anchor and dest.endswith(".md") and anchor.lower() not in anchors(dest):
            print(f"{rel}: broken anchor '{target}' (no heading '#{anchor}' in {os.path.relpath(dest, root)})")
            bad += 1
# Paths of the repository named in plain text anywhere (code comments, help strings,
# docs): `docs/x.md`, `cluster/…`, `examples/…`, `checks/…` must exist too.
import subprocess
tracked = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True).stdout.split()
if not tracked:   # not a git checkout (the self-test): every file under root
    tracked = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
mention = re.compile(r"(?<![\w/.$-])((?:docs|cluster|examples|checks)/[\w./-]+\.(?:md|sh|yaml|yml|swift|py|toml))")
for rel in tracked:
    if rel == "checks/docs-links.sh":
        continue                        # this checker's own self-test names missing pages on purpose
    try:
        text = open(os.path.join(root, rel), encoding="utf-8").read()
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        continue
    for m in sorted(set(mention.findall(text))):
        if not os.path.exists(os.path.join(root, m)):
            print(f"{rel}: names {m}, which does not exist")
            bad += 1
print(f"docs-links: {len(pages)} pages, {bad} broken link(s) or path(s)")
sys.exit(1 if bad else 0)
PY
}

# The self-test runs first on every call: the check must fail on a deliberately broken page.
{
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/docs"; echo "# Title" > "$tmp/docs/a.md"
  printf 'See [a](docs/a.md), [t](docs/a.md#title) and [gone](docs/missing.md).\n' > "$tmp/README.md"
  if check "$tmp" >/dev/null; then echo "docs-links self-test: a broken link was not detected"; exit 1; fi
  printf 'See [a](docs/a.md) and [x](docs/a.md#nope).\n' > "$tmp/README.md"
  if check "$tmp" >/dev/null; then echo "docs-links self-test: a broken anchor was not detected"; exit 1; fi
  printf 'See [a](docs/a.md#title).\n' > "$tmp/README.md"
  check "$tmp" >/dev/null || { echo "docs-links self-test: a good link was reported broken"; exit 1; }
  printf '// the workloads of docs/benchmarks.md\n' > "$tmp/code.swift"
  if check "$tmp" >/dev/null; then echo "docs-links self-test: a missing docs/ path named in code was not detected"; exit 1; fi
  echo "docs-links self-test: ok"
}
check "$PWD"
