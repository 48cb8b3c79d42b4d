//! Create, rebuild and snapshot, one behaviour per test.

mod common;

use common::{entries, image, rebuild, sm};
use nova_sysmeta::{
    Error, Flavor, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata, create,
    snapshot,
};
use serde_json::json;
use uuid::Uuid;

fn ctx() -> RequestContext {
    RequestContext::new("u-1", "p-1").with_names("alice", "demo")
}

fn instance() -> Instance {
    Instance::new(Uuid::from_u128(0x1234), "p-1")
}

fn props(v: serde_json::Value) -> Properties {
    match v {
        m @ serde_json::Value::Object(_) => serde_json::from_value(m).unwrap(),
        _ => unreachable!(),
    }
}

/// A snapshot by the instance's owner, with Nova's default configuration.
fn own_snapshot(meta: &SystemMetadata, extra: &Properties) -> nova_sysmeta::ImageMeta {
    snapshot::initialize_metadata(
        &snapshot::Request::new(&ctx(), &instance(), meta, "s").extra_properties(extra),
    )
    .unwrap()
}

// ---- create ---------------------------------------------------------------

#[test]
fn create_records_the_image_ref_and_the_owner_names() {
    let img = image(json!({"properties": {"os_type": "linux"}}));
    let out = create::populate(&create::Request::new(&img, "img-1", &ctx())).unwrap();
    assert_eq!(
        entries(&out),
        [
            ("image_os_type", "linux"),
            ("image_base_image_ref", "img-1"),
            ("owner_user_name", "alice"),
            ("owner_project_name", "demo"),
        ]
    );
}

#[test]
fn create_from_a_snapshot_keeps_the_recorded_base_image_ref() {
    let img = image(json!({"properties": {"base_image_ref": "origin"}}));
    let out = create::populate(&create::Request::new(&img, "snapshot-id", &ctx())).unwrap();
    assert_eq!(out.get("image_base_image_ref"), Some("origin"));
}

#[test]
fn create_updates_existing_metadata_in_place() {
    let existing = sm(&[("owner_user_name", "old"), ("keep", "me")]);
    let out =
        create::populate(&create::Request::new(&image(json!({})), "i", &ctx()).existing(&existing)).unwrap();
    assert_eq!(
        entries(&out),
        [
            ("owner_user_name", "alice"),
            ("keep", "me"),
            ("image_base_image_ref", "i"),
            ("owner_project_name", "demo"),
        ]
    );
}

#[test]
fn create_stores_null_names_for_a_context_without_them() {
    // Service and admin contexts often have no user or project name; Nova
    // stores None (a NULL row).
    let sm = create::populate(&create::Request::new(
        &image(json!({})),
        "i",
        &RequestContext::new("u", "p"),
    ))
    .unwrap();
    assert_eq!(sm.get_nullable("owner_user_name"), Some(None));
    assert_eq!(sm.get_nullable("owner_project_name"), Some(None));
    assert_eq!(sm.get("owner_user_name"), None);
}

#[test]
fn create_refuses_an_image_ref_longer_than_the_column() {
    let long = "r".repeat(256);
    let err = create::populate(&create::Request::new(&image(json!({})), &long, &ctx())).unwrap_err();
    assert!(matches!(err, Error::ValueTooLong { ref key, chars: 256 } if key == "image_base_image_ref"));
}

// ---- rebuild --------------------------------------------------------------

#[test]
fn rebuild_drops_every_image_key_and_keeps_the_others_in_order() {
    let before = sm(&[
        ("image_os_type", "windows"),
        ("owner_user_name", "alice"),
        ("image_min_disk", "40"),
        ("password_0", "x"),
    ]);
    let out = rebuild(
        &before,
        &image(json!({"properties": {"os_distro": "debian"}})),
        "b",
        None,
    )
    .unwrap();
    assert_eq!(
        entries(&out),
        [
            ("owner_user_name", "alice"),
            ("password_0", "x"),
            ("image_os_distro", "debian"),
            ("image_base_image_ref", "b"),
        ]
    );
}

#[test]
fn rebuild_records_the_rebuild_image_even_when_it_is_a_snapshot() {
    // The create/rebuild asymmetry: create would keep "origin".
    let img = image(json!({"properties": {"base_image_ref": "origin"}}));
    let out = rebuild(&SystemMetadata::new(), &img, "snap", None).unwrap();
    assert_eq!(out.get("image_base_image_ref"), Some("snap"));
}

#[test]
fn rebuild_applies_the_flavor_to_min_disk() {
    let img = image(json!({"min_disk": 1, "disk_format": "raw"}));
    let out = rebuild(&SystemMetadata::new(), &img, "b", Some(&Flavor::new(10))).unwrap();
    assert_eq!(out.get("image_min_disk"), Some("10"));
}

#[test]
fn rebuild_errors_leave_nothing_half_done() {
    let before = sm(&[("image_os_type", "windows")]);
    let err = rebuild(
        &before,
        &image(json!({"min_disk": "x"})),
        "b",
        Some(&Flavor::new(1)),
    );
    assert_eq!(err.unwrap_err().kind(), "not_an_integer");
    assert_eq!(before.get("image_os_type"), Some("windows"));
}

// ---- snapshot -------------------------------------------------------------

