//! Beyond Nova: rebuild policies, hardened snapshots, audit, repair and
//! lineage. One test per finding and per repair.

mod common;

use common::{entries, image, rebuild_with, sm};
use nova_sysmeta::audit::{FindingKind, InstanceFacts, Severity};
use nova_sysmeta::lineage::{ImageRecord, LineageProblemKind};
use nova_sysmeta::{
    Instance, NovaConfig, Properties, RequestContext, SystemMetadata, audit, lineage, profile, rebuild,
    snapshot,
};
use serde_json::json;
use uuid::Uuid;

fn facts(image_ref: Option<&str>, vm_state: Option<&str>) -> InstanceFacts {
    let mut facts = InstanceFacts::new();
    facts.image_ref = image_ref.map(str::to_owned);
    facts.vm_state = vm_state.map(str::to_owned);
    facts
}

fn kinds(sm: &SystemMetadata, facts: &InstanceFacts) -> Vec<(FindingKind, Option<String>)> {
    audit::findings(sm, facts, &NovaConfig::default())
        .into_iter()
        .map(|f| (f.kind, f.key))
        .collect()
}

const HEALTHY: &[(&str, &str)] = &[("image_base_image_ref", "img"), ("image_os_type", "linux")];

// ---- policies -------------------------------------------------------------

#[test]
fn origin_policy_keeps_a_snapshots_recorded_origin_and_falls_back_to_the_id() {
    let snap = image(json!({"properties": {"base_image_ref": "debian"}}));
    let out = rebuild_with(
        &sm(&[]),
        &snap,
        "snap-1",
        None,
        rebuild::BaseImageRefPolicy::Origin,
    )
    .unwrap();
    assert_eq!(out.get("image_base_image_ref"), Some("debian"));
    let plain = image(json!({}));
    let out = rebuild_with(&sm(&[]), &plain, "img", None, rebuild::BaseImageRefPolicy::Origin).unwrap();
    assert_eq!(out.get("image_base_image_ref"), Some("img"));
}

#[test]
fn legacy_policy_reproduces_bug_1893618() {
    let before = sm(&[("image_base_image_ref", "a"), ("image_os_type", "windows")]);
    let out = rebuild_with(
        &before,
        &image(json!({})),
        "b",
        None,
        rebuild::BaseImageRefPolicy::Legacy,
    )
    .unwrap();
    assert!(out.is_empty());
    assert_eq!(
        kinds(&out, &facts(None, None))[0].0,
        FindingKind::MissingBaseImageRef
    );
}

// ---- hardened profile -----------------------------------------------------

#[test]
fn hardened_profile_withholds_unprefixed_keys_but_keeps_extra_and_allowed_ones() {
    let meta = sm(&[
        ("image_os_type", "linux"),
        ("password_0", "c2VjcmV0"),
        ("password_1", "more"),
        ("shelved_host", "compute-1"),
        ("owner_user_name", "alice"),
        ("boot_roles", "admin"),
        ("image_mappings", "x"),
        ("mappings", "y"),
    ]);
    let profile = profile::SnapshotProfile::Hardened {
        allow: vec!["owner_user_name".into()],
    };
    let view = profile.apply(&meta);
    assert_eq!(
        view.withheld,
        ["password_0", "password_1", "shelved_host", "boot_roles"]
    );
    let extra: Properties = serde_json::from_value(json!({"boot_roles": "asked-for"})).unwrap();
    let img = snapshot::initialize_metadata(
        &snapshot::Request::new(
            &RequestContext::new("u", "p"),
            &Instance::new(Uuid::nil(), "p"),
            &view.system_metadata,
            "s",
        )
        .extra_properties(&extra),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&img.properties).unwrap(),
        json!({"os_type": "linux", "owner_user_name": "alice", "boot_roles": "asked-for"})
    );
}

#[test]
fn nova_profile_withholds_nothing() {
    let meta = sm(&[("password_0", "x")]);
    let view = profile::SnapshotProfile::Nova.apply(&meta);
    assert_eq!(*view.system_metadata, meta);
    assert!(view.withheld.is_empty());
}

// ---- audit: one test per finding ------------------------------------------

#[test]
fn a_healthy_map_has_no_findings() {
    assert!(
        audit::findings(
            &sm(HEALTHY),
            &facts(Some("img"), Some("active")),
            &NovaConfig::default()
        )
        .is_empty()
    );
}

