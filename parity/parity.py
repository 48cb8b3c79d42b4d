"""Parity suite: one Nova release's own functions against the crate's nova_meta.

The release is the Nova importable here (34.0.0 in .venv-nova, or an older
one installed over it; see parity/run). Every request carries it as
`release`, so the crate computes that release's behaviour.

For each generated request, the expected answer comes from Nova's real code
(nova.utils, nova.compute.utils, nova.compute.api; rebuild's inner
_reset_image_metadata taken from API.rebuild itself and run), with
values stringified as Nova's database stores them. The crate's answer comes
from one run of nova_meta over all requests. Any difference is reported
with the request that caused it, and the run fails.

A *departure* is the one documented place where the crate refuses what Nova
would hand to the database: a system-metadata key or value longer than the
255-character columns (or an empty key). Nova's result then breaks the
column; the crate must answer with the matching error. Departures are
counted, not failed.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import types

import gen as generator

import copy
import datetime
import importlib.metadata
import inspect

import old_releases

# No eventlet monkey patching (Nova's own switch): the functions called are
# pure, and Stein's patching asks oslo.service for a hub it no longer has.
os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
DATABASE_STUBBED = old_releases.install()

from nova import block_device, objects, utils  # noqa: E402
from nova.compute import manager as compute_manager  # noqa: E402
from nova.image import glance  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402
from nova.compute import api as compute_api  # noqa: E402
from nova.compute import utils as compute_utils  # noqa: E402
import nova.conf  # noqa: E402

CONF = nova.conf.CONF
objects.register_all()
RELEASE = importlib.metadata.version("nova")


# Where each function lives in this release (the code moved, the
# behaviour did not): Nova's own function, called as that release calls it.

def _api(**attributes):
    api = compute_api.API.__new__(compute_api.API)
    api.__dict__.update(attributes)
    return api


def initialize_snapshot_metadata(ctx, instance, name, extra):
    if hasattr(compute_utils, "initialize_instance_snapshot_metadata"):
        return compute_utils.initialize_instance_snapshot_metadata(ctx, instance, name, extra)
    method = compute_api.API._initialize_instance_snapshot_metadata
    if "context" in inspect.signature(method).parameters:  # from 18.x
        return method(_api(), ctx, instance, name, extra)
    return method(_api(), instance, name, extra)


def create_image(ctx, instance, name, image_type, extra_properties=None):
    """What create_image (or API._create_image) sends to Glance."""
    image_api = RecordingImageApi()
    if hasattr(compute_utils, "create_image"):
        compute_utils.create_image(ctx, instance, name, image_type, image_api, extra_properties=extra_properties)
    else:
        _api(image_api=image_api)._create_image(ctx, instance, name, image_type, extra_properties=extra_properties)
    return image_api.created


def image_metadata_from_volume(volume):
    if hasattr(block_device, "get_image_metadata_from_volume"):
        return block_device.get_image_metadata_from_volume(volume)
    return utils.get_image_metadata_from_volume(volume)


def reset_image_metadata(system_metadata, image, image_id, flavor):
    """API.rebuild's inner _reset_image_metadata, taken from the release's
    own API.rebuild and run with the closure it would have."""
    rebuild = inspect.unwrap(compute_api.API.rebuild)
    code = next(c for c in rebuild.__code__.co_consts
                if isinstance(c, types.CodeType) and c.co_name == "_reset_image_metadata")
    instance = types.SimpleNamespace(system_metadata=system_metadata, save=lambda: None)
    cells = {"instance": instance, "image": image, "image_id": image_id, "flavor": flavor}
    closure = tuple(types.CellType(cells[name]) for name in code.co_freevars)
    orig_sys_metadata = types.FunctionType(code, rebuild.__globals__, closure=closure)()
    return instance.system_metadata, orig_sys_metadata


def resize_healing(system_metadata, image_ref):
    """The statements of the release's own API.resize that write
    image_base_image_ref (23.0.0 on; none before), taken from its source and
    run on an instance with this map and image_ref."""
    import ast
    import textwrap
    resize = inspect.unwrap(compute_api.API.resize)
    tree = ast.parse(textwrap.dedent(inspect.getsource(resize)))
    statements = [node for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and "image_base_image_ref" in ast.unparse(node)]
    instance = types.SimpleNamespace(system_metadata=dict(system_metadata), image_ref=image_ref)
    for statement in statements:
        code = compile(ast.Module(body=[statement], type_ignores=[]), "<API.resize>", "exec")
        exec(code, dict(resize.__globals__, instance=instance))  # noqa: S102 - Nova's own statement
    return instance.system_metadata


class RecordingImageApi:
    """The image API as the compute API's methods use it: create records
    what Nova sends to Glance and answers with an id."""

    def __init__(self):
        self.created = None

    def create(self, context, image_meta):
        self.created = copy.deepcopy(image_meta)
        return dict(image_meta, id="new-image")


class Ignored:
    """RPC and bookkeeping the API methods call after the metadata work."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def run_api_method(name, req, ctx, *args):
    """The release's own API.<name> (its policy and state decorators
    unwrapped), on an instance with the request's system metadata, with
    whether it is volume-backed answered by the request (Nova asks the
    database). Returns the instance and what was sent to Glance."""
    method = inspect.unwrap(getattr(compute_api.API, name))
    api = _api(image_api=RecordingImageApi(), compute_rpcapi=Ignored(),
               _record_action_start=lambda *a, **k: None)
    inst = req["instance"]
    instance = snapshot_instance(req, image_ref=inst.get("image_ref"), display_name=inst.get("display_name"),
                                 task_state=None, flavor=types.SimpleNamespace(extra_specs={}),
                                 save=lambda *a, **k: None)
    volume_backed = bool(req.get("volume_backed"))
    real = compute_utils.is_volume_backed_instance
    compute_utils.is_volume_backed_instance = lambda *a, **k: volume_backed
    try:
        with_config(req, lambda: method(api, ctx, instance, *args))
    finally:
        compute_utils.is_volume_backed_instance = real
    return instance, api.image_api.created

