"""Nova's own objects layer, driven by the database tool's tests.

Run with the Python of the Nova venv (scripts/nova-venv). Every command
reads a nova.conf (`--config-file`, whose [database] and [api_database]
connections name the test's databases), a JSON request on standard input,
and prints a JSON answer on standard output. Nova's code does every write
and every read: `objects.Instance.create()`, `save()`, `destroy()`,
`get_by_uuid(..., expected_attrs=['system_metadata'])`, and
`compute_utils.initialize_instance_snapshot_metadata` for what a snapshot
would carry. Nothing here writes SQL of its own, but `soft_delete_rows`,
which plays an old release (before Nova hard-deleted system metadata) with
Nova's own model method `soft_delete`.

    python nova_objects.py --config-file F seed < instances.json
    python nova_objects.py --config-file F save < save.json
    python nova_objects.py --config-file F destroy < uuid.json
    python nova_objects.py --config-file F read < uuids.json
    python nova_objects.py --config-file F writer < plan.json
    python nova_objects.py --config-file F spec_images < uuids.json
"""

import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
warnings.filterwarnings("ignore")

import nova.conf  # noqa: E402
from nova import config as nova_config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova.compute import utils as compute_utils  # noqa: E402
from nova.db.main import api as main_api  # noqa: E402
from nova.db.main import models  # noqa: E402
from oslo_utils import timeutils  # noqa: E402

CONF = nova.conf.CONF


def setup(config_file):
    objects.register_all()
    nova_config.parse_args(["nova_objects", "--config-file", config_file], init_rpc=False)
    return nova_context.get_admin_context()


def new_instance(ctxt, spec):
    inst = objects.Instance(context=ctxt)
    inst.uuid = spec["uuid"]
    inst.project_id = spec.get("project_id", "p")
    inst.user_id = spec.get("user_id", "u")
    inst.image_ref = spec.get("image_ref")
    inst.vm_state = spec.get("vm_state", "active")
    inst.task_state = spec.get("task_state")
    inst.display_name = spec.get("display_name", "vm")
    inst.system_metadata = spec.get("system_metadata", {})
    inst.create()
    return inst


def seed(ctxt, request):
    """Creates each instance, then plays its history with Nova's objects:
    `rebuild_lossy` (the pre-fix rebuild: every image_* key replaced, no
    base image ref put back), `save` (keys set), `soft_delete_rows` (rows
    an old release soft-deleted, with the values they held), `destroy`,
    `action` (an instance action started at a given time), `archive`
    (destroyed, then archived to the shadow tables)."""
    done = []
    for spec in request["instances"]:
        inst = new_instance(ctxt, spec)
        for step in spec.get("history", []):
            kind = step["op"]
            if kind == "rebuild_lossy":
                sm = {k: v for k, v in inst.system_metadata.items() if not k.startswith("image_")}
                sm.update({"image_" + k: v for k, v in step["image_properties"].items()})
                inst.image_ref = step["image_ref"]
                inst.system_metadata = sm
                inst.save()
            elif kind == "save":
                sm = dict(inst.system_metadata)
                for k, v in step["set"].items():
                    if v is None and step.get("remove_null"):
                        sm.pop(k, None)
                    else:
                        sm[k] = v
                inst.system_metadata = sm
                for field in ("vm_state", "task_state", "image_ref"):
                    if field in step:
                        setattr(inst, field, step[field])
                inst.save()
            elif kind == "soft_delete_rows":
                soft_delete_rows(ctxt, inst.uuid, step["rows"])
            elif kind == "destroy":
                inst.destroy()
            elif kind == "action":
                # The row Nova's API writes for an action; its start_time
                # is the request context's timestamp.
                when = timeutils.parse_isotime(step["at"]).replace(tzinfo=None)
                saved, ctxt.timestamp = ctxt.timestamp, when
                try:
                    objects.InstanceAction.action_start(ctxt, inst.uuid, step["action"], want_result=False)
                finally:
                    ctxt.timestamp = saved
            elif kind == "map":
                # What the API does at boot: the instance mapped to its
                # cell, and its request spec (with the instance's image)
                # saved in the API database.
                map_instance(ctxt, inst)
            elif kind == "archive":
                # What `nova-manage db archive_deleted_rows` does: the
                # destroyed instance and its actions move to shadow tables.
                inst.destroy()
                main_api.archive_deleted_rows(context=ctxt, max_rows=1000)
            else:
                raise SystemExit("unknown history step %r" % kind)
        done.append(inst.uuid)
    return {"seeded": done}