#[test]
fn finds_a_missing_base_image_ref() {
    let f = audit::findings(
        &sm(&[("image_os_type", "linux")]),
        &facts(Some("img-b"), None),
        &NovaConfig::default(),
    );
    assert_eq!(f[0].kind, FindingKind::MissingBaseImageRef);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("img-b"));
}

#[test]
fn finds_values_over_255_bytes_and_over_the_column() {
    let two_byte = "é".repeat(200); // 400 bytes, 200 characters: storable, over Nova's cut
    let long = "v".repeat(256);
    let mut m = sm(HEALTHY);
    m.insert("image_a", two_byte);
    m.insert("image_b", long);
    let f = audit::findings(&m, &InstanceFacts::default(), &NovaConfig::default());
    let severities: Vec<_> = f
        .iter()
        .filter(|f| f.kind == FindingKind::ValueTooLong)
        .map(|f| f.severity)
        .collect();
    assert_eq!(severities, [Severity::Warning, Severity::Error]);
}

#[test]
fn values_nova_keeps_are_never_reported_or_cut() {
    // 140 Cyrillic letters: 280 bytes, which Nova stores as they are in a
    // utf8 VARCHAR(255) column; only image properties are cut to 255 bytes.
    let name = "Ж".repeat(140);
    let mut m = sm(HEALTHY);
    m.insert("owner_project_name", name.clone());
    m.insert("image_min_ram", "1".repeat(256 / 2)); // inheritable: not cut by Nova
    let f = audit::findings(&m, &InstanceFacts::default(), &NovaConfig::default());
    assert!(!f.iter().any(|f| f.kind == FindingKind::ValueTooLong), "{f:?}");
    let out = audit::repair(&m, &InstanceFacts::default(), &NovaConfig::default());
    assert_eq!(out.system_metadata.get("owner_project_name"), Some(name.as_str()));
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    // Over the column: reported, and not cut (what to keep is not known).
    m.insert("owner_user_name", "u".repeat(256));
    let out = audit::repair(&m, &InstanceFacts::default(), &NovaConfig::default());
    assert!(
        audit::findings(&m, &InstanceFacts::default(), &NovaConfig::default())
            .iter()
            .any(|f| f.kind == FindingKind::ValueTooLong && f.severity == Severity::Error)
    );
    assert!(out.changes.is_empty(), "{:?}", out.changes);
}

#[test]
fn finds_keys_over_the_column() {
    let mut m = sm(HEALTHY);
    let key = format!("image_{}", "k".repeat(250));
    m.insert(key.clone(), "v");
    assert_eq!(
        kinds(&m, &InstanceFacts::default()),
        [(FindingKind::KeyTooLong, Some(key))]
    );
}

#[test]
fn finds_non_integer_min_ram_and_min_disk() {
    let mut m = sm(HEALTHY);
    m.insert("image_min_ram", "512");
    m.insert("image_min_disk", "ten");
    m.insert("min_ram", " 1_0 ");
    assert_eq!(
        kinds(&m, &InstanceFacts::default()),
        [(FindingKind::NonIntegerInheritable, Some("image_min_disk".into()))]
    );
}

#[test]
fn finds_stored_skip_keys() {
    let mut m = sm(HEALTHY);
    m.insert("image_block_device_mapping", "[]");
    assert_eq!(
        kinds(&m, &InstanceFacts::default()),
        [(
            FindingKind::SkipKeyStored,
            Some("image_block_device_mapping".into())
        )]
    );
}

#[test]
fn finds_keys_that_would_leak_with_passwords_as_warnings() {
    let mut m = sm(HEALTHY);
    m.insert("password_2", "x");
    m.insert("owner_project_name", "demo");
    m.insert("cache_in_nova", "True"); // dropped by Nova's default configuration
    let f = audit::findings(&m, &InstanceFacts::default(), &NovaConfig::default());
    let leaks: Vec<_> = f
        .iter()
        .map(|f| (f.kind, f.key.clone().unwrap(), f.severity))
        .collect();
    assert_eq!(
        leaks,
        [
            (FindingKind::WouldLeak, "password_2".into(), Severity::Warning),
            (
                FindingKind::WouldLeak,
                "owner_project_name".into(),
                Severity::Info
            ),
        ]
    );
}

