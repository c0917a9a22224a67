#!/usr/bin/env python3
"""Print criterion results as ratios: reference time / bedrock time.

Convention for every benchmark group: the function `bedrock` is ours, any
other function name in the same group is a reference crate measured in the
same run on the same inputs. A ratio above 1.0 means bedrock is faster.
Criterion's own output is passed through on stdin and echoed first.
"""
import json
import os
import pathlib
import sys

for line in sys.stdin:
    sys.stdout.write(line)

# Where cargo put them: $CARGO_TARGET_DIR if set, as cargo reads it.
target = os.environ.get("CARGO_TARGET_DIR") or pathlib.Path(__file__).resolve().parent.parent / "target"
root = pathlib.Path(target) / "criterion"
if not root.is_dir():
    sys.exit(f"bench-ratios: no {root} directory; did the benchmarks run?")


def median_ns(path):
    """Criterion's median, not its mean: on a shared VM a burst of noise
    drags the mean of a few-second run by 10-30%, the median much less."""
    with open(path / "new" / "estimates.json") as f:
        return json.load(f)["median"]["point_estimate"]


def cases(function_dir):
    """Yield (case name, directory holding new/estimates.json)."""
    if (function_dir / "new").is_dir():
        yield "-", function_dir
    for sub in sorted(function_dir.iterdir()):
        if (sub / "new").is_dir():
            yield sub.name, sub


rows = []
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    ours = group / "bedrock"
    if not ours.is_dir():
        continue
    ours_cases = dict(cases(ours))
    for ref in sorted(p for p in group.iterdir() if p.is_dir() and p.name not in ("bedrock", "report")):
        for case, ref_dir in cases(ref):
            if case not in ours_cases:
                continue
            b = median_ns(ours_cases[case])
            r = median_ns(ref_dir)
            rows.append((group.name, case, ref.name, b, r, r / b))

print()
print(f"{'group':<14} {'case':<24} {'reference':<12} {'bedrock ns':>11} {'ref ns':>11} {'ratio':>7}")
for g, c, ref, b, r, ratio in rows:
    print(f"{g:<14} {c:<24} {ref:<12} {b:>11.1f} {r:>11.1f} {ratio:>6.2f}x")
print("ratio = reference time / bedrock time (criterion medians); above 1.0x bedrock is faster.")
