//! Nova's typed view of image properties (`objects`): the README's table
//! of each release's properties and values is generated from the model
//! (`NOVA_SYSMETA_BLESS=1` rewrites it), and the entry points' contracts.

use nova_sysmeta::objects::{self, FieldKind, Schema};
use nova_sysmeta::{NovaConfig, Properties, Release, SystemMetadata};

const BEGIN: &str = "<!-- image-props (generated from the crate's objects::Schema; NOVA_SYSMETA_BLESS=1 cargo test --test test_objects) -->";
const END: &str = "<!-- /image-props -->";

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::String => "string",
        FieldKind::Uuid => "UUID",
        FieldKind::VersionPredicate => "version predicate",
        FieldKind::Integer => "integer",
        FieldKind::NonNegativeInteger => "integer >= 0",
        FieldKind::FlexibleBoolean => "boolean",
        FieldKind::Enum => "enum",
        FieldKind::ListOfStrings => "list of strings",
        FieldKind::ListOfIntegers => "list of integers",
        FieldKind::ListOfSetsOfIntegers => "list of sets of integers",
        FieldKind::ListOfDictsOfNullableStrings => "list of dicts",
        _ => "other",
    }
}

/// The table: each field with the first release that has it, its kind,
/// and its values, each value added after the field marked with its first
/// release.
fn render() -> String {
    let releases: Vec<(Release, &Schema)> = Schema::releases().collect();
    let latest = Schema::of(Release::LATEST);
    let mut names: Vec<&str> = Vec::new();
    for (_, schema) in &releases {
        for f in schema.fields() {
            if !names.contains(&f.name()) {
                names.push(f.name());
            }
        }
    }
    names.sort_unstable();
    let mut out = String::from(BEGIN);
    out.push_str("\n\n| property | kind | from | values (from) |\n|---|---|---|---|\n");
    for name in names {
        let since = releases
            .iter()
            .find(|(_, s)| s.field(name).is_some())
            .map(|(r, _)| *r);
        let until = releases
            .iter()
            .rev()
            .find(|(_, s)| s.field(name).is_some())
            .map(|(r, _)| *r);
        let field = latest
            .field(name)
            .or_else(|| releases.iter().rev().find_map(|(_, s)| s.field(name)));
        let Some(field) = field else { continue };
        let mut values = Vec::new();
        if field.kind() == FieldKind::Enum {
            let mut seen: Vec<&str> = Vec::new();
            for (release, schema) in &releases {
                let Some(f) = schema.field(name) else { continue };
                let text = f.values_are_substrings();
                for v in f.values().unwrap_or_default() {
                    let shown = if text {
                        format!("any part of `{v}`")
                    } else {
                        format!("`{v}`")
                    };
                    if !seen.contains(v) || text {
                        if !seen.contains(v) {
                            seen.push(v);
                        }
                        let entry = if Some(*release) == since {
                            shown.clone()
                        } else {
                            format!("{shown} ({release})")
                        };
                        if !values.iter().any(|e: &String| e.starts_with(&shown)) {
                            values.push(entry);
                        }
                    }
                }
            }
            // Older releases wrote `ALL = (X)`: a string, any part of which Python's `in` accepts.
            if let Some((until, _)) = releases
                .iter()
                .rev()
                .find(|(_, s)| s.field(name).is_some_and(|f| f.values_are_substrings()))
            {
                let all = field
                    .values()
                    .unwrap_or_default()
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>();
                values = vec![format!(
                    "any part of {} up to {until}, then {} exactly",
                    all.join(", "),
                    all.join(", ")
                )];
            }
        }
        let kind = match field.enum_class() {
            Some(class) => format!("enum `{class}`"),
            None => kind_name(field.kind()).to_owned(),
        };
        let from = since.map(|r| r.to_string()).unwrap_or_default();
        let from = match until {
            Some(u) if u != Release::LATEST => format!("{from} to {u}"),
            _ => from,
        };
        out.push_str(&format!(
            "| `{name}` | {kind} | {from} | {} |\n",
            values.join(", ")
        ));
    }
    out.push_str("\nLegacy names read as current ones (every release): ");
    let legacy: Vec<String> = latest
        .legacy_names()
        .iter()
        .map(|(old, new)| format!("`{old}` → `{new}`"))
        .collect();
    out.push_str(&legacy.join(", "));
    out.push_str(". `trait:NAME` = `required` gives `traits_required` from 18.0.2; `hw_numa_cpus.N` and `hw_numa_mem.N` (N below 128) give `hw_numa_cpus` and `hw_numa_mem`.\n\n");
    out.push_str(END);
    out
}

