"""Generated requests for the typed-properties ops (`image_meta_props`,
`image_meta_from_system_metadata`).

Property names come from parity/image_props.json, the union of every
release's fields (so a field one release lacks is sent to it too), with the
legacy names, `trait:*`, `hw_numa_cpus.N`/`hw_numa_mem.N` up to and past
NUMA_NODES_MAX, and names Nova does not know (wrong case, whitespace).
Values are drawn by the field's kind: valid values, aliases the enum types
canonicalise, wrong case, whitespace of every kind Python strips (and the
separators it strips but int() does not), numbers as strings and as JSON
numbers at and past every limit, every spelling bool_from_string knows, PEP
440 versions the predicate field reads and ones it refuses, and every JSON
type in every field. The oracle is Nova's own objects; nothing here decides
an answer.
"""
import json
import os


HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "image_props.json")) as f:
    _TABLE = json.load(f)

# Every field name with its kind and values, newest schema first.
FIELDS = {}
VALUES = {}
for schema in reversed(_TABLE["schemas"]):
    for field in schema["fields"]:
        FIELDS.setdefault(field[0], field[1])
        if field[1] == "enum":
            VALUES.setdefault(field[0], set()).update(field[4] or [field[5]])
# Fields and enum values some releases have and others lack: drawn often,
# so every change between releases is met (parity/run --boundaries).
_IN_ALL = set.intersection(*({f[0] for f in s["fields"]} for s in _TABLE["schemas"]))
CONTESTED_FIELDS = sorted(set(FIELDS) - _IN_ALL)
CONTESTED_VALUES = {}
for _name, _values in VALUES.items():
    _every = [set(f[4] or [f[5]]) for s in _TABLE["schemas"] for f in s["fields"] if f[0] == _name]
    _missing = sorted(set(_values) - set.intersection(*_every)) if len(_every) == len(_TABLE["schemas"]) \
        else sorted(set(_values) - set.intersection(*_every))
    if _missing:
        CONTESTED_VALUES[_name] = _missing
CONTESTED_VALUE_FIELDS = sorted(CONTESTED_VALUES)
LEGACY = sorted({(old, new) for s in _TABLE["schemas"] for old, new in s["legacy"]})
NAMES = sorted(FIELDS)
VALUES = {k: sorted(v) for k, v in VALUES.items()}

ALIASES = ["i386", "I486", "i586", "x86_32", "x86_32p", "AMD64", "xapi", "XAPI", "pv", "hv", "baremetal",
           "lsilogicsas", "LsiLogicSAS", "paravirtual", "virtuale1000", "VirtualE1000e", "virtualpcnet32",
           "virtualsriovethernetcard", "virtualvmxnet", "virtualvmxnet3", "Windows", "LINUX", "usb", "tablet",
           "\u212avm", "K\u0130M", "x86-64", "ide", "IDE"]
SPACES = [" ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u3000", "\u200b"]
BOOLS = ["1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no", "TRUE", "Yes", "On", "T", "Y",
         "2", "", "yes please", "truee", "\u0131", "tru\u0435"]
INTS = ["0", "512", "-5", "+5", " 12 ", "1_000", "1__0", "_1", "1_", "\u0663", "\uff15\uff11\uff12", "1.5", "0x10",
        "1e3", "", " ", "abc", "00012", "-0", "9" * 19, "9" * 20, "1" * 4300, "1" * 4301, "\x1c5", "5\x1f", "\u20075"]
VERSIONS = [">=2.6", ">= 2.6, <3", "==1.0a1", "<1.0.post1", ">v1.0", "!=1!2.0+local.7", "=1", "2.6", "", ",",
            ">=2.6,", "> 1.0 ", "<=1..0", ">=1.0-1", ">=1.0.dev", ">=1.0rc", ">=1.0a.", ">=V1", "\u3000>=1",
            ">=1.0+", ">=1.0+abc.", ">= 1 0", ">=1.0preview2", ">=1.0-dev3", ">=1.0_post_4", ">=1.0.r5", ">=1.0ALPHA",
            "<==1", "<=", ">=1.0+AbC-1_2", ">=\u0661.0", ">=1.0c1.post2.dev3", ">=" + "1" * 4301, ">=1." + "2" * 4300,
            "==1.0+" + "3" * 4301, ">=1.0a" + "4" * 4301, ">=1.0\x1c", "\x1c>=1.0", ">=1.0\u200b", ">=1.0\u212a",
            ">=1.0.pos\u017ft", ">=1!", ">=!1", ">=1.0+a..b", ">=1.0-", ">=1.0.", ">=v", ">=1.0rc.1", ">=1.0-1.dev"]
CPU_SPECS = ["0-3", "0-3,^2", "^1", "1-", "-1", "3-1", " 0 - 2 ", "0,,1", "\u0661-\u0663", "0-7,^0-3", "^0-3,0-7",
             "1,1,1", "", ",", "^", "^-1", "2-2", "0-1000,^5-995", "9" * 30, "^" + "9" * 30, "9" * 30 + ",^" + "9" * 30,
             "0-3,^" + "9" * 25, "x", "1-x", "+1-+3", "1_0-1_2", "0-3^2", " ^ 2 ", "0-65535,^1-65535", "4294967295-4294967296",
             "18446744073709551614-18446744073709551615", "\x1c3\x1c", "\u20073", "1.5", "1-2-3"]
JSON_ODDS = [None, True, False, 0, 1, -1, 1.0, 0.5, 10 ** 20, [], {}, ["virtio"], {"a": "b"}]
# Numbers Python's json.dumps cannot write as Python reads them (gen.Raw).
RAW_ODDS = ["1E400", "-1E400", "-0.0", "1.0e2"]


