#!/usr/bin/python3
"""Hot methods of a JFR recording: `jfr print --json --events jdk.ExecutionSample REC.jfr > REC.json`,
then `jfr_hot.py REC.json`. Prints the methods samples were taken in (self), and, per sample, the
first advtrain method on the stack (the kernel or autograd code responsible, JDK code included)."""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))["recording"]["events"]
own, ours = collections.Counter(), collections.Counter()
for e in events:
    frames = (e["values"].get("stackTrace") or {}).get("frames") or []
    if not frames:
        continue
    name = lambda f: f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"]
    own[name(frames[0])] += 1
    first = next((f for f in frames if "advtrain" in f["method"]["type"]["name"]), None)
    ours[name(first) if first else "(outside advtrain: JDK, JIT, GC)"] += 1
total = sum(own.values())
print(f"{total} execution samples")
print("top methods (self):")
for m, n in own.most_common(15):
    print(f"  {100 * n / total:5.1f}%  {m}")
print("by first advtrain frame (inclusive of the JDK code it calls):")
for m, n in ours.most_common(20):
    print(f"  {100 * n / total:5.1f}%  {m}")
