"""Seeds fuzz/corpus/<target>/ with requests from the parity generator."""
import hashlib
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "parity"))
import gen  # noqa: E402

OPS = [name[3:-3] for name in sorted(os.listdir(os.path.join(here, "fuzz_targets"))) if name.startswith("op_")]
BEYOND = {"audit", "repair", "lineage"}


def write(target, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    g = gen.LifecycleGen(7)
    for op in OPS:
        for _ in range(40):
            if op in BEYOND:
                req = {"op": op, "system_metadata": g.system_metadata(),
                       "instance": {"uuid": g.uuid(), "image_ref": g.uuid(), "vm_state": "active"},
                       "images": [{"id": g.uuid(), "properties": {"base_image_ref": g.uuid()}}]}
            else:
                req = g.request(op)
            line = json.dumps(req, ensure_ascii=False).encode()
            write("jsonl", line)
            req.pop("op")
            write("op_" + op, json.dumps(req, ensure_ascii=False).encode())


if __name__ == "__main__":
    main()