CORE_OPS = [
    "system_metadata_from_image", "image_from_system_metadata", "populate_for_create",
    "reset_image_metadata", "initialize_snapshot_metadata", "create_image",
]
LIFECYCLE_OPS = [
    "backup", "rotate_backups", "shelve", "record_shelved", "remove_shelved_keys", "ensure_base_image_ref",
    "snapshot_volume_backed", "finalize_snapshot_upload", "to_glance", "from_glance", "from_rows",
    "image_from_volume",
]
TYPED_OPS = ["image_meta_props", "image_meta_from_system_metadata"]
ALL_OPS = CORE_OPS + LIFECYCLE_OPS + TYPED_OPS
IMAGE_OPS = {"initialize_snapshot_metadata", "create_image", "image_from_system_metadata", "backup",
             "snapshot_volume_backed", "finalize_snapshot_upload", "to_glance", "from_glance",
             "image_from_volume"}
DEPARTURE_KINDS = {"key_too_long", "value_too_long", "empty_key"}


SYSTEM_METADATA_FIELD = objects.fields.DictOfNullableStringsField()


def coerced(sm):
    """A map as the instance's system_metadata field holds it: strings or
    None, numbers and booleans as their str(); a list or dict raises."""
    return SYSTEM_METADATA_FIELD.coerce(None, "system_metadata", sm)


def stored(sm):
    """Values as the database stores them: what utils returns raw (an
    inheritable attribute of any type) as its str(); None stays NULL."""
    return {k: (v if v is None or isinstance(v, str) else str(v)) for k, v in sm.items()}


def flavor_object(flavor):
    return None if flavor is None else objects.Flavor(root_gb=flavor["root_gb"])


def ns(d, *fields):
    return types.SimpleNamespace(**{f: d.get(f) for f in fields})


def with_config(req, fn):
    configured = req.get("non_inheritable_image_properties")
    if configured is not None:
        CONF.set_override("non_inheritable_image_properties", configured)
    try:
        return fn()
    finally:
        CONF.clear_override("non_inheritable_image_properties")


