#!/usr/bin/env python3
"""Validates a Chrome trace-event file (JSON Object Format) as `cohort trace merge` writes it.

usage: trace_validate.py FILE --ranks N [--require NAME ...] [--require-prefix PREFIX ...]

Checks: the file parses; it is {"traceEvents": [...], "displayTimeUnit": "ms"}; every
event has the fields its phase requires ("X": name, cat, ph, pid, tid, ts, dur; "M":
name, ph, pid, tid, args); exactly N processes (pids 0..N-1), each named "rank N" by a
process_name metadata event, every used thread named by thread_name; complete events
nest properly on each thread (a child lies within its parent, no partial overlaps); every
--require name and --require-prefix prefix occurs on every rank; per-layer forward events
lie within a "forward" (or "validation", "test") event, per-layer backward events and bucket launches within a
"backward" event, bucket waits within "gradient sync", and every phase within a "step".
Prints a one-line JSON summary; exits 1 with the first problem found.
Only the standard library (json) is used; timestamps are integers, compared exactly.
"""
import argparse
import json
import sys
from collections import defaultdict


def fail(message):
    print("INVALID: " + message)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("--require-prefix", action="append", default=[])
    a = ap.parse_args()

    try:
        with open(a.file) as f:
            root = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{a.file} does not parse as JSON: {e}")
    if not isinstance(root, dict) or not isinstance(root.get("traceEvents"), list):
        fail("not the JSON Object Format: no traceEvents array")
    if root.get("displayTimeUnit") != "ms":
        fail(f"displayTimeUnit is {root.get('displayTimeUnit')!r}, expected 'ms'")

    complete = defaultdict(list)      # (pid, tid) -> events
    process_names, thread_names = {}, set()
    for i, e in enumerate(root["traceEvents"]):
        if not isinstance(e, dict):
            fail(f"event {i} is not an object")
        ph = e.get("ph")
        if ph == "X":
            for key, kind in (("name", str), ("cat", str), ("pid", int), ("tid", int), ("ts", int), ("dur", int)):
                if not isinstance(e.get(key), kind) or isinstance(e.get(key), bool):
                    fail(f"event {i} ({e.get('name')!r}) lacks {key} of type {kind.__name__}: {e}")
            if e["dur"] < 0 or e["ts"] < 0:
                fail(f"event {i} has a negative ts or dur: {e}")
            complete[(e["pid"], e["tid"])].append(e)
        elif ph == "M":
            for key, kind in (("name", str), ("pid", int), ("tid", int), ("args", dict)):
                if not isinstance(e.get(key), kind):
                    fail(f"metadata event {i} lacks {key}: {e}")
            if e["name"] == "process_name":
                process_names[e["pid"]] = e["args"].get("name")
            elif e["name"] == "thread_name":
                if not isinstance(e["args"].get("name"), str):
                    fail(f"thread_name event {i} has no name: {e}")
                thread_names.add((e["pid"], e["tid"]))
        else:
            fail(f"event {i} has phase {ph!r}; this file has only X and M events")

    pids = sorted({pid for pid, _ in complete})
    if pids != list(range(a.ranks)):
        fail(f"complete events come from pids {pids}, expected 0..{a.ranks - 1}")
    for pid in pids:
        if process_names.get(pid) != f"rank {pid}":
            fail(f"pid {pid} is named {process_names.get(pid)!r} by process_name, expected 'rank {pid}'")
    for key in complete:
        if key not in thread_names:
            fail(f"thread {key} has events but no thread_name metadata")

    # Nesting per thread, and each event's chain of enclosing events.
    parents = {}
    for key, events in complete.items():
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in events:
            end = e["ts"] + e["dur"]
            # A parent ends before this event starts; an instant (dur 0) at the parent's
            # last microsecond still lies inside it (timestamps are floored to µs).
            while stack and (stack[-1]["ts"] + stack[-1]["dur"] < e["ts"]
                             or (stack[-1]["ts"] + stack[-1]["dur"] == e["ts"] and e["dur"] > 0)):
                stack.pop()
            if stack and end > stack[-1]["ts"] + stack[-1]["dur"]:
                p = stack[-1]
                fail(f"rank {key[0]} thread {key[1]}: {e['name']!r} [{e['ts']}, {end}] overlaps {p['name']!r} "
                     f"[{p['ts']}, {p['ts'] + p['dur']}] without lying inside it")
            parents[id(e)] = [p["name"] for p in stack]
            stack.append(e)

    def within(e, names):
        return any(n in names for n in parents[id(e)])

    counts = defaultdict(lambda: defaultdict(int))
    for (pid, _), events in complete.items():
        for e in events:
            counts[pid][e["name"]] += 1
            n = e["name"]
            if n.startswith("forward ") and not within(e, {"forward", "validation", "test"}):
                fail(f"rank {pid}: {n!r} at {e['ts']} is not inside a 'forward', 'validation' or 'test' event")
            if n.startswith("backward ") and not within(e, {"backward"}):
                fail(f"rank {pid}: {n!r} at {e['ts']} is not inside a 'backward' event")
            if n == "bucket launch" and not within(e, {"backward", "gradient sync"}):
                fail(f"rank {pid}: a bucket launch at {e['ts']} is outside backward and the gradient sync")
            if n == "bucket wait" and not within(e, {"gradient sync"}):
                fail(f"rank {pid}: a bucket wait at {e['ts']} is not inside 'gradient sync'")
            if n in ("forward", "backward", "optimizer step", "data wait", "gradient sync") and not within(e, {"step"}):
                fail(f"rank {pid}: {n!r} at {e['ts']} is not inside a 'step' event")
    for pid in pids:
        names = counts[pid]
        for req in a.require:
            if names.get(req, 0) == 0:
                fail(f"rank {pid} has no {req!r} event (has: {sorted(names)})")
        for prefix in a.require_prefix:
            if not any(n.startswith(prefix) for n in names):
                fail(f"rank {pid} has no event named {prefix!r}… (has: {sorted(names)})")
    summary = {"ranks": len(pids), "events": sum(len(v) for v in complete.values()),
               "threads": len(complete), "names": {str(p): dict(sorted(counts[p].items())) for p in pids}}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
