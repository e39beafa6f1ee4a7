#!/usr/bin/env bash
# Every flag used in a `cohort …` command line in README.md, docs/, examples/, cluster/ and
# the Makefile's demo exists in that subcommand's `--help` (after `--`, `cohort train`'s).
# Needs the release binary: COHORT_BIN (default .build/release/cohort).
# It first proves, on a scratch page, the check fails on an unknown flag.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")

check() {   # check ROOT: prints each unknown flag with file:line, exits 1 if any
python3 - "$1" "$BIN" <<'PY'
import os, re, shlex, subprocess, sys
root, binary = sys.argv[1], sys.argv[2]

help_cache = {}
def help_of(path):
    """(flags, subcommands, default subcommand) from `cohort PATH --help`."""
    key = tuple(path)
    if key in help_cache:
        return help_cache[key]
    out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    flags, subs, default, section = {"--help", "--version", "-h"}, set(), None, ""
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+:", line):
            section = line.split(":")[0]
            continue
        if section == "SUBCOMMANDS":
            m = re.match(r"^  (\S+)(\s+\(default\))?", line)
            if m:
                subs.add(m.group(1))
                if m.group(2):
                    default = m.group(1)
        elif re.match(r"^\s+-", line):
            names = re.split(r"\s{2,}", line.strip())[0]
            flags.update(re.findall(r"--[A-Za-z0-9][\w-]*", names))
            flags.update(re.findall(r"(?<![\w-])-[A-Za-z](?![\w-])", names))
    help_cache[key] = (flags, subs, default)
    return help_cache[key]

BINARY = re.compile(r'''(?:^|[\s/(`"'])(?:cohort|\$\(?BIN\)?|\$\{?COHORT_BIN\}?|\$bin|\$\{bin\})["']?(?=\s|$)''')
def commands(text):
    """(line number, the tokens after the binary) of every cohort command line in text."""
    lines, out = text.split("\n"), []
    i = 0
    while i < len(lines):
        start, line = i, lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i]
        i += 1
        for span in re.findall(r"`([^`]*)`", line) if "```" not in line and "`" in line else [line]:
            for m in BINARY.finditer(span):
                rest = span[m.end():]
                rest = re.split(r"(?<!\\)\|(?!\|)|;|&&|\|\||(?<!\S)#|(?<![\w-])>|`|\)(?=\s|$)", rest)[0]
                rest = rest.replace("\\|", "|").replace("[", " ").replace("]", " ").replace("…", " ")
                try:
                    tokens = shlex.split(rest, comments=False)
                except ValueError:
                    tokens = rest.split()
                out.append((start + 1, tokens))
    return out

def check_tokens(tokens):
    """Unknown flags of one command line, as (flag, subcommand path)."""
    path, bad = [], []
    flags, subs, default = help_of(path)
    k = 0
    while k < len(tokens) and tokens[k] in subs:
        path.append(tokens[k]); k += 1
        flags, subs, default = help_of(path)
    if not path:
        return []                       # `cohort` alone, or a word that is not a subcommand (prose)
    if subs and default and (k >= len(tokens) or tokens[k] not in subs):
        path.append(default)
        flags, subs, default = help_of(path)
    if path == ["config", "show"]:       # takes `cohort train` flags after its own
        flags = flags | help_of(["train"])[0]
    for t in tokens[k:]:
        if t == "--":
            path = ["train"]; flags = help_of(path)[0]
            continue
        if t.startswith("-") and not re.match(r"^-?\d", t[1:]) and len(t) > 1:
            name = t.split("=")[0]
            if not re.match(r"^--?[A-Za-z][\w-]*$", name):
                continue                # shell syntax or a placeholder, not a flag
            if name not in flags:
                bad.append((name, " ".join(path)))
    return bad

files = [os.path.join(root, "README.md")]
for sub in ("docs", "examples", "cluster"):
    for d, _, fs in os.walk(os.path.join(root, sub)):
        files += [os.path.join(d, f) for f in sorted(fs) if f.endswith((".md", ".sh", ".sbatch", ".yaml"))]
problems, count = 0, 0
for path in files:
    if not os.path.exists(path):
        continue
    for line, tokens in commands(open(path, encoding="utf-8").read()):
        count += 1
        for flag, sub in check_tokens(tokens):
            print(f"{os.path.relpath(path, root)}:{line}: `cohort {sub}` has no flag {flag}")
            problems += 1
makefile = os.path.join(root, "Makefile")
if os.path.exists(makefile):
    m = re.search(r"^DEMO_ARGS \?=((?:.*\\\n)*.*)$", open(makefile).read(), re.M)
    if m:
        count += 1
        for flag, sub in check_tokens(["train"] + shlex.split(m.group(1).replace("\\\n", " "))):
            print(f"Makefile: DEMO_ARGS: `cohort {sub}` has no flag {flag}")
            problems += 1
print(f"docs-flags: {count} cohort command lines checked, {problems} unknown flag(s)")
sys.exit(1 if problems else 0)
PY
}

# The self-test runs first on every call: the check must fail on a deliberately broken page.
{
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  printf '```sh\ncohort train --steps 10 --no-such-flag 3\n```\n' > "$tmp/README.md"
  if check "$tmp" >/dev/null; then echo "docs-flags self-test: an unknown train flag was not detected"; exit 1; fi
  printf 'Run `cohort launch --np 2 -- --steps 5 --hosts-typo x`.\n' > "$tmp/README.md"
  if check "$tmp" >/dev/null; then echo "docs-flags self-test: an unknown flag after -- was not detected"; exit 1; fi
  printf 'Run `cohort ckpt diff runs/a runs/b --json` and\n```sh\n.build/release/cohort launch --np 2 -- --steps 5 \\\n  --checkpoint-dir x\n```\n' > "$tmp/README.md"
  check "$tmp" >/dev/null || { echo "docs-flags self-test: good flags were reported unknown"; check "$tmp"; exit 1; }
  echo "docs-flags self-test: ok"
}
check "$PWD"