class FakeGlance:
    """Glance's side of _rotate_backups: property filters, newest first
    (created_at descending, ties by id descending), deletions recorded."""

    def __init__(self, images):
        self.images = images
        self.deleted = []

    def get_all(self, context, filters, sort_key, sort_dir):
        assert sort_key == "created_at" and sort_dir == "desc"
        wanted = {k[len("property-"):]: v for k, v in filters.items()}
        hits = [i for i in self.images if all(i["properties"].get(k) == v for k, v in wanted.items())]
        return sorted(hits, key=lambda i: (datetime.datetime.fromisoformat(i["created_at"]), i["id"]),
                      reverse=True)

    def delete(self, context, image_id):
        self.deleted.append(image_id)


# The base properties of the image schema the Glance server publishes
# (glance/api/v2/images.py, get_base_properties): Nova reads the schema
# from the server it talks to, not the one bundled with glanceclient.
GLANCE_SERVER_BASE_PROPERTIES = [
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "container_format", "disk_format", "created_at",
    "updated_at", "tags", "direct_url", "self", "file", "schema", "locations", "min_ram", "min_disk", "stores",
]


class GlanceImage(dict):
    """A glanceclient v2 image: a dict with the schema it was read with."""
    schema = {"name": "image", "properties": {name: {} for name in GLANCE_SERVER_BASE_PROPERTIES}}


def snapshot_instance(req, **attributes):
    """The request's instance as the snapshot code reads it: its uuid,
    project and system metadata (a copy), plus `attributes`."""
    inst = req["instance"]
    return types.SimpleNamespace(uuid=inst["uuid"], project_id=inst["project_id"],
                                 system_metadata=dict(req["system_metadata"]), **attributes)


def lifecycle_answer(req):
    op = req["op"]
    ctx = ns(req.get("context") or {}, "user_id", "project_id")
    if op == "backup":
        # API.backup itself (the API layer always gives it a dict).
        _, image = run_api_method("backup", req, ctx, req["name"], req["backup_type"], 1,
                                  dict(req.get("extra_properties") or {}))
        return image
    if op == "rotate_backups":
        fake = types.SimpleNamespace(image_api=FakeGlance(req["images"]))
        instance = types.SimpleNamespace(uuid=req["instance_uuid"])
        compute_manager.ComputeManager._rotate_backups(fake, None, instance, req["backup_type"], req["rotation"])
        return {"delete": fake.image_api.deleted}
    if op == "shelve":
        # API.shelve itself: the base image ref re-asserted (from 21.2.1),
        # then the -shelved snapshot unless volume-backed.
        instance, image = run_api_method("shelve", req, ctx)
        return {"system_metadata": instance.system_metadata, "image": image}
    if op == "record_shelved":
        # ComputeManager._shelve_instance, with the time and host given.
        system_metadata = dict(req["system_metadata"])
        system_metadata["shelved_at"] = req["shelved_at"]
        system_metadata["shelved_image_id"] = req["image_id"]
        system_metadata["shelved_host"] = req["host"]
        return system_metadata
    if op == "remove_shelved_keys":
        instance = types.SimpleNamespace(system_metadata=dict(req["system_metadata"]))
        compute_utils.remove_shelved_keys_from_system_metadata(instance)
        return instance.system_metadata
    if op == "ensure_base_image_ref":
        return resize_healing(req["system_metadata"], req["image_ref"])
    if op == "snapshot_volume_backed":
        # API.snapshot_volume_backed up to the BDM loop, with the image
        # mappings that loop would build given in the request.
        instance = snapshot_instance(req)
        instance.root_device_name = req["instance"].get("root_device_name")
        extra = req.get("extra_properties")
        image_meta = with_config(req, lambda: initialize_snapshot_metadata(
            ctx, instance, req["name"], None if extra is None else dict(extra)))
        image_meta["size"] = 0
        for attr in ("container_format", "disk_format"):
            image_meta.pop(attr, None)
        properties = image_meta["properties"]
        for key in ("block_device_mapping", "bdm_v2", "root_device_name"):
            properties.pop(key, None)
        if instance.root_device_name:
            properties["root_device_name"] = instance.root_device_name
        mapping = req.get("image_mappings") or []
        if mapping:
            properties["block_device_mapping"] = mapping
            properties["bdm_v2"] = True
        return image_meta
    if op == "finalize_snapshot_upload":
        inst = req["instance"]
        instance = types.SimpleNamespace(kernel_id=inst.get("kernel_id"), ramdisk_id=inst.get("ramdisk_id"),
                                         os_type=inst.get("os_type"), project_id=inst["project_id"])
        # The driver reads the instance's image_meta: the formats of the
        # image it was built from.
        source = utils.get_image_from_system_metadata(req["system_metadata"])
        formats = {k: source[k] for k in ("container_format",) if source.get(k) is not None}
        if "disk_format" in source:
            formats["disk_format"] = source["disk_format"]
        image_meta = objects.ImageMeta.from_dict(formats)
        created = copy.deepcopy(req["image"])
        metadata = libvirt_driver.LibvirtDriver._create_snapshot_metadata(
            None, image_meta, instance, req["disk_format"], created["name"])
        sent = glance._convert_to_v2(copy.deepcopy(metadata))
        # Glance merges what was sent (purge_props=False): properties into
        # properties, the rest as attributes; the upload makes it active.
        for key, value in sent.items():
            if key in metadata["properties"]:
                created["properties"][key] = value
            else:
                created[key] = value
        return created
    if op == "to_glance":
        return glance._translate_to_glance(req["image"])
    if op == "from_glance":
        # _translate_from_glance without its timestamp parsing (the op
        # leaves timestamps as strings).
        image_meta = glance._extract_attributes_v2(GlanceImage(req["image"]))
        return glance._convert_from_string(image_meta)
    if op == "from_rows":
        # What the instance's field makes of the dict when it is stored.
        return coerced(utils.metadata_to_dict(req["rows"], include_deleted=bool(req.get("include_deleted"))))
    if op == "image_from_volume":
        return image_metadata_from_volume(req["volume"])
    raise ValueError(op)


