"""The real Keystone and Glance of scripts/openstack, driven by the database
tool's tests through their own APIs (openstacksdk's sessions, Glance's v2
REST calls): projects and users, images with the properties Nova's
snapshots carry, reads of what the tool wrote, and changes made behind
its back.

Run with the Python of the OpenStack venv. Admin credentials come from
the OS_* variables; a JSON request on standard input, a JSON answer on
standard output.

    python glance_seed.py setup < {"projects": ["p1", "p2"]}
    python glance_seed.py create < {"as": "p1", "images": [{...}]}
    python glance_seed.py show < {"ids": [...]}
    python glance_seed.py set < {"image": ID, "properties": {...}, "remove": [...]}
    python glance_seed.py application_credential < {"name": NAME}
    python glance_seed.py endpoint < {"region": NAME, "url": URL}
    python glance_seed.py revoked_token < {}
"""

import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import openstack  # noqa: E402


def admin():
    return openstack.connect(
        auth_url=os.environ["OS_AUTH_URL"],
        username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"],
        project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name="Default",
        project_domain_name="Default",
        region_name=os.environ.get("OS_REGION_NAME", "RegionOne"),
    )


def as_project(project):
    return openstack.connect(
        auth_url=os.environ["OS_AUTH_URL"],
        username="user-" + project,
        password="pw-" + project,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
        region_name=os.environ.get("OS_REGION_NAME", "RegionOne"),
    )


def setup(request):
    conn = admin()
    member = conn.identity.find_role("member")
    out = {}
    for name in request["projects"]:
        project = conn.identity.find_project(name) or conn.identity.create_project(name=name, domain_id="default")
        user = conn.identity.find_user("user-" + name) or conn.identity.create_user(
            name="user-" + name, password="pw-" + name, default_project_id=project.id, domain_id="default"
        )
        conn.identity.assign_project_role_to_user(project, user, member)
        out[name] = project.id
    return {"projects": out}


def create(request):
    conn = admin() if request.get("as") in (None, "admin") else as_project(request["as"])
    made = []
    for spec in request["images"]:
        body = {"disk_format": "qcow2", "container_format": "bare"}
        body.update(spec)
        r = conn.image.post("/images", json=body)
        if r.status_code != 201:
            raise SystemExit("create %s: %s %s" % (spec.get("name"), r.status_code, r.text))
        made.append(r.json()["id"])
    return {"ids": made}


def show(request):
    conn = admin()
    out = {}
    for image in request["ids"]:
        r = conn.image.get("/images/" + image)
        out[image] = r.json() if r.status_code == 200 else {"status": r.status_code}
    return {"images": out}


def set_properties(request):
    conn = admin()
    patch = [{"op": "add", "path": "/" + k, "value": v} for k, v in request.get("properties", {}).items()]
    patch += [{"op": "remove", "path": "/" + k} for k in request.get("remove", [])]
    r = conn.image.patch(
        "/images/" + request["image"],
        data=json.dumps(patch),
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
    )
    if r.status_code != 200:
        raise SystemExit("patch: %s %s" % (r.status_code, r.text))
    return {"image": r.json()}


def application_credential(request):
    """An application credential of the admin (Keystone's own API)."""
    conn = admin()
    user = conn.identity.find_user("admin")
    cred = conn.identity.create_application_credential(user, name=request["name"])
    return {"id": cred.id, "secret": cred.secret}


def endpoint(request):
    """A region whose image endpoint is `url` (Keystone's own API)."""
    conn = admin()
    if not conn.identity.find_region(request["region"]):
        conn.identity.create_region(id=request["region"])
    service = next(s for s in conn.identity.services() if s.type == "image")
    for interface in ("public", "internal", "admin"):
        conn.identity.create_endpoint(
            service_id=service.id, interface=interface, url=request["url"], region_id=request["region"]
        )
    return {"region": request["region"]}


def revoked_token(request):
    """A token of the admin that Keystone issued and then revoked (what an
    expired one is to Keystone: no longer valid)."""
    conn = admin()
    token = conn.session.get_token()
    other = admin()
    r = other.session.delete(
        other.session.get_endpoint(service_type="identity", interface="public") + "/auth/tokens",
        headers={"X-Subject-Token": token},
        raise_exc=False,
    )
    if r.status_code != 204:
        raise SystemExit("revoke: %s %s" % (r.status_code, r.text))
    return {"token": token}


def main():
    commands = {
        "setup": setup,
        "create": create,
        "show": show,
        "set": set_properties,
        "application_credential": application_credential,
        "endpoint": endpoint,
        "revoked_token": revoked_token,
    }
    answer = commands[sys.argv[1]](json.load(sys.stdin))
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