#[test]
fn snapshot_of_own_instance_is_private_and_named() {
    let img = snapshot::initialize_metadata(&snapshot::Request::new(
        &ctx(),
        &instance(),
        &sm(&[("image_os_type", "linux")]),
        "my-snap",
    ))
    .unwrap();
    assert_eq!(img.visibility(), Some("private"));
    assert_eq!(img.name(), Some("my-snap"));
    assert!(!img.properties.contains_key("instance_owner"));
}

#[test]
fn cross_project_snapshot_is_shared_with_the_owner() {
    let admin = RequestContext::new("admin", "p-admin");
    let img = snapshot::initialize_metadata(
        &snapshot::Request::new(&admin, &instance(), &SystemMetadata::new(), "s")
            .extra_properties(&props(json!({"instance_owner": "spoofed"}))),
    )
    .unwrap();
    assert_eq!(img.visibility(), Some("shared"));
    assert_eq!(img.properties.get("instance_owner").unwrap(), "p-1");
}

#[test]
fn snapshot_drops_non_inheritable_properties() {
    let meta = sm(&[
        ("image_cache_in_nova", "True"),
        ("image_bittorrent", "x"),
        ("image_img_signature", "sig"),
        ("image_cinder_encryption_key_id", "k"),
        ("image_os_glance_importing_to_stores", "s"),
        ("image_os_glancefoo", "s"),
        ("image_custom", "c"),
        ("image_os_type", "linux"),
    ]);
    let config = NovaConfig::default().with_non_inheritable_image_properties(["custom"]);
    let img = snapshot::initialize_metadata(
        &snapshot::Request::new(&ctx(), &instance(), &meta, "s").config(&config),
    )
    .unwrap();
    // The configured list replaces Nova's default one: cache_in_nova and
    // bittorrent stay; the built-in names and os_glance* always go.
    assert_eq!(
        serde_json::to_value(&img.properties).unwrap(),
        json!({"cache_in_nova": "True", "bittorrent": "x", "os_type": "linux"})
    );
    let img = own_snapshot(&meta, &Properties::new());
    assert!(!img.properties.contains_key("cache_in_nova") && !img.properties.contains_key("bittorrent"));
    assert!(img.properties.contains_key("custom"));
}

#[test]
fn extra_properties_win_even_over_non_inheritable_names() {
    let meta = sm(&[("image_os_type", "linux"), ("image_cache_in_nova", "True")]);
    let extra = props(json!({"os_type": "windows", "cache_in_nova": false, "new": [1]}));
    let img = own_snapshot(&meta, &extra);
    assert_eq!(
        serde_json::to_string(&img.properties).unwrap(),
        r#"{"os_type":"windows","cache_in_nova":false,"new":[1]}"#
    );
}

#[test]
fn unprefixed_system_metadata_reaches_snapshot_properties() {
    let meta = sm(&[
        ("owner_user_name", "alice"),
        ("password_0", "secret"),
        ("boot_roles", "admin"),
    ]);
    let img = own_snapshot(&meta, &Properties::new());
    assert_eq!(img.properties.get("password_0").unwrap(), "secret");
    assert_eq!(img.properties.get("boot_roles").unwrap(), "admin");
}

#[test]
fn create_image_adds_the_identity_properties_and_drops_formats_for_snapshots() {
    let meta = sm(&[
        ("image_disk_format", "qcow2"),
        ("image_container_format", "bare"),
        ("image_min_ram", "1"),
    ]);
    let snap = snapshot::create_image(
        &snapshot::Request::new(&ctx(), &instance(), &meta, "s"),
        ImageType::Snapshot,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&snap).unwrap(),
        json!({
            "name": "s", "min_ram": "1", "visibility": "private",
            "properties": {
                "instance_uuid": "00000000-0000-0000-0000-000000001234",
                "user_id": "u-1", "image_type": "snapshot",
            },
        })
    );
    let backup = snapshot::create_image(
        &snapshot::Request::new(&ctx(), &instance(), &meta, "b")
            .extra_properties(&props(json!({"backup_type": "daily"}))),
        ImageType::Backup,
    )
    .unwrap();
    assert_eq!(
        backup.disk_format.as_ref().and_then(|v| v.as_str()),
        Some("qcow2")
    );
    assert_eq!(
        backup.container_format.as_ref().and_then(|v| v.as_str()),
        Some("bare")
    );
    assert_eq!(backup.properties.get("image_type").unwrap(), "backup");
    assert_eq!(backup.properties.get("backup_type").unwrap(), "daily");
}

#[test]
fn create_image_writes_none_for_a_missing_user_id_as_python_str_does() {
    let mut ctx = RequestContext::default();
    ctx.project_id = Some("p-1".into());
    let img = snapshot::create_image(
        &snapshot::Request::new(&ctx, &instance(), &SystemMetadata::new(), "s"),
        ImageType::Snapshot,
    )
    .unwrap();
    assert_eq!(img.properties.get("user_id").unwrap(), "None");
}

#[test]
fn extra_properties_override_the_identity_properties() {
    let img = snapshot::create_image(
        &snapshot::Request::new(&ctx(), &instance(), &SystemMetadata::new(), "s")
            .extra_properties(&props(json!({"image_type": "custom"}))),
        ImageType::Snapshot,
    )
    .unwrap();
    assert_eq!(img.properties.get("image_type").unwrap(), "custom");
}
