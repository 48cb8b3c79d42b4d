//! `nova-sysmeta-db images audit` against Nova itself: instances and their
//! rebuild actions written by Nova 34.0.0's objects layer
//! (`Instance.create()`, `InstanceAction.action_start` at given times),
//! one of them destroyed and archived to the shadow tables by Nova's own
//! `archive_deleted_rows`, on Nova's schema from its own migrations; the
//! Glance listing as Glance's v2 API writes it.

mod common;

use common::{code, json_lines, nova_db, text, tmp, uuid};
use serde_json::{Value, json};

fn glance(id: &str, created_at: &str, props: Value) -> Value {
    let mut body = json!({
        "id": id, "name": id, "status": "active", "visibility": "private",
        "owner": "p1", "created_at": created_at, "updated_at": created_at,
        "disk_format": "qcow2", "container_format": "bare", "min_ram": 0, "min_disk": 0,
        "tags": [], "protected": false, "self": format!("/v2/images/{id}"), "schema": "/v2/schemas/image",
    });
    for (k, v) in props.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn snapshot_of(instance: &str, id: &str, created_at: &str, extra: Value) -> Value {
    let mut props =
        json!({"image_type": "snapshot", "instance_uuid": instance, "os_distro": "debian", "user_id": "u"});
    for (k, v) in extra.as_object().unwrap() {
        props[k] = v.clone();
    }
    glance(id, created_at, props)
}

#[test]
fn images_audit_plans_from_novas_own_rows() {
    let Some(db) = nova_db("images_audit") else {
        return;
    };
    let (vm1, vm2, vm3, vm4, vm5) = (uuid(1), uuid(2), uuid(3), uuid(4), uuid(5));
    let rebuild = |at: &str| json!({"op": "action", "action": "rebuild", "at": at});
    db.nova(
        "seed",
        &json!({"instances": [
            // Rebuilt in February, snapshotted in March: certain.
            {"uuid": vm1, "image_ref": "img-debian", "history": [rebuild("2026-02-01T00:00:00Z"),
                {"op": "action", "action": "stop", "at": "2026-04-01T00:00:00Z"}]},
            // Rebuilt again in April: undecidable.
            {"uuid": vm2, "image_ref": "img-fedora", "history": [rebuild("2026-02-01T00:00:00Z"), rebuild("2026-04-01T00:00:00Z")]},
            // Rebuilt, then deleted and archived: read from the shadow tables.
            {"uuid": vm3, "image_ref": "img-arch", "history": [rebuild("2026-02-01T00:00:00Z"), {"op": "archive"}]},
            // Booted from the damaged snap-1.
            {"uuid": vm4, "image_ref": "snap-1"},
            // Never rebuilt: its snapshot lacks the property for another reason.
            {"uuid": vm5, "image_ref": "img-debian"},
        ]}),
    );
    let listing = [
        json!({"images": [
            glance("img-debian", "2025-01-01T00:00:00Z", json!({"os_distro": "debian"})),
            glance("img-fedora", "2025-01-01T00:00:00Z", json!({"os_distro": "fedora"})),
            glance("img-arch", "2025-01-01T00:00:00Z", json!({})),
            snapshot_of(&vm1, "snap-1", "2026-03-01T00:00:00Z", json!({})),
            snapshot_of(&vm2, "snap-2", "2026-03-01T00:00:00Z", json!({})),
        ], "first": "/v2/images", "next": "/v2/images?marker=snap-2"}),
        json!({"images": [
            snapshot_of(&vm3, "snap-3", "2026-03-01T00:00:00Z", json!({})),
            snapshot_of(&vm4, "snap-4", "2026-05-01T00:00:00Z", json!({"base_image_ref": "snap-1"})),
            snapshot_of(&vm5, "snap-5", "2026-05-01T00:00:00Z", json!({})),
            snapshot_of(&vm1, "snap-6", "2026-05-01T00:00:00Z", json!({"base_image_ref": "img-debian"})),
        ]}),
    ];
    let file = tmp("images.jsonl");
    std::fs::write(
        &file,
        listing.iter().map(|p| format!("{p}\n")).collect::<String>(),
    )
    .unwrap();
    let file = file.display().to_string();

    let out = db.tool(&["images", "audit", "--images", &file, "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let lines = json_lines(&out);
    let image = |id: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "image" && l["image_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(image("snap-1")["action"], "set", "{lines:?}");
    assert_eq!(image("snap-1")["base_image_ref"], "img-debian");
    assert_eq!(image("snap-1")["reason"], "rebuilt_before_only");
    assert_eq!(image("snap-2")["action"], "undecidable");
    assert_eq!(image("snap-2")["reason"], "rebuilt_since");
    // The candidates: images whose properties all appear in snap-2.
    assert_eq!(image("snap-2")["candidates"], json!(["img-debian", "img-arch"]));
    assert_eq!(
        image("snap-3")["base_image_ref"],
        "img-arch",
        "archived instances are read"
    );
    assert_eq!(image("snap-4")["action"], "propagated");
    assert_eq!(image("snap-4")["names"], "snap-1");
    assert_eq!(image("snap-4")["origin"], "img-debian");
    assert_eq!(image("snap-5")["action"], "keep");
    assert_eq!(image("snap-5")["reason"], "never_rebuilt_before");
    assert_eq!(image("snap-6")["reason"], "has_base_image_ref");
    assert_eq!(image("img-debian")["reason"], "not_a_snapshot");
    let booted: Vec<&Value> = lines.iter().filter(|l| l["type"] == "instance").collect();
    assert_eq!(booted.len(), 1, "{lines:?}");
    assert_eq!(booted[0]["instance_uuid"], vm4);
    let run = lines.last().unwrap();
    assert_eq!(run["type"], "run");
    assert_eq!(
        (
            run["images"].as_u64(),
            run["to_repair"].as_u64(),
            run["undecidable"].as_u64()
        ),
        (Some(9), Some(2), Some(1))
    );

    // The operator names snap-2's base.
    let out = db.tool(&[
        "images",
        "audit",
        "--images",
        &file,
        "--json",
        "--set",
        "snap-2=img-fedora-40",
    ]);
    let lines = json_lines(&out);
    let snap2 = lines.iter().find(|l| l["image_id"] == "snap-2").unwrap();
    assert_eq!(
        (snap2["base_image_ref"].as_str(), snap2["reason"].as_str()),
        (Some("img-fedora-40"), Some("named_by_operator"))
    );
    // Never onto an image that has a base: refused, as bad input.
    let out = db.tool(&["images", "audit", "--images", &file, "--set", "snap-6=x"]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("never overwritten"), "{}", text(&out));

    // Another project's images: nothing to repair.
    let out = db.tool(&["images", "audit", "--images", &file, "--project", "p2"]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    // Only vm1's snapshots.
    let out = db.tool(&["images", "audit", "--images", &file, "--json", "--instance", &vm1]);
    let ids: Vec<&str> = json_lines(&out)
        .iter()
        .filter(|l| l["type"] == "image")
        .map(|l| l["image_id"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(ids, ["snap-1", "snap-6"]);

    // A listing that is not Glance's: a clear error naming the line.
    let bad = tmp("bad-images.jsonl");
    std::fs::write(&bad, "{\"images\": [{\"id\": \"x\"}]}\n").unwrap();
    let out = db.tool(&["images", "audit", "--images", &bad.display().to_string()]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        text(&out).contains("line 1") && text(&out).contains("created_at"),
        "{}",
        text(&out)
    );
}