def object_data(obj):
    """obj_to_primitive()'s data, each set of integers as an ascending list."""
    data = obj.obj_to_primitive()["nova_object.data"]
    if "hw_numa_cpus" in data:
        data["hw_numa_cpus"] = [sorted(cpus) for cpus in data["hw_numa_cpus"]]
    return data


def typed_answer(req):
    """The release's own ImageMetaProps.from_dict, or ImageMeta.from_dict of
    get_image_from_system_metadata (what ImageMeta.from_instance builds)."""
    if req["op"] == "image_meta_props":
        return object_data(objects.ImageMetaProps.from_dict(copy.deepcopy(req["properties"])))
    meta = objects.ImageMeta.from_dict(utils.get_image_from_system_metadata(req["system_metadata"]))
    data = meta.obj_to_primitive()["nova_object.data"]
    data["properties"] = object_data(meta.properties)
    return data


def nova_answer(req):
    op = req["op"]
    if isinstance(req.get("system_metadata"), dict):
        # Nova's system metadata is the instance's field: requests give it
        # as that field coerces it (an integer value is its string).
        req = dict(req, system_metadata=coerced(req["system_metadata"]))
    if op in LIFECYCLE_OPS:
        return lifecycle_answer(req)
    if op in TYPED_OPS:
        return typed_answer(req)
    if op == "system_metadata_from_image":
        return stored(utils.get_system_metadata_from_image(req["image"], req.get("flavor")))
    if op == "image_from_system_metadata":
        return utils.get_image_from_system_metadata(req["system_metadata"])
    if op == "populate_for_create" and req.get("flavor") is None:
        # Nova always creates with a flavor (an Instance refuses None), so
        # the flavor-less case composes _populate_instance_for_create's
        # system-metadata steps from nova.utils.
        system_meta = utils.get_system_metadata_from_image(req["image"], None)
        system_meta.setdefault("image_base_image_ref", req["image_ref"])
        system_meta["owner_user_name"] = req["context"]["user_name"]
        system_meta["owner_project_name"] = req["context"]["project_name"]
        out = dict(req.get("system_metadata") or {})
        out.update(system_meta)
        return coerced(out)
    if op == "populate_for_create":
        api = compute_api.API.__new__(compute_api.API)
        # display_name: releases up to 18.x name the instance here too.
        instance = objects.Instance(uuid=generator.Gen(0).uuid(), image_ref=req["image_ref"], display_name="vm",
                                    system_metadata=dict(req.get("system_metadata") or {}))
        ctx = ns(req["context"], "user_name", "project_name")
        populate = api._populate_instance_for_create
        extra = {"shutdown_terminate": False} if "shutdown_terminate" in inspect.signature(populate).parameters \
            else {}
        populate(ctx, instance, req["image"], 0, None, flavor_object(req.get("flavor")), 1, **extra)
        return dict(instance.system_metadata)
    if op == "reset_image_metadata":
        system_metadata, orig_sys_metadata = reset_image_metadata(
            dict(req["system_metadata"]), req["image"], req["image_id"], req.get("flavor"))
        return {"system_metadata": stored(system_metadata),
                "orig_system_metadata": stored(orig_sys_metadata)}
    instance = snapshot_instance(req)
    ctx = ns(req["context"], "user_id", "project_id")
    extra = req.get("extra_properties")
    extra = None if extra is None else dict(extra)
    if op == "initialize_snapshot_metadata":
        return with_config(req, lambda: initialize_snapshot_metadata(ctx, instance, req["name"], extra))
    if op == "create_image":
        return with_config(req, lambda: create_image(ctx, instance, req["name"], req["image_type"], extra))
    raise ValueError(op)


