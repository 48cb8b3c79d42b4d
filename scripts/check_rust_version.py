"""Each workspace package's `rust-version` covers its dependencies'.

Reads `cargo metadata` on standard input; exits 1 when a package declares
less than one of its (normal, transitive) dependencies needs.
"""
import json
import sys


def version(text):
    parts = [int(part) for part in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.load(sys.stdin)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    failed = False
    for member in meta["workspace_members"]:
        own = packages[member]
        if own.get("publish") == [] and own.get("rust_version") is None:
            continue  # benches and other unpublished helpers declare none
        declared = own.get("rust_version")
        seen, stack = set(), [member]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for dep in nodes[node]["deps"]:
                if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                    stack.append(dep["pkg"])
        deps = [packages[p] for p in seen if p != member]
        needed = max(deps, key=lambda p: version(p.get("rust_version")))
        name, need = needed["name"], needed.get("rust_version")
        if declared is None or version(declared) < version(need):
            print(f"{own['name']}: rust-version {declared}, but {name} {needed['version']} needs {need}",
                  file=sys.stderr)
            failed = True
        else:
            print(f"{own['name']}: rust-version {declared} covers its dependencies (highest: {name} {need})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
