#!/usr/bin/env python3
"""Import rules: every `import` of a package module must be an edge the target table of
docs/architecture.md allows (its "depends on" column, transitively), and the table itself
must not allow an edge listed in checks/import-rules.forbidden.

Usage: import_rules.py ROOT   (exit 1 and one line per violation; 0 when clean)
"""
import os, re, sys

root = sys.argv[1]
arch = open(os.path.join(root, "docs/architecture.md"), encoding="utf-8").read()
package = open(os.path.join(root, "Package.swift"), encoding="utf-8").read()

# Targets and their source folders, from Package.swift.
folders = {}
for m in re.finditer(r'\.(?:target|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)"(.*?)\)\s*,?\s*\n', package, re.S):
    name, rest = m.group(1), m.group(2)
    p = re.search(r'path:\s*"([^"]+)"', rest)
    folders[name] = p.group(1) if p else f"Sources/{name}"
modules = set(folders)

# The table: | `A` (+ `B`) | `X`, `Y` or — or "all but `Z`" | what it holds |
deps, bad = {}, 0
for line in arch.split("\n"):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 3 or not cells[0].startswith("`"):
        continue
    names = re.findall(r"`([^`]+)`", cells[0])
    allowed = set(re.findall(r"`([^`]+)`", cells[1]))
    if cells[1].startswith("all but"):
        allowed = {"*"} | {"-" + x for x in allowed}
    for n in names:
        deps[n] = allowed

def closure(target, seen=None):
    seen = set() if seen is None else seen
    allowed = deps.get(target, set())
    if "*" in allowed:
        excluded = {x[1:] for x in allowed if x.startswith("-")}
        return {m for m in modules if m not in excluded and m != target}
    for d in allowed:
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen

for t in sorted(modules):
    if t not in deps:
        print(f"docs/architecture.md: target {t} (Package.swift) has no row in the target table")
        bad += 1

def edges(name):
    out = []
    for n, line in enumerate(open(os.path.join(root, name), encoding="utf-8"), 1):
        line = line.split("#")[0].strip()
        if line:
            a, b = [x.strip() for x in line.split("->")]
            out.append((n, a, b))
    return out

# A reviewed, temporary exception is listed in checks/import-rules.allow; one no longer
# needed fails too, so the list only shrinks.
excused = {(a, b) for _, a, b in edges("checks/import-rules.allow")}
for n, a, b in edges("checks/import-rules.forbidden"):
    if b in closure(a) and (a, b) not in excused:
        print(f"docs/architecture.md: the table lets {a} import {b}, which checks/import-rules.forbidden:{n} forbids")
        bad += 1
for n, a, b in edges("checks/import-rules.allow"):
    if b not in closure(a):
        print(f"checks/import-rules.allow:{n}: {a} -> {b} is no longer allowed by the table; remove the line")
        bad += 1

# The umbrella `Cohort` is the one re-export point, for users' programs: no target under Sources/
# may reach it, and no other file may use @_exported.
for t, folder in sorted(folders.items()):
    if folder.startswith("Sources/") and t != "Cohort" and "Cohort" in closure(t):
        print(f"docs/architecture.md: the table lets {t} import the umbrella Cohort, which only programs outside Sources/ may")
        bad += 1
exported = re.compile(r"^\s*@_exported\s+import\b")
for t, folder in sorted(folders.items()):
    for d, _, files in os.walk(os.path.join(root, folder)):
        for f in sorted(files):
            if f.endswith(".swift") and t != "Cohort":
                for i, line in enumerate(open(os.path.join(d, f), encoding="utf-8"), 1):
                    if exported.match(line):
                        print(f"{os.path.relpath(os.path.join(d, f), root)}:{i}: @_exported outside the Cohort umbrella (docs/architecture.md, Imports)")
                        bad += 1

imp = re.compile(r"^\s*(?:@_exported\s+|@testable\s+|@preconcurrency\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_][\w]*)")
for t, folder in sorted(folders.items()):
    allowed = closure(t)
    base = os.path.join(root, folder)
    for d, _, files in os.walk(base):
        for f in sorted(files):
            if not f.endswith(".swift"):
                continue
            path = os.path.join(d, f)
            for i, line in enumerate(open(path, encoding="utf-8"), 1):
                m = imp.match(line)
                if m and m.group(1) in modules and m.group(1) not in allowed and m.group(1) != t:
                    print(f"{os.path.relpath(path, root)}:{i}: {t} imports {m.group(1)}, "
                          f"which docs/architecture.md does not allow ({t} may import: {', '.join(sorted(allowed)) or 'nothing of this package'})")
                    bad += 1
sys.exit(1 if bad else 0)
