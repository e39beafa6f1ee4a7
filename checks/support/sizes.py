#!/usr/bin/env python3
"""Size limits: no Swift file over 400 lines, no function (func/init/closure-bodied
computed property excluded) over 100 lines, in Sources/, examples/ and Tests/, except the
reviewed entries of checks/sizes.allow (`PATH` or `PATH:FUNCTION`); an entry that is no
longer needed fails too, so the list only shrinks. Generated C code is not Swift and not checked.

Usage: sizes.py ROOT
"""
import os, re, sys

FILE_LIMIT, FUNCTION_LIMIT = 400, 100
root = sys.argv[1]
allow = {}
for n, line in enumerate(open(os.path.join(root, "checks/sizes.allow"), encoding="utf-8"), 1):
    entry = line.split("#")[0].strip()
    if entry:
        allow[entry] = n
used, bad = set(), 0
decl = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate|open|static|class|final|override|mutating|nonmutating|convenience|required|nonisolated|@inlinable|@usableFromInline)\s+)*(func\s+([^\s(<]+)|init\??)\s*[(<]")
strip = re.compile(r'"(?:[^"\\]|\\.)*"')

def function_lengths(lines):
    for i, line in enumerate(lines):
        m = decl.match(line)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            code = strip.sub('""', lines[j].split("//")[0])
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                break
            if not started and j > i + 20:   # a protocol requirement: no body
                break
        if started:
            yield (m.group(2) or "init"), i + 1, j - i + 1

for top in ("Sources", "examples", "Tests"):
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if not f.endswith(".swift"):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            lines = open(path, encoding="utf-8").read().split("\n")
            count = len(lines) - (1 if lines and lines[-1] == "" else 0)
            if count > FILE_LIMIT:
                if rel in allow:
                    used.add(rel)
                else:
                    print(f"{rel}: {count} lines (limit {FILE_LIMIT}); split it by responsibility")
                    bad += 1
            for name, start, length in function_lengths(lines):
                key = f"{rel}:{name}"
                if length > FUNCTION_LIMIT:
                    if key in allow:
                        used.add(key)
                    else:
                        print(f"{rel}:{start}: {name} is {length} lines (limit {FUNCTION_LIMIT}); name its phases as functions")
                        bad += 1
for entry, n in allow.items():
    if entry not in used:
        print(f"checks/sizes.allow:{n}: '{entry}' is within the limits now (or gone); remove the line")
        bad += 1
sys.exit(1 if bad else 0)
