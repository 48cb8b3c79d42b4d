"""Batch speed and memory of nova_meta, from one run:

- 100,000 mixed requests (the parity generator, all ops) answered by
  nova_meta, and by a Python driver that reads the same file and calls
  Nova's functions (the parity suite's oracle), as a ratio; beside them,
  CPython's json codec alone and serde_json alone (the json_baseline
  example) on the same requests;
- nova_meta's peak memory (max RSS) on a JSON Lines input of about 1 GB.

Run by `scripts/bench --batch`.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "parity"))
import gen as generator  # noqa: E402
import parity  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--baseline", required=True, help="the json_baseline example")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--gigabytes", type=float, default=1.0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    path = os.path.join(args.dir, "batch.jsonl")
    g = generator.LifecycleGen(99)
    lines = [generator.dumps(g.request(parity.ALL_OPS[i % len(parity.ALL_OPS)])) for i in range(args.cases)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")

    best = None
    for _ in range(3):
        with open(path, "rb") as stdin:
            start = time.perf_counter()
            subprocess.run([args.bin], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
            elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)

    start = time.perf_counter()
    with open(path) as f, open(os.devnull, "w") as out:
        for line in f:
            req = json.loads(line)
            try:
                answer = {"ok": parity.nova_answer(req)}
            except Exception as e:  # an error line, as nova_meta writes one
                answer = {"error": {"kind": type(e).__name__, "message": str(e)}}
            out.write(json.dumps(answer, default=str) + "\n")
    python = time.perf_counter() - start
    # What the driver spends in CPython's C json alone (reading every request
    # and writing it back): no implementation that reads and writes the same
    # JSON can make that part of the ratio disappear.
    start = time.perf_counter()
    with open(path) as f:
        for line in f:
            json.dumps(json.loads(line))
    codec = time.perf_counter() - start
    print("batch: %d requests: nova_meta %.2f s, Python driver over Nova %.2f s: %.1fx faster"
          % (args.cases, best, python, python / best))
    print("batch: of the driver's time, CPython's json reading and writing the requests alone: %.2f s (%.0f%%)"
          % (codec, 100 * codec / python))
    # What serde_json alone (nova_meta's JSON layer, same features) costs on
    # the same file: no implementation on it can beat its round trip.
    baseline = subprocess.run([args.baseline, path], stdout=subprocess.PIPE, check=True, text=True).stdout
    serde = dict((name, float(secs)) for name, secs, _ in (line.split() for line in baseline.splitlines()))
    print("batch: serde_json alone on the same file: scan %.2f s, read into Value %.2f s, Value round trip "
          "%.2f s (a pipeline doing only that round trip: %.1fx faster than the driver)"
          % (serde["scan"], serde["value"], serde["round_trip"], python / serde["round_trip"]))
    missed = python / best < 20
    if missed:
        print("MISSED: batch %.1fx faster than the Python driver (target 20x)" % (python / best))

    big = os.path.join(args.dir, "big.jsonl")
    target = int(args.gigabytes * 1e9)
    block = ("\n".join(lines) + "\n").encode()
    with open(big, "wb") as f:
        written = 0
        while written < target:
            f.write(block)
            written += len(block)
    # GNU time reports the child's own peak (a fork of this large Python
    # process would inflate RUSAGE_CHILDREN).
    with open(big, "rb") as stdin:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", args.bin], stdin=stdin, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=True, text=True)
        elapsed = time.perf_counter() - start
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    os.remove(big)
    print("memory: %.2f GB of JSON Lines in %.1f s, peak RSS %.1f MB" % (written / 1e9, elapsed, peak_kib / 1024))
    if peak_kib / 1024 >= 64:
        print("MISSED: peak RSS %.1f MB (target under 64 MB)" % (peak_kib / 1024))
        missed = True
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
