"""Counts the instructions of one operation of the `instructions` bench binary under callgrind.

Each operation runs twice, N1 and N2 times after the same set-up; (I(N2) - I(N1)) / (N2 - N1) is
its count, the start-up and fixture cancelled out. Each baseline (the binary's `--list` names the
Tessera operation it stands beside) is also printed as Tessera's count over its own.
Usage: count.py BINARY BASELINE [--check|--update] [--json FILE]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

N1, N2 = 100, 1100
# Tessera's own operations: the ones --check guards. The baselines change only with their crates.
GUARDED = ["access_verify", "access_mint", "code_verify", "code_mint", "pkce_verify"]
MARGIN = 0.02  # a 2% growth fails --check


def instructions(binary, op, n, scratch):
    out = os.path.join(scratch, f"{op}.{n}.out")
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, op, str(n)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            m = re.match(r"(?:summary|totals): (\d+)", line)
            if m:
                return int(m.group(1))
    raise SystemExit(f"no instruction total in {out}")


def main():
    binary, baseline_path, *flags = sys.argv[1:]
    json_path = None
    if "--json" in flags:
        at = flags.index("--json")
        if at + 1 >= len(flags):
            raise SystemExit("--json needs a FILE")
        json_path = flags.pop(at + 1)
        flags.pop(at)
    # One line per operation: its name, and for a baseline the Tessera operation it is compared with.
    listed = [line.split() for line in subprocess.run(
        [binary, "--list", "0"], check=True, capture_output=True, text=True).stdout.splitlines()]
    ops = [fields[0] for fields in listed]
    versus = {fields[0]: fields[1] for fields in listed if len(fields) > 1}
    version = subprocess.run(["valgrind", "--version"], capture_output=True,
                             text=True).stdout.strip()
    counts = {}
    with tempfile.TemporaryDirectory() as scratch:
        for op in ops:
            a = instructions(binary, op, N1, scratch)
            b = instructions(binary, op, N2, scratch)
            counts[op] = round((b - a) / (N2 - N1))
    noop = counts.pop("noop")
    floor = counts["hmac_floor"]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Instructions per operation, callgrind ({version}); host CPU {cpu}. Under valgrind "
          "the SHA-256 code takes its portable path (valgrind does not emulate SHA-NI), so these "
          f"count instructions, not time. Loop overhead: {noop} instructions.\n")
    print("| operation | instructions | vs HMAC floor |")
    print("|---|---:|---:|")
    for op, count in counts.items():
        print(f"| {op} | {count:,} | {count / floor:.2f} |")
    print("\n| baseline | Tessera operation | Tessera / baseline | baseline / Tessera |")
    print("|---|---|---:|---:|")
    for op, tessera in versus.items():
        print(f"| {op} | {tessera} | {counts[tessera] / counts[op]:.2f} | "
              f"{counts[op] / counts[tessera]:.2f} |")
    result = {"valgrind": version, "counts": counts}
    print(json.dumps(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")

    if "--update" in flags:
        with open(baseline_path, "w") as f:
            json.dump({"valgrind": version, "margin": MARGIN, "counts": counts}, f, indent=2)
            f.write("\n")
        print(f"wrote {baseline_path}")
    if "--check" in flags:
        with open(baseline_path) as f:
            baseline = json.load(f)
        failed = []
        for op in GUARDED:
            was, now = baseline["counts"][op], counts[op]
            change = now / was - 1
            status = "ok"
            if change > baseline.get("margin", MARGIN):
                status = "GREW"
                failed.append(op)
            print(f"{op}: {now:,} instructions, baseline {was:,} ({change:+.1%}) {status}")
        if failed:
            raise SystemExit(f"instruction counts grew past the {MARGIN:.0%} margin: "
                             f"{', '.join(failed)} (if intended, run benches/instructions/run --update)")


main()
