"""Seeds fuzz/corpus/<target>/ with requests from the parity generator."""
import hashlib
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
            instance = {"uuid": g.uuid(), "image_ref": g.uuid()}
            if op == "lineage":
                req = {"op": op, "instance": instance,
                       "images": [{"id": g.uuid(), "properties": {"base_image_ref": g.uuid()}}]}
            elif op in BEYOND:
                req = {"op": op, "system_metadata": g.system_metadata(), "instance": dict(instance, vm_state="active")}
            else:
                req = g.request(op)
            # gen.dumps writes the generator's raw numbers (1E400, ...) as text.
            write("jsonl", gen.dumps(req, ensure_ascii=False).encode())
            req.pop("op")
            write("op_" + op, gen.dumps(req, ensure_ascii=False).encode())


if __name__ == "__main__":
    main()