#[test]
fn finds_shelved_keys_only_on_instances_known_not_to_be_shelved() {
    let mut m = sm(HEALTHY);
    m.insert("image_shelved_at", "not a shelved key: prefixed");
    m.insert("shelved_image_id", "img-s");
    let stale = |state| {
        kinds(&m, &facts(None, state))
            .into_iter()
            .filter(|(k, _)| *k == FindingKind::StaleShelvedKeys)
            .count()
    };
    assert_eq!(stale(Some("active")), 1);
    assert_eq!(stale(Some("shelved_offloaded")), 0);
    assert_eq!(stale(None), 0);
}

#[test]
fn finds_a_base_image_ref_that_differs_from_the_image_ref() {
    let f = audit::findings(&sm(HEALTHY), &facts(Some("other"), None), &NovaConfig::default());
    assert_eq!(f[0].kind, FindingKind::ImageRefMismatch);
    assert_eq!(f[0].severity, Severity::Info);
}

// ---- repair: one test per repair ------------------------------------------

#[test]
fn repair_sets_the_base_image_ref_as_nova_heals_it() {
    let out = audit::repair(
        &sm(&[("image_os_type", "linux")]),
        &facts(Some("img-b"), None),
        &NovaConfig::default(),
    );
    assert_eq!(out.system_metadata.get("image_base_image_ref"), Some("img-b"));
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].old, None);
}

#[test]
fn repair_cannot_invent_an_unknown_base_image_ref() {
    let out = audit::repair(
        &sm(&[("image_os_type", "linux")]),
        &InstanceFacts::default(),
        &NovaConfig::default(),
    );
    assert!(out.changes.is_empty());
}

#[test]
fn repair_cuts_long_values_like_nova() {
    let mut m = sm(HEALTHY);
    m.insert("image_a", "é".repeat(200));
    let out = audit::repair(&m, &InstanceFacts::default(), &NovaConfig::default());
    assert_eq!(out.system_metadata.get("image_a").map(str::len), Some(254));
    assert_eq!(out.changes[0].fixes, FindingKind::ValueTooLong);
}

#[test]
fn repair_removes_what_nova_cannot_store_read_or_keep() {
    let mut m = sm(HEALTHY);
    m.insert("k".repeat(300), "v");
    m.insert("image_min_disk", "x".repeat(300));
    m.insert("image_mappings", "[]");
    m.insert("shelved_at", "2026-01-01");
    m.insert("password_0", "kept: leaks are not repaired");
    let out = audit::repair(&m, &facts(Some("img"), Some("active")), &NovaConfig::default());
    assert_eq!(
        entries(&out.system_metadata),
        [
            ("image_base_image_ref", "img"),
            ("image_os_type", "linux"),
            ("password_0", "kept: leaks are not repaired")
        ]
    );
    let fixes: Vec<_> = out.changes.iter().map(|c| (c.fixes, c.new.is_none())).collect();
    assert_eq!(
        fixes,
        [
            (FindingKind::KeyTooLong, true),
            (FindingKind::NonIntegerInheritable, true),
            (FindingKind::SkipKeyStored, true),
            (FindingKind::StaleShelvedKeys, true),
        ]
    );
}

// ---- lineage ---------------------------------------------------------------

fn records(v: serde_json::Value) -> Vec<ImageRecord> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn lineage_reports_cycles_without_looping() {
    let images = records(json!([
        {"id": "a", "properties": {"base_image_ref": "b"}},
        {"id": "b", "properties": {"base_image_ref": "a"}},
    ]));
    let out = lineage::trace("a", &images);
    assert_eq!(out.chain, ["a", "b"]);
    assert_eq!(out.problems[0].kind, LineageProblemKind::Cycle);
    assert_eq!(out.problems[0].image_id, "a");
    let selfish = records(json!([{"id": "s", "properties": {"base_image_ref": "s"}}]));
    assert_eq!(
        lineage::trace("s", &selfish).problems[0].kind,
        LineageProblemKind::Cycle
    );
}

#[test]
fn lineage_reports_a_missing_link_and_keeps_its_id() {
    let images = records(json!([{"id": "snap", "properties": {"base_image_ref": "deleted-base"}}]));
    let out = lineage::trace("snap", &images);
    assert_eq!(out.chain, ["snap", "deleted-base"]);
    assert_eq!(out.problems[0].kind, LineageProblemKind::Missing);
}

#[test]
fn lineage_of_a_boot_from_volume_instance_is_empty() {
    assert_eq!(lineage::trace("", &[]).chain, Vec::<String>::new());
}