class TypedGen:
    """Mixed into the parity generator: self.r is its random.Random."""

    def odd(self):
        from gen import Raw
        if self.r.random() < 0.25:
            return Raw(self.r.choice(RAW_ODDS))
        return self.r.choice(JSON_ODDS)

    def typed_value(self, name):
        kind = FIELDS.get(name)
        r = self.r
        c = r.random()
        if c < 0.05:
            return self.odd()
        if c < 0.08:
            return self.text()
        if kind == "enum":
            if name in CONTESTED_VALUES and r.random() < 0.3:
                value = r.choice(CONTESTED_VALUES[name])
            else:
                value = r.choice(VALUES[name] + ALIASES if r.random() < 0.2 else VALUES[name])
            d = r.random()
            if d < 0.06:
                value = value.upper()
            elif d < 0.1:
                value = r.choice(SPACES) + value
            elif d < 0.13:
                value = value[: r.randint(0, len(value))]
            return value
        if kind == "flexible_boolean":
            value = r.choice(BOOLS)
            if r.random() < 0.25:
                value = r.choice(SPACES) + value + r.choice(SPACES)
            return value if r.random() < 0.9 else r.choice([True, False, 1, 0, 1.0, "1.0"])
        if kind in ("integer", "non_negative_integer"):
            if r.random() < 0.5:
                return str(r.choice([0, 1, 2, 8, 64, 512, 4096]))
            return r.choice(INTS) if r.random() < 0.8 else r.choice([0, 5, -3, 2.9, -2.9, True, 10 ** 25])
        if kind == "version_predicate":
            return r.choice(VERSIONS) if r.random() < 0.7 else r.choice([">=2.6", ">=1.0,<2.0", "==6.2.0"])
        if kind in ("list_of_dict_of_string_nullable",):
            return [r.choice([{"device_name": "vda", "boot_index": r.choice([None, 0, "0", 1.5])}, {}, None, "x",
                              {"k": [1]}, 3]) for _ in range(r.randint(0, 3))] if r.random() < 0.7 \
                else json.dumps([{"virtual": "root", "device": "vda"}])
        if kind in ("list_of_string", "list_of_integer", "list_of_set_of_integer"):
            return r.choice([[], ["a"], [1, "2"], [None], "a,b", ["x", 3.5], [[1]]])
        # string, uuid
        return r.choice(["linux", "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "not-a-uuid", "", "\u00e9\U0001f600", "x" * 300,
                         1, 2.5, True])

    def typed_properties(self):
        r = self.r
        props = {}
        for _ in range(r.choice([0, 1, 1, 2, 2, 3, 4, 6, 10])):
            c = r.random()
            if c < 0.15:
                name = r.choice(CONTESTED_VALUE_FIELDS)
            elif c < 0.3:
                name = r.choice(CONTESTED_FIELDS)
            else:
                name = r.choice(NAMES)
            c = r.random()
            if c < 0.08:
                name = r.choice([name.upper(), " " + name, name + " ", name.replace("_", "-")])
            elif c < 0.25:
                old, new = r.choice(LEGACY)
                props[old] = self.typed_value(new)
                continue
            props[name] = self.typed_value(name)
        if r.random() < 0.15:
            props["vmware_adaptertype"] = r.choice(["ide", "IDE", "lsiLogic", "lsilogicsas", "paravirtual", "busLogic",
                                                    "", 0, 1, "bogus", None, "virtio-scsi"])
        for _ in range(r.choice([0, 0, 1, 3])):
            props["trait:" + r.choice(["HW_CPU_X86_AVX", "CUSTOM_X", "", "t\u00e9"])] = r.choice(
                ["required", "Required", "forbidden", True, None, " required"])
        for prefix, values in (("hw_numa_cpus.", CPU_SPECS), ("hw_numa_mem.", INTS)):
            if r.random() < 0.2:
                n = r.choice([1, 2, 3, 127, 128, 129, 130]) if r.random() < 0.9 else 1
                cells = range(n)
                for cell in cells:
                    if r.random() < 0.03 and cell:
                        continue  # a gap: Nova stops at the first missing cell
                    if n > 3:
                        props[prefix + str(cell)] = "0" if prefix.startswith("hw_numa_mem") else str(cell)
                    else:
                        props[prefix + str(cell)] = r.choice(values) if r.random() < 0.85 else self.odd()
            elif r.random() < 0.03:
                props[prefix.rstrip(".")] = r.choice(values)  # the field's own name is not read
        if r.random() < 0.05:
            props["traits_required"] = ["X"]
        if r.random() < 0.08:
            # More properties than the release has fields: the crate reads
            # them field by field then (its other path, one lookup per
            # property, serves smaller images).
            for i in range(90):
                props.setdefault("p_%d" % i, i)
        return props

    def typed_request(self, op):
        props = self.typed_properties()
        if op == "image_meta_props":
            return {"op": op, "properties": props}
        sm = {}
        for key, value in props.items():
            # System metadata holds strings (and NULLs); an int is read as its string.
            if isinstance(value, (list, dict, float, bool)) or type(value).__name__ == "Raw":
                value = json.dumps(value) if type(value).__name__ != "Raw" else value.text
            sm["image_" + key if self.r.random() < 0.93 else key] = value
        for key in ("min_ram", "min_disk", "disk_format", "container_format"):
            if self.r.random() < 0.5:
                sm["image_" + key] = self.r.choice(INTS[:8] + ["qcow2", "bare", None]) if key.startswith("min") \
                    else self.r.choice(["qcow2", "raw", "bare", "", None, 5])
        if self.r.random() < 0.3:
            sm["owner_user_name"] = "alice"
        return {"op": op, "system_metadata": {k[:255]: (v[:255] if isinstance(v, str) else v) for k, v in sm.items()}}