def canonical(value):
    """Text that equals iff the values are equal with types and order."""
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def same(op, expected, actual):
    if op == "shelve":
        return isinstance(actual, dict) and set(actual) == {"system_metadata", "image"} \
            and canonical(expected["system_metadata"]) == canonical(actual["system_metadata"]) \
            and (expected["image"] is None) == (actual["image"] is None) \
            and (expected["image"] is None or same("create_image", expected["image"], actual["image"]))
    if op in IMAGE_OPS:
        # Top-level attribute order carries no meaning; property order does.
        if not isinstance(actual, dict) or set(expected) != set(actual):
            return False
        return all(canonical(expected[k]) == canonical(actual[k]) for k in expected)
    if op == "reset_image_metadata":
        return isinstance(actual, dict) and all(
            canonical(expected[k]) == canonical(actual.get(k)) for k in expected) and set(actual) == set(expected)
    return canonical(expected) == canonical(actual)


def breaks_columns(answer):
    """Whether a system-metadata answer breaks the 255-character columns."""
    maps = [answer.get("system_metadata", answer)] if isinstance(answer, dict) else []
    for sm in maps:
        for k, v in sm.items():
            if k == "" or len(k) > 255 or (isinstance(v, str) and len(v) > 255):
                return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", required=True, help="path to the nova_meta binary")
    ap.add_argument("--show", type=int, default=10, help="mismatches printed in full")
    ap.add_argument("--ops", help="comma-separated ops to generate (default: all)")
    ap.add_argument("--release", help="the Nova release expected on the path (default: whichever it is)")
    ap.add_argument("--claim", help="tell nova_meta this release instead, and pass only if the answers differ: "
                                    "proves the generated cases reach the change between the two")
    args = ap.parse_args()
    claim = args.claim or RELEASE
    if args.release is not None and args.release != RELEASE:
        print(f"parity: Nova {RELEASE} is installed, not {args.release}", file=sys.stderr)
        return 2
    if DATABASE_STUBBED:
        print(f"parity: Nova {RELEASE}'s database layer does not import on this Python; "
              "a stand-in replaces it (no modelled flow uses it)", file=sys.stderr)

    g = generator.LifecycleGen(args.seed)
    ops = ALL_OPS if args.ops is None else args.ops.split(",")
    lines = []
    for i in range(args.cases):
        # Half the lines escape non-ASCII, half send it raw: both must parse.
        req = g.request(ops[i % len(ops)])
        req["release"] = claim
        lines.append(generator.dumps(req, ensure_ascii=(i % 2 == 0)))
    # The oracle reads each line as Nova's API would: with Python's json.
    requests = [json.loads(line) for line in lines]
    proc = subprocess.run([args.bin], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, encoding="utf-8", check=False)
    if proc.returncode != 0:
        print(f"parity: nova_meta exited {proc.returncode}: {proc.stderr}", file=sys.stderr)
        return 2
    outputs = proc.stdout.split("\n")[:-1]  # not splitlines(): U+2028 is no line end here
    if len(outputs) != len(requests):
        print(f"parity: {len(requests)} requests but {len(outputs)} answers", file=sys.stderr)
        return 2

    per_op = collections.Counter()
    errors_agreed = collections.Counter()
    error_pairs = collections.Counter()
    departures = collections.Counter()
    mismatches = []
    for req, line in zip(requests, outputs):
        op = req["op"]
        per_op[op] += 1
        try:
            ours = json.loads(line)
        except ValueError:
            ours = {"unparseable": line}
        if not isinstance(ours, dict) or not ({"ok", "error"} & set(ours)):
            mismatches.append((req, "an ok or error line", ours))
            continue
        try:
            expected = nova_answer(req)
            nova_error = None
        except Exception as e:  # Nova's own exception is the expected answer
            expected, nova_error = None, f"{type(e).__name__}: {e}"
        if nova_error is not None:
            if "error" in ours:
                errors_agreed[op] += 1
                error_pairs[(nova_error.split(":")[0], ours["error"]["kind"])] += 1
                continue
            mismatches.append((req, f"Nova raised {nova_error}", ours))
            continue
        if "error" in ours:
            if ours["error"]["kind"] in DEPARTURE_KINDS and breaks_columns(expected):
                departures[op] += 1
                continue
            mismatches.append((req, expected, ours))
            continue
        if not same(op, expected, ours["ok"]):
            mismatches.append((req, expected, ours))

    if mismatches:
        # Every mismatch, with its request, for replay: one JSON object a line.
        report = os.path.join(os.path.dirname(args.bin),
                              "parity-mismatches.jsonl" if claim == RELEASE else "parity-differences.jsonl")
        with open(report, "w") as f:
            for req, expected, ours in mismatches:
                f.write(json.dumps({"request": req, "nova": expected, "crate": ours}, default=str) + "\n")
        print(f"parity: all {len(mismatches)} mismatches written to {report}", file=sys.stderr)
    by_op = collections.Counter(req["op"] for req, _, _ in mismatches)
    if by_op:
        print("parity: mismatches by op: " + ", ".join(f"{k}={v}" for k, v in by_op.items()), file=sys.stderr)
    for req, expected, ours in mismatches[: args.show if claim == RELEASE else 0]:
        print("MISMATCH", file=sys.stderr)
        print("  request: " + json.dumps(req, ensure_ascii=False), file=sys.stderr)
        print("  nova:    " + (expected if isinstance(expected, str) else canonical(expected)), file=sys.stderr)
        print("  crate:   " + json.dumps(ours, ensure_ascii=False), file=sys.stderr)
    for op in ops:
        print(f"parity: {op}: {per_op[op]} cases, {errors_agreed[op]} errors agreed, "
              f"{departures[op]} departures")
    for (nova_exc, kind), n in sorted(error_pairs.items()):
        print(f"parity: both failed {n} times: Nova {nova_exc}, crate {kind}")
    failed = len(mismatches)
    if claim != RELEASE:
        print(f"parity (Nova {RELEASE} against a crate told {claim}, seed {args.seed}): {failed} of "
              f"{len(requests)} answers differ" + ("" if failed else ": the cases never reach the change, FAILED"))
        return 0 if failed else 1
    print(f"parity (Nova {RELEASE}, seed {args.seed}): {len(requests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
