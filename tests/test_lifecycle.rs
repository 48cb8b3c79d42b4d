//! Backup, rotation, shelve, resize healing, volume-backed snapshots, the
//! driver's upload, Glance interop, database rows and boot from volume.

mod common;

use common::{entries, image, rebuild, sm};
use nova_sysmeta::glance::{from_glance, to_glance};
use nova_sysmeta::{
    Error, ImageType, Instance, Properties, RequestContext, SystemMetadata, backup, convert, create, resize,
    rows, shelve, snapshot, upload,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn ctx() -> RequestContext {
    RequestContext::new("u-1", "p-1").with_names("alice", "demo")
}

fn instance() -> Instance {
    Instance::new(Uuid::from_u128(9), "p-1")
}

fn obj(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn backup_type_wins_over_the_callers_in_place() {
    let extra = serde_json::from_value::<Properties>(json!({"backup_type": "mine", "note": "x"})).unwrap();
    let img = backup::image_metadata(
        &snapshot::Request::new(&ctx(), &instance(), &SystemMetadata::new(), "b").extra_properties(&extra),
        "weekly",
    )
    .unwrap();
    assert_eq!(
        img.properties.keys().collect::<Vec<_>>(),
        ["instance_uuid", "user_id", "image_type", "backup_type", "note"]
    );
    assert_eq!(img.properties.get("backup_type").unwrap(), "weekly");
}

fn backup(id: &str, at: &str, kind: &str, uuid: &Uuid) -> backup::Image {
    serde_json::from_value(json!({
        "id": id, "created_at": at,
        "properties": {"image_type": "backup", "backup_type": kind, "instance_uuid": uuid.to_string()},
    }))
    .unwrap()
}

#[test]
fn rotation_deletes_the_oldest_backups_of_this_instance_and_type_only() {
    let me = Uuid::from_u128(1);
    let other = Uuid::from_u128(2);
    let images = [
        backup("d3", "2026-11-03T00:00:00Z", "daily", &me),
        backup("d1", "2026-11-01T00:00:00Z", "daily", &me),
        backup("d2", "2026-11-02T01:00:00+02:00", "daily", &me), // 2026-11-01T23:00Z
        backup("w1", "2026-01-01T00:00:00Z", "weekly", &me),
        backup("o1", "2020-01-01T00:00:00Z", "daily", &other),
    ];
    assert_eq!(backup::rotate(&me, "daily", 1, &images), ["d1", "d2"]);
    assert_eq!(backup::rotate(&me, "daily", 3, &images), Vec::<&str>::new());
    assert_eq!(backup::rotate(&me, "daily", 0, &images), ["d1", "d2", "d3"]);
}

#[test]
fn rotation_breaks_created_at_ties_by_id() {
    let me = Uuid::from_u128(1);
    let images = [
        backup("b", "2026-11-01T00:00:00Z", "daily", &me),
        backup("a", "2026-11-01T00:00:00Z", "daily", &me),
    ];
    assert_eq!(backup::rotate(&me, "daily", 1, &images), ["a"]);
}

#[test]
fn a_snapshot_is_never_rotated_as_a_backup() {
    let me = Uuid::from_u128(1);
    let mut snap = backup("s", "2020-01-01T00:00:00Z", "daily", &me);
    snap.properties.insert("image_type", json!("snapshot")).unwrap();
    assert!(backup::rotate(&me, "daily", 0, &[snap]).is_empty());
}

#[test]
fn unparseable_created_at_is_a_typed_error() {
    let err =
        serde_json::from_value::<backup::Image>(json!({"id": "x", "created_at": "yesterday"})).unwrap_err();
    assert!(
        err.to_string()
            .contains("not an ISO 8601 date-time: \"yesterday\""),
        "{err}"
    );
    // The error names the text, not a field: a timestamp is not always a
    // `created_at`.
    let err = "yesterday".parse::<backup::Timestamp>().unwrap_err();
    assert_eq!(
        err,
        nova_sysmeta::Error::InvalidTimestamp {
            text: "yesterday".into()
        }
    );
}

#[test]
fn shelve_heals_the_base_image_ref_and_names_the_snapshot() {
    let damaged = sm(&[("image_os_type", "linux"), ("owner_user_name", "alice")]);
    let inst = instance().with_image_ref("img-b").with_display_name("web");
    let out = shelve::start(&shelve::Request::new(&ctx(), &inst, &damaged).volume_backed(false)).unwrap();
    assert_eq!(out.system_metadata.get("image_base_image_ref"), Some("img-b"));
    let img = out.image.unwrap();
    assert_eq!(img.name(), Some("web-shelved"));
    assert_eq!(img.properties.get("base_image_ref").unwrap(), "img-b");
    assert_eq!(img.properties.get("image_type").unwrap(), "snapshot");
}

#[test]
fn shelving_a_volume_backed_instance_makes_no_image() {
    let inst = instance().with_image_ref("");
    let out = shelve::start(&shelve::Request::new(&ctx(), &inst, &SystemMetadata::new()).volume_backed(true))
        .unwrap();
    assert!(out.image.is_none());
    assert_eq!(out.system_metadata.get("image_base_image_ref"), Some(""));
}

#[test]
fn shelve_without_an_image_ref_is_a_typed_error() {
    let err = shelve::start(
        &shelve::Request::new(&ctx(), &instance(), &SystemMetadata::new()).volume_backed(false),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Missing {
                field: "instance.image_ref",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn shelved_keys_come_and_go() {
    let base = sm(&[("keep", "1")]);
    let shelved = shelve::record(
        &base,
        &shelve::Record::new("2026-11-25T15:08:12", "img-s", "compute-1"),
    )
    .unwrap();
    assert_eq!(
        entries(&shelved),
        [
            ("keep", "1"),
            ("shelved_at", "2026-11-25T15:08:12"),
            ("shelved_image_id", "img-s"),
            ("shelved_host", "compute-1")
        ]
    );
    assert_eq!(shelve::remove_keys(&shelved).unwrap(), base);
    assert!(shelve::record(&base, &shelve::Record::new("t", "img", &"h".repeat(256))).is_err());
}

#[test]
fn resize_overwrites_the_base_image_ref_in_place() {
    let before = sm(&[("image_base_image_ref", "old"), ("x", "1")]);
    let out = resize::ensure_base_image_ref(&resize::Request::new(&before, "new")).unwrap();
    assert_eq!(entries(&out), [("image_base_image_ref", "new"), ("x", "1")]);
}

#[test]
fn volume_backed_snapshot_cleans_then_refills_its_mapping_properties() {
    let meta = sm(&[
        ("image_root_device_name", "/dev/old"),
        ("image_bdm_v2", "True"),
        ("image_container_format", "bare"),
        ("image_os_type", "linux"),
    ]);
    let img = snapshot::volume_backed(&snapshot::Request::new(&ctx(), &instance(), &meta, "s"), &[]).unwrap();
    // No root device name on the instance and no mappings: nothing refilled.
    assert_eq!(
        serde_json::to_value(&img.properties).unwrap(),
        json!({"os_type": "linux"})
    );
    assert_eq!(img.container_format, None);
    assert_eq!(img.other["size"], 0);
}

#[test]
fn finished_snapshot_shows_the_four_properties_of_the_mission_table() {
    let a = image(json!({"id": "img-a", "container_format": "ovf", "properties": {"os_type": "windows"}}));
    let b = image(json!({"id": "img-b", "container_format": "bare", "properties": {"os_type": "linux"}}));
    let sm = create::populate(&create::Request::new(&a, "img-a", &ctx())).unwrap();
    let sm = rebuild(&sm, &b, "img-b", None).unwrap();
    let created = snapshot::create_image(
        &snapshot::Request::new(&ctx(), &instance(), &sm, "snap"),
        ImageType::Snapshot,
    )
    .unwrap();
    let mut inst = instance();
    inst.os_type = Some("linux".into());
    let done = upload::finalize(&upload::Request::new(&created, &sm, &inst, "qcow2")).unwrap();
    for (key, want) in [
        ("image_type", json!("snapshot")),
        ("instance_uuid", json!(inst.uuid.to_string())),
        ("base_image_ref", json!("img-b")),
        ("image_location", json!("snapshot")),
    ] {
        assert_eq!(
            done.properties.get(key).map(|v| v.to_value()),
            Some(want.into()),
            "{key}"
        );
    }
    assert_eq!(done.other["status"], "active");
    assert_eq!(done.disk_format.as_ref().and_then(|v| v.as_str()), Some("qcow2"));
    assert_eq!(
        done.container_format.as_ref().and_then(|v| v.as_str()),
        Some("bare"),
        "B's container format"
    );
    assert_eq!(
        done.properties.get("kernel_id").unwrap(),
        Value::Null,
        "an absent kernel is sent as null"
    );
}

#[test]
fn glance_round_trip_keeps_properties_and_visibility() {
    let body = obj(json!({
        "id": "i", "name": "n", "status": "active", "visibility": "public", "min_ram": 128,
        "created_at": "2026-11-25T15:08:12Z", "os_distro": "debian",
        "block_device_mapping": "[{\"boot_index\": 0}]", "self": "/v2/images/i", "tags": ["t"],
    }));
    let nova = from_glance(&serde_json::from_value(Value::Object(body)).unwrap()).unwrap();
    assert_eq!(nova.other["is_public"], true);
    assert_eq!(
        nova.properties.get("block_device_mapping").unwrap(),
        json!([{"boot_index": 0}])
    );
    assert!(!nova.other.contains_key("self") && !nova.other.contains_key("tags"));
    let back = to_glance(&nova).unwrap();
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        json!({
            "id": "i", "name": "n", "min_ram": 128, "checksum": null, "visibility": "public",
            "os_distro": "debian", "block_device_mapping": "[{\"boot_index\": 0}]",
            // Nova's dict has them as None when Glance has none; sent on as null.
            "disk_format": null, "container_format": null,
        })
    );
}

#[test]
fn to_glance_refuses_what_python_int_refuses() {
    let img = image(json!({"min_disk": "ten"}));
    assert_eq!(to_glance(&img).unwrap_err().kind(), "not_an_integer");
    let img = image(json!({"min_disk": " 1_0 "}));
    assert_eq!(to_glance(&img).unwrap()["min_disk"], 10);
}

#[test]
fn rows_respect_soft_deletion_and_order() {
    let rows: Vec<rows::Row> = serde_json::from_value(json!([
        {"key": "a", "value": "1", "deleted": 0},
        {"key": "b", "value": "old", "deleted": 17},
        {"key": "a", "value": "2", "deleted": false},
        {"key": "b", "value": "gone", "deleted": true},
    ]))
    .unwrap();
    assert_eq!(entries(&rows::to_system_metadata(&rows, false)), [("a", "2")]);
    assert_eq!(
        entries(&rows::to_system_metadata(&rows, true)),
        [("a", "2"), ("b", "gone")]
    );
    let sm = sm(&[("x", "1")]);
    assert_eq!(
        rows::to_system_metadata(&rows::from_system_metadata(&sm), false),
        sm
    );
}

#[test]
fn a_null_value_row_is_a_null_entry() {
    let rows: Vec<rows::Row> = serde_json::from_value(json!([
        {"key": "k", "value": null, "deleted": 0},
        {"key": "gone", "value": null, "deleted": 1},
    ]))
    .unwrap();
    let sm = rows::to_system_metadata(&rows, false);
    assert_eq!(sm.iter().collect::<Vec<_>>(), [("k", None)]);
    assert_eq!(
        rows::to_system_metadata(&rows::from_system_metadata(&sm), false),
        sm
    );
    assert_eq!(rows::to_system_metadata(&rows, true).len(), 2);
}

#[test]
fn boot_from_volume_image_feeds_create() {
    let volume: convert::Volume = serde_json::from_value(json!({
        "size": 20,
        "volume_image_metadata": {"image_id": "img-v", "min_disk": "10", "container_format": "bare",
                                  "hw_disk_bus": "scsi"},
    }))
    .unwrap();
    let img = convert::image_from_volume(&volume).unwrap();
    assert_eq!(img.other["status"], "active");
    let sm = create::populate(&create::Request::new(&img, "", &ctx())).unwrap();
    assert_eq!(
        entries(&sm),
        [
            ("image_hw_disk_bus", "scsi"),
            ("image_min_ram", "0"),
            ("image_min_disk", "10"),
            ("image_base_image_ref", ""),
            ("owner_user_name", "alice"),
            ("owner_project_name", "demo"),
        ]
    );
    let bad: convert::Volume =
        serde_json::from_value(json!({"volume_image_metadata": {"min_ram": "lots"}})).unwrap();
    assert_eq!(
        convert::image_from_volume(&bad).unwrap_err().kind(),
        "not_an_integer"
    );
}