def map_instance(ctxt, inst):
    # CellMapping reads [DEFAULT] transport_url, an option oslo.messaging
    # registers when RPC starts (these objects run without RPC).
    import oslo_messaging.opts
    for group, opts in oslo_messaging.opts.list_opts():
        CONF.register_opts(opts, group=None if group == "DEFAULT" else group)
    cells = objects.CellMappingList.get_all(ctxt)
    cell = next((c for c in cells if c.name == "cell1"), None)
    if cell is None:
        cell = objects.CellMapping(ctxt, uuid="11111111-2222-4333-8444-%012d" % 1, name="cell1",
                                   database_connection=CONF.database.connection, transport_url="none:///")
        cell.create()
    objects.InstanceMapping(ctxt, instance_uuid=inst.uuid, cell_mapping=cell, project_id=inst.project_id).create()
    spec = objects.RequestSpec(ctxt, instance_uuid=inst.uuid, project_id=inst.project_id, user_id=inst.user_id,
                               image=inst.image_meta, num_instances=1)
    spec.create()


def spec_images(ctxt, request):
    """Each instance's image as Nova's RequestSpec.get_by_instance_uuid
    reads it back from the API database (its primitive's data)."""
    out = {}
    for uuid in request["uuids"]:
        try:
            spec = objects.RequestSpec.get_by_instance_uuid(ctxt, uuid)
        except Exception as e:  # noqa: BLE001 - reported to the test as it is
            out[uuid] = {"error": type(e).__name__}
            continue
        image = spec.image.obj_to_primitive()["nova_object.data"]
        image["properties"] = spec.image.properties.obj_to_primitive()["nova_object.data"]
        out[uuid] = image
    return out


@main_api.pick_context_manager_writer
def soft_delete_rows(context, instance_uuid, rows):
    """Rows as an old release left them: added, then soft-deleted with
    the model's own `soft_delete` (deleted = id, deleted_at = now)."""
    for key, value in rows.items():
        row = models.InstanceSystemMetadata()
        row.update({"key": key, "value": value, "instance_uuid": instance_uuid})
        context.session.add(row)
        context.session.flush()
        row.soft_delete(context.session)


def save(ctxt, request):
    """One `Instance.save()`: keys set (a null value removes the key with
    `remove`), and `vm_state`, `task_state`, `image_ref` when given."""
    inst = objects.Instance.get_by_uuid(ctxt, request["uuid"], expected_attrs=["system_metadata"])
    sm = dict(inst.system_metadata)
    sm.update(request.get("set", {}))
    for key in request.get("remove", []):
        sm.pop(key, None)
    inst.system_metadata = sm
    for field in ("vm_state", "task_state", "image_ref"):
        if field in request:
            setattr(inst, field, request[field])
    inst.save()
    return {"saved": inst.uuid}


def destroy(ctxt, request):
    """`Instance.destroy()`: Nova's soft delete of the instance."""
    inst = objects.Instance.get_by_uuid(ctxt, request["uuid"])
    inst.destroy()
    return {"destroyed": inst.uuid}


def read(ctxt, request):
    """Every instance as Nova reads it: its system metadata and the
    properties Nova's snapshot code gives its next snapshot."""
    out = {}
    for uuid in request["uuids"]:
        try:
            inst = objects.Instance.get_by_uuid(ctxt, uuid, expected_attrs=["system_metadata"])
        except Exception as e:  # noqa: BLE001 - reported to the test as it is
            out[uuid] = {"error": type(e).__name__}
            continue
        props = compute_utils.initialize_instance_snapshot_metadata(ctxt, inst, "snap")
        out[uuid] = {
            "system_metadata": dict(inst.system_metadata),
            "snapshot_properties": props.get("properties", {}),
            "vm_state": inst.vm_state,
            "task_state": inst.task_state,
            "image_ref": inst.image_ref,
            "updated_at": inst.updated_at.isoformat() if inst.updated_at else None,
        }
    return out


def writer(ctxt, request):
    """A running Nova: for `seconds`, alternately creates an instance and
    saves a system-metadata key of an existing one (each its own
    transaction, as the API's), timing each call."""
    deadline = time.monotonic() + request["seconds"]
    prefix = request["uuid_prefix"]
    targets = request.get("save_uuids", [])
    creates, saves = [], []
    n = 0
    while time.monotonic() < deadline and n < request.get("max_calls", 100000):
        start = time.monotonic()
        new_instance(ctxt, {"uuid": "%s-%012x" % (prefix, n), "system_metadata": {"image_os_type": "linux"}})
        creates.append(time.monotonic() - start)
        if targets:
            inst = objects.Instance.get_by_uuid(ctxt, targets[n % len(targets)], expected_attrs=["system_metadata"])
            sm = dict(inst.system_metadata)
            sm["nova_writer_counter"] = str(n)
            inst.system_metadata = sm
            start = time.monotonic()
            inst.save()
            saves.append(time.monotonic() - start)
        n += 1
    return {"creates": creates, "saves": saves}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config-file", required=True)
    parser.add_argument("command", choices=["seed", "save", "destroy", "read", "writer", "spec_images"])
    args = parser.parse_args()
    ctxt = setup(args.config_file)
    request = json.load(sys.stdin)
    commands = {"seed": seed, "save": save, "destroy": destroy, "read": read, "writer": writer,
                "spec_images": spec_images}
    answer = commands[args.command](ctxt, request)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
