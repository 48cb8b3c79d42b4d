//! Each behaviour change between Nova releases, at the versions on both
//! sides of it (the parity suite proves the same against each release's
//! own code: `parity/run --ci-releases`).

use nova_sysmeta::{
    ImageMeta, Instance, NovaConfig, Release, RequestContext, SystemMetadata, audit, rebuild, resize, shelve,
    snapshot, upload,
};
use uuid::Uuid;

fn release(text: &str) -> Release {
    text.parse().unwrap()
}

fn image(json: &str) -> ImageMeta {
    serde_json::from_str(json).unwrap()
}

#[test]
fn rebuild_puts_the_base_image_ref_back_from_21_2_1() {
    let current: SystemMetadata = [("image_base_image_ref", "img-a"), ("image_os_type", "linux")]
        .into_iter()
        .collect();
    let new = image(r#"{"id": "img-b", "properties": {}}"#);
    let base = |text: &str| {
        let config = NovaConfig::for_release(release(text));
        let request = rebuild::Request::new(&current, &new, new.id()).config(&config);
        rebuild::reset_image_metadata(&request)
            .unwrap()
            .base_image_ref()
            .map(str::to_owned)
    };
    assert_eq!(base("16.1.8"), None);
    assert_eq!(base("21.2.0"), None);
    assert_eq!(base("21.2.1").as_deref(), Some("img-b"));
    assert_eq!(base("22.0.0").as_deref(), Some("img-b"));
    // Legacy is the old rebuild whatever the release.
    let legacy = rebuild::Request::new(&current, &new, new.id()).policy(rebuild::BaseImageRefPolicy::Legacy);
    assert_eq!(
        rebuild::reset_image_metadata(&legacy).unwrap().base_image_ref(),
        None
    );
}

#[test]
fn resize_heals_the_base_image_ref_from_23_0_0() {
    let damaged: SystemMetadata = [("image_os_type", "linux")].into_iter().collect();
    for (text, healed) in [
        ("16.1.8", false),
        ("21.2.4", false),
        ("22.4.0", false),
        ("23.0.0", true),
        ("34.0.0", true),
    ] {
        let config = NovaConfig::for_release(release(text));
        let out =
            resize::ensure_base_image_ref(&resize::Request::new(&damaged, "img-b").config(&config)).unwrap();
        assert_eq!(out.base_image_ref().is_some(), healed, "{text}");
        assert_eq!(release(text).resize_keeps_base_image_ref(), healed, "{text}");
    }
}

#[test]
fn shelve_heals_the_base_image_ref_from_21_2_1() {
    let instance = Instance::new(Uuid::nil(), "p").with_image_ref("img-b");
    let ctx = RequestContext::new("u", "p");
    let damaged = SystemMetadata::new();
    for (text, healed) in [
        ("20.6.1", false),
        ("21.2.0", false),
        ("21.2.1", true),
        ("34.0.0", true),
    ] {
        let config = NovaConfig::for_release(release(text));
        let out = shelve::start(&shelve::Request::new(&ctx, &instance, &damaged).config(&config)).unwrap();
        assert_eq!(
            out.system_metadata.contains_key("image_base_image_ref"),
            healed,
            "{text}"
        );
        let image = out.image.unwrap();
        assert_eq!(image.properties.contains_key("base_image_ref"), healed, "{text}");
    }
}

#[test]
fn snapshots_are_is_public_false_before_18_2_2() {
    let instance = Instance::new(Uuid::nil(), "p-owner");
    let admin = RequestContext::new("admin", "p-admin");
    let sm = SystemMetadata::new();
    let snapshot = |text: &str| {
        let config = NovaConfig::for_release(release(text));
        serde_json::to_value(
            snapshot::initialize_metadata(
                &snapshot::Request::new(&admin, &instance, &sm, "snap").config(&config),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let old = snapshot("18.2.1");
    assert_eq!(old["is_public"], false);
    assert!(old.get("visibility").is_none());
    assert!(old["properties"].get("instance_owner").is_none());
    let new = snapshot("18.2.2");
    assert!(new.get("is_public").is_none());
    assert_eq!(new["visibility"], "shared");
    assert_eq!(new["properties"]["instance_owner"], "p-owner");
}

#[test]
fn built_in_names_from_21_and_os_glance_from_23() {
    let sm: SystemMetadata = [
        ("image_img_signature", "sig"),
        ("image_cinder_encryption_key_id", "key"),
        ("image_os_glance_import_method", "web-download"),
    ]
    .into_iter()
    .collect();
    let ctx = RequestContext::new("u", "p");
    let instance = Instance::new(Uuid::nil(), "p");
    let kept = |text: &str| {
        let config = NovaConfig::for_release(release(text));
        let image =
            snapshot::initialize_metadata(&snapshot::Request::new(&ctx, &instance, &sm, "s").config(&config))
                .unwrap();
        let mut keys: Vec<String> = image.properties.keys().map(str::to_owned).collect();
        keys.sort();
        keys
    };
    // Before 21.0.0 the signature keys are in the configured default; the
    // cinder key is inherited.
    assert_eq!(
        kept("20.6.1"),
        ["cinder_encryption_key_id", "os_glance_import_method"]
    );
    assert_eq!(kept("21.0.0"), ["os_glance_import_method"]);
    assert_eq!(kept("22.4.0"), ["os_glance_import_method"]);
    assert!(kept("23.0.0").is_empty());
    // A configuration that names nothing: before 21.0.0 nothing is built in.
    let config = NovaConfig::for_release(release("20.6.1"))
        .with_non_inheritable_image_properties(Vec::<String>::new());
    let image =
        snapshot::initialize_metadata(&snapshot::Request::new(&ctx, &instance, &sm, "s").config(&config))
            .unwrap();
    assert_eq!(image.properties.len(), 3);
}

#[test]
fn the_upload_forces_ami_until_the_fix() {
    let created = image(r#"{"name": "snap", "visibility": "shared", "properties": {}}"#);
    let instance = Instance::new(Uuid::nil(), "p");
    let ami: SystemMetadata = [("image_disk_format", "ami")].into_iter().collect();
    let format = |sm: &SystemMetadata, text: &str| {
        upload::finalize(
            &upload::Request::new(&created, sm, &instance, "qcow2")
                .config(&NovaConfig::for_release(release(text))),
        )
        .map(|image| image.disk_format.unwrap().as_str().unwrap().to_owned())
    };
    assert_eq!(format(&ami, "27.4.0").unwrap(), "ami");
    assert_eq!(format(&ami, "27.5.0").unwrap(), "qcow2");
    assert_eq!(format(&ami, "29.1.0").unwrap(), "ami");
    assert_eq!(format(&ami, "29.2.0").unwrap(), "qcow2");
    // The releases that read the source's format fail without one, as
    // Nova's driver does; later ones do not read it.
    let err = format(&SystemMetadata::new(), "22.4.0").unwrap_err();
    assert!(
        matches!(
            err,
            nova_sysmeta::Error::Missing {
                field: "system_metadata.image_disk_format",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(format(&SystemMetadata::new(), "30.0.0").unwrap(), "qcow2");
    // Before 18.2.2 the upload also makes the image private.
    let old = upload::finalize(
        &upload::Request::new(&created, &ami, &instance, "qcow2")
            .config(&NovaConfig::for_release(release("18.2.1"))),
    )
    .unwrap();
    assert_eq!(old.visibility(), Some("private"));
    let new = upload::finalize(
        &upload::Request::new(&created, &ami, &instance, "qcow2")
            .config(&NovaConfig::for_release(release("18.2.2"))),
    )
    .unwrap();
    assert_eq!(new.visibility(), Some("shared"));
}

#[test]
fn a_config_read_with_serde_takes_its_release_defaults() {
    let pike: NovaConfig = serde_json::from_str(r#"{"release": "16.1.8"}"#).unwrap();
    assert_eq!(pike.release, Release::new(16, 1, 8).unwrap());
    assert!(
        pike.non_inheritable_image_properties
            .iter()
            .any(|n| n == "img_signature")
    );
    let given: NovaConfig =
        serde_json::from_str(r#"{"release": "16.1.8", "non_inheritable_image_properties": []}"#).unwrap();
    assert!(given.non_inheritable_image_properties.is_empty());
    assert_eq!(
        serde_json::from_str::<NovaConfig>("{}").unwrap(),
        NovaConfig::default()
    );
    let err = serde_json::from_str::<NovaConfig>(r#"{"release": "15.1.5"}"#).unwrap_err();
    assert!(err.to_string().contains("not modelled"), "{err}");
}

#[test]
fn the_audit_explains_a_missing_base_image_ref_from_the_release_history() {
    use nova_sysmeta::audit::{FindingKind, InstanceFacts};
    let sm: SystemMetadata = [("image_os_type", "linux")].into_iter().collect();
    let message = |history: &[&str]| {
        let facts = InstanceFacts::new().with_release_history(history.iter().map(|r| release(r)));
        let findings = audit::findings(&sm, &facts, &NovaConfig::default());
        assert_eq!(findings[0].kind, FindingKind::MissingBaseImageRef);
        findings[0].message.clone()
    };
    assert!(message(&[]).contains("(bug 1893618)"));
    // The newest release that loses it is named.
    let m = message(&["34.0.0", "16.1.8", "21.2.0"]);
    assert!(
        m.contains("lost by a rebuild before 21.2.1") && m.contains("Nova 21.2.0"),
        "{m}"
    );
    let m = message(&["21.2.1", "34.0.0"]);
    assert!(m.contains("not by a rebuild"), "{m}");
    // nova_meta's audit reads the history with the other facts.
    let facts: InstanceFacts = serde_json::from_str(r#"{"release_history": ["20.6.1"]}"#).unwrap();
    assert_eq!(facts.release_history, [release("20.6.1")]);
}
