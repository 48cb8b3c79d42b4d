//! Properties of the crate's additions to Nova: repair is idempotent and
//! leaves nothing it claims to fix, Origin equals create, Hardened never
//! leaks a password.

mod common;

use common::rebuild_with;

use nova_sysmeta::audit::{Change, FindingKind, InstanceFacts, Severity};
use nova_sysmeta::keys::SM_INHERITABLE_KEYS;
use nova_sysmeta::{
    ImageMeta, ImageType, Instance, NovaConfig, RequestContext, SystemMetadata, audit, create, profile,
    rebuild, snapshot,
};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        "image_[a-z_]{1,10}",
        prop::sample::select(vec![
            "image_base_image_ref",
            "image_min_ram",
            "image_min_disk",
            "min_disk",
            "image_mappings",
            "block_device_mapping",
            "password_0",
            "password_3",
            "shelved_at",
            "shelved_host",
            "owner_user_name",
        ])
        .prop_map(str::to_owned),
        (250usize..270).prop_map(|n| format!("image_{}", "k".repeat(n))),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 _]{0,12}",
        "-?[0-9]{1,5}",
        (
            200usize..300,
            prop::sample::select(vec!['a', '\u{e9}', '\u{20ac}'])
        )
            .prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
}

fn system_metadata() -> impl Strategy<Value = SystemMetadata> {
    prop::collection::vec((key(), value()), 0..14).prop_map(|kv| kv.into_iter().collect())
}

fn facts() -> impl Strategy<Value = InstanceFacts> {
    (
        prop::option::of("[a-z0-9-]{0,36}"),
        prop::option::of(prop::sample::select(vec![
            "active",
            "shelved",
            "shelved_offloaded",
            "stopped",
        ])),
    )
        .prop_map(|(image_ref, vm_state)| {
            let mut facts = InstanceFacts::new();
            facts.image_ref = image_ref;
            facts.vm_state = vm_state.map(str::to_owned);
            facts
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Repairing a repaired map changes nothing.
    #[test]
    fn repair_is_idempotent(sm in system_metadata(), facts in facts()) {
        let once = audit::repair(&sm, &facts, &NovaConfig::default());
        let twice = audit::repair(&once.system_metadata, &facts, &NovaConfig::default());
        prop_assert_eq!(&twice.changes, &Vec::<Change>::new());
        prop_assert_eq!(twice.system_metadata, once.system_metadata);
    }

    /// After a repair, no finding of a kind the repair fixed remains, and
    /// every change names a key a finding named.
    #[test]
    fn repaired_maps_keep_no_finding_that_repair_fixed(sm in system_metadata(), facts in facts()) {
        let before = audit::findings(&sm, &facts, &NovaConfig::default());
        let out = audit::repair(&sm, &facts, &NovaConfig::default());
        for change in &out.changes {
            prop_assert!(before.iter().any(|f| f.kind == change.fixes && f.key.as_deref() == Some(&change.key)),
                "change to {} fixes no finding", change.key);
        }
        let fixed: Vec<(FindingKind, &str)> = out.changes.iter().map(|c| (c.fixes, c.key.as_str())).collect();
        for finding in audit::findings(&out.system_metadata, &facts, &NovaConfig::default()) {
            let pair = (finding.kind, finding.key.as_deref().unwrap_or(""));
            prop_assert!(!fixed.contains(&pair), "{:?} left after repair", finding);
            // A long value is left only where Nova keeps it: not an image
            // property, and then only one over the column is reported.
            if finding.kind == FindingKind::ValueTooLong {
                prop_assert!(finding.severity == Severity::Error, "{:?}", finding);
                let key = finding.key.as_deref().unwrap_or("");
                prop_assert!(key.strip_prefix("image_").is_none_or(|name| SM_INHERITABLE_KEYS.contains(&name)),
                    "{:?}", finding);
            }
        }
        // Keys no finding named are untouched.
        for (k, v) in sm.iter() {
            if !before.iter().any(|f| f.key.as_deref() == Some(k)) {
                prop_assert_eq!(out.system_metadata.get_nullable(k), Some(v));
            }
        }
    }

    /// Rebuilding with the Origin policy records what create records for
    /// the same image.
    #[test]
    fn origin_rebuild_equals_create(base in prop::option::of("[a-z0-9-]{1,36}"), id in "[a-z0-9-]{1,36}",
                                    before in system_metadata()) {
        let mut image = ImageMeta::default();
        if let Some(base) = base {
            image.properties.insert("base_image_ref", Value::from(base)).unwrap();
        }
        let ctx = RequestContext::new("u", "p").with_names("alice", "demo");
        let created = create::populate(&create::Request::new(&image, &id, &ctx)).unwrap();
        let valid_before: SystemMetadata = before.iter()
            .filter(|(k, v)| k.chars().count() <= 255 && v.unwrap_or_default().chars().count() <= 255)
            .collect();
        let rebuilt = rebuild_with(&valid_before, &image, &id, None, rebuild::BaseImageRefPolicy::Origin)
            .unwrap();
        prop_assert_eq!(rebuilt.get("image_base_image_ref"), created.get("image_base_image_ref"));
    }

    /// A hardened snapshot never carries a password_ key unless the caller
    /// allowed or supplied it.
    #[test]
    fn hardened_snapshots_never_leak_passwords(sm in system_metadata(), backup in any::<bool>()) {
        let view = profile::SnapshotProfile::Hardened { allow: vec![] }.apply(&sm);
        let kind = if backup { ImageType::Backup } else { ImageType::Snapshot };
        let image = snapshot::create_image(&snapshot::Request::new(&RequestContext::new("u", "p"), &Instance::new(Uuid::nil(), "p"), &view.system_metadata, "s"), kind).unwrap();
        for k in image.properties.keys() {
            prop_assert!(!k.starts_with("password_"), "{} leaked", k);
        }
        for k in sm.keys().filter(|k| k.starts_with("password_")) {
            prop_assert!(view.withheld.iter().any(|w| w == k));
        }
    }
}
