"""What one Nova release's ImageMetaProps and ImageMeta are made of.

Run with a release importable (as parity/run sets PYTHONPATH): prints one
JSON object describing that release's typed view of image properties, read
from its own objects at run time:

- every field of ImageMetaProps in definition order, with its kind (the
  oslo field type, or the Nova enum and the values it accepts), nullable;
- the legacy names `_legacy_property_map` maps, in order, and NUMA_NODES_MAX;
- the fields of ImageMeta the system metadata can reach;
- `code`: for each function on the path (from_dict and its helpers,
  parse_cpu_spec, every enum's coerce and canonicalize), a digest of its
  syntax tree without docstrings. The crate models a known set of these
  digests; tools/check compares them, so a release whose code differs from
  every modelled variant is found, not guessed.
"""
import ast
import hashlib
import importlib.metadata
import inspect
import json
import os
import sys
import textwrap

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import old_releases  # noqa: E402

old_releases.install()

from nova import objects  # noqa: E402
from nova.objects import fields as nova_fields  # noqa: E402
from nova.objects import image_meta  # noqa: E402
from oslo_versionedobjects import fields as ovo  # noqa: E402

objects.register_all()


def digest(fn):
    """A short digest of a function's syntax tree, docstrings left out."""
    source = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:12]


def kind(field_type):
    """The kind name of an oslo field type (element types spelled inside)."""
    if isinstance(field_type, ovo.Enum):
        return "enum"
    for cls, name in ((ovo.VersionPredicate, "version_predicate"), (ovo.UUID, "uuid"),
                      (ovo.String, "string"), (ovo.NonNegativeInteger, "non_negative_integer"),
                      (ovo.Integer, "integer"), (ovo.FlexibleBoolean, "flexible_boolean")):
        if type(field_type) is cls:
            return name
    if isinstance(field_type, (ovo.List, ovo.Set, ovo.Dict)):
        element = field_type._element_type
        suffix = "" if not element.nullable else "_nullable"
        return "%s_of_%s%s" % (type(field_type).__name__.lower(), kind(element._type), suffix)
    raise SystemExit("image_props_schema: unknown field type %r" % (field_type,))


def enum_code(cls):
    """Digests of the coerce/canonicalize an enum class uses (own or inherited from Nova)."""
    code = {}
    for name in ("coerce", "canonicalize", "is_valid"):
        for klass in cls.__mro__:
            if name in klass.__dict__ and klass.__module__.startswith("nova"):
                code[name] = "%s.%s:%s" % (klass.__name__, name, digest(getattr(cls, name)))
                break
    return code


def describe(field):
    out = {"kind": kind(field._type)}
    if field.nullable:
        out["nullable"] = True
    if field.default is not ovo.UnspecifiedDefault:
        out["default"] = repr(field.default)
    if out["kind"] == "enum":
        cls = type(field._type)
        out["enum"] = cls.__name__
        valid = field._type._valid_values
        if isinstance(valid, str):
            # `ALL = (X)` without a comma: a string, which `in` tests for substrings.
            out["values"] = []
            out["values_text"] = valid
        else:
            out["values"] = list(valid)
        out["code"] = enum_code(cls)
        for extra in ("LEGACY_VALUES",):
            if extra in cls.__dict__:
                out[extra.lower()] = dict(cls.__dict__[extra])
    return out


props = image_meta.ImageMetaProps
code = {}
for name in ("from_dict", "_set_attr_from_legacy_names", "_set_attr_from_current_names",
             "_set_numa_mem", "_set_numa_cpus", "_set_attr_from_trait_names"):
    if hasattr(props, name):
        code["ImageMetaProps." + name] = digest(getattr(props, name))
code["ImageMeta.from_dict"] = digest(image_meta.ImageMeta.from_dict)
from nova.virt import hardware  # noqa: E402
code["hardware.parse_cpu_spec"] = digest(hardware.parse_cpu_spec)

schema = {
    "release": importlib.metadata.version("nova"),
    "image_meta_props_version": props.VERSION,
    "image_meta_version": image_meta.ImageMeta.VERSION,
    "numa_nodes_max": getattr(props, "NUMA_NODES_MAX", None),
    "fields": [[name, describe(field)] for name, field in props.fields.items()],
    "legacy": list(getattr(props, "_legacy_property_map", {}).items()),
    "image_meta_fields": [[name, describe(field)] for name, field in image_meta.ImageMeta.fields.items()
                          if name in ("min_ram", "min_disk", "disk_format", "container_format")],
    "nullable_string_fields": list(getattr(image_meta, "NULLABLE_STRING_FIELDS", [])),
    "nullable_integer_fields": list(getattr(image_meta, "NULLABLE_INTEGER_FIELDS", [])),
    "code": code,
}
json.dump(schema, sys.stdout, sort_keys=False)
sys.stdout.write("\n")