#[test]
fn the_readme_lists_each_releases_properties_and_values_from_the_model() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme.find(BEGIN).expect("README has the image-props markers");
    let end = readme.find(END).expect("README has the image-props end marker") + END.len();
    let expected = render();
    if std::env::var_os("NOVA_SYSMETA_BLESS").is_some() {
        std::fs::write(
            path,
            format!("{}{}{}", &readme[..start], expected, &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert!(
        readme[start..end] == expected,
        "README's property table is not the model's; run with NOVA_SYSMETA_BLESS=1"
    );
}

#[test]
fn every_release_from_pike_has_a_schema_and_each_change_is_a_new_version() {
    let releases: Vec<_> = Schema::releases().collect();
    assert_eq!(releases.len(), 122);
    assert_eq!(releases.first().unwrap().0.to_string(), "16.1.6");
    assert_eq!(releases.last().unwrap().0, Release::LATEST);
    for pair in releases.windows(2) {
        let ((_, a), (_, b)) = (pair[0], pair[1]);
        // A different table is a different ImageMetaProps version, and
        // the version only goes up.
        assert_eq!(a == b, a.version() == b.version());
        let v = |s: &Schema| {
            s.version()
                .split('.')
                .map(|p| p.parse::<u32>().unwrap())
                .collect::<Vec<_>>()
        };
        assert!(v(a) <= v(b));
        // No field is ever taken away.
        assert!(a.fields().iter().all(|f| b.field(f.name()).is_some()));
    }
    // A release between two read ones takes the older's schema.
    assert_eq!(Schema::of(Release::new(16, 0, 0).unwrap()).version(), "1.19");
    assert_eq!(Schema::of(Release::new(22, 9, 9).unwrap()).version(), "1.27");
}

#[test]
fn unknown_names_are_dropped_and_legacy_names_mapped_but_the_current_name_wins() {
    let props: Properties = serde_json::from_str(
        r#"{"architecture": "AMD64", "hw_architecture": "aarch64", "HW_DISK_BUS": "virtio", "vm_mode": "pv"}"#,
    )
    .unwrap();
    let typed = objects::image_meta_props(&objects::PropsRequest::new(&props)).unwrap();
    assert_eq!(
        typed.get("hw_architecture").and_then(|v| v.as_str()),
        Some("aarch64")
    );
    assert_eq!(typed.get("hw_vm_mode").and_then(|v| v.as_str()), Some("xen"));
    assert_eq!(typed.len(), 2);
    // A bad legacy value is refused even when the current name is good.
    let props: Properties =
        serde_json::from_str(r#"{"architecture": "z80", "hw_architecture": "x86_64"}"#).unwrap();
    let err = objects::image_meta_props(&objects::PropsRequest::new(&props)).unwrap_err();
    assert_eq!(err.kind(), "invalid_value");
    assert!(
        err.to_string().contains("hw_architecture") && err.to_string().contains("z80"),
        "{err}"
    );
}

#[test]
fn a_field_added_later_is_dropped_by_older_releases_and_typed_by_newer() {
    let props: Properties =
        serde_json::from_str(r#"{"hw_tpm_version": "2.0", "hw_cpu_policy": "mixed"}"#).unwrap();
    let at = |r: &str| {
        let config = NovaConfig::for_release(r.parse().unwrap());
        objects::image_meta_props(&objects::PropsRequest::new(&props).config(&config))
    };
    assert!(at("21.2.4").is_err(), "mixed is not a CPU policy before 22.0.0");
    let props_tpm: Properties = serde_json::from_str(r#"{"hw_tpm_version": "2.0"}"#).unwrap();
    let old = objects::image_meta_props(
        &objects::PropsRequest::new(&props_tpm).config(&NovaConfig::for_release("21.2.4".parse().unwrap())),
    )
    .unwrap();
    assert!(
        old.is_empty(),
        "21.2.4 has no hw_tpm_version and drops it silently"
    );
    let new = at("34.0.0").unwrap();
    assert_eq!(
        serde_json::to_string(&new).unwrap(),
        r#"{"hw_cpu_policy":"mixed","hw_tpm_version":"2.0"}"#
    );
}

#[test]
fn what_the_virt_driver_sees_of_an_instance() {
    let sm: SystemMetadata = serde_json::from_str(
        r#"{"image_min_disk": "20", "image_container_format": "bare", "image_hw_qemu_guest_agent": "no",
            "image_base_image_ref": "x", "owner_project_name": "demo", "image_hw_numa_nodes": "2"}"#,
    )
    .unwrap();
    let meta = objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&sm)).unwrap();
    assert_eq!(
        serde_json::to_string(&meta).unwrap(),
        r#"{"container_format":"bare","min_disk":20,"properties":{"hw_numa_nodes":2,"hw_qemu_guest_agent":false}}"#
    );
    let bad: SystemMetadata = serde_json::from_str(r#"{"image_min_ram": "lots"}"#).unwrap();
    let err = objects::image_meta_from_system_metadata(&objects::MetaRequest::new(&bad)).unwrap_err();
    assert!(err.to_string().contains("min_ram"), "{err}");
}

#[test]
fn the_audit_names_each_property_the_release_cannot_type() {
    use nova_sysmeta::audit::{FindingKind, InstanceFacts, findings};
    let sm: SystemMetadata = serde_json::from_str(
        r#"{"image_base_image_ref": "x", "image_hw_disk_bus": "nvme", "image_hw_video_model": "bochs",
            "image_hw_numa_cpus.0": "0-1", "image_hw_numa_cpus.1": "3-2", "image_os_type": "linux"}"#,
    )
    .unwrap();
    let untyped = |release: &str| {
        let config = NovaConfig::for_release(release.parse().unwrap());
        findings(&sm, &InstanceFacts::new(), &config)
            .into_iter()
            .filter(|f| f.kind == FindingKind::UntypedImageProperty)
            .map(|f| (f.key.unwrap(), f.message))
            .collect::<Vec<_>>()
    };
    let latest = untyped("34.0.0");
    let keys: Vec<&str> = latest.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["image_hw_disk_bus", "image_hw_numa_cpus.1"]);
    assert!(
        latest[0].1.contains("'nvme'") && latest[0].1.contains("Nova 34.0.0"),
        "{}",
        latest[0].1
    );
    // 23.0.0 has no bochs video model either.
    let wallaby = untyped("23.0.0");
    assert_eq!(
        wallaby.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        [
            "image_hw_disk_bus",
            "image_hw_video_model",
            "image_hw_numa_cpus.1"
        ]
    );
    // A typeable image has no such finding.
    let fine: SystemMetadata =
        serde_json::from_str(r#"{"image_base_image_ref": "x", "image_hw_disk_bus": "virtio"}"#).unwrap();
    assert!(findings(&fine, &InstanceFacts::new(), &NovaConfig::default()).is_empty());
}
