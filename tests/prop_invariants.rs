//! Nova's invariants, stated in words and checked on generated inputs.

mod common;

use common::rebuild;

use nova_sysmeta::keys::is_image_key;
use nova_sysmeta::keys::{NON_INHERITABLE_IMAGE_PROPERTIES, SM_INHERITABLE_KEYS, SM_SKIP_KEYS};
use nova_sysmeta::python::to_str;
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata, convert,
    create, map, snapshot,
};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// A create of `img` as `img-ref` by `ctx`, with the flavor when given.
fn create_request<'a>(
    img: &'a ImageMeta,
    ctx: &'a RequestContext,
    flavor: Option<&'a Flavor>,
) -> create::Request<'a> {
    let request = create::Request::new(img, "img-ref", ctx);
    match flavor {
        Some(flavor) => request.flavor(flavor),
        None => request,
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{0,12}",
        "[a\u{e9}\u{20ac}\u{1F600}'\"\\\\\n\u{a0}]{0,20}",
        // Long multi-byte strings that cross the 255-byte cut anywhere.
        (
            240usize..256,
            prop::sample::select(vec!['\u{e9}', '\u{20ac}', '\u{1F600}'])
        )
            .prop_map(|(n, c)| format!("{}{}", "a".repeat(n), c.to_string().repeat(5))),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        prop::sample::select(
            SM_SKIP_KEYS
                .iter()
                .chain(SM_INHERITABLE_KEYS.iter())
                .chain(NON_INHERITABLE_IMAGE_PROPERTIES.iter())
                .chain(
                    [
                        "cache_in_nova",
                        "bittorrent",
                        "os_glance_x",
                        "base_image_ref",
                        "image_x"
                    ]
                    .iter()
                )
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        ),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn properties() -> impl Strategy<Value = Properties> {
    prop::collection::vec((key(), json_value()), 0..10).prop_map(|kv| Properties::try_from_iter(kv).unwrap())
}

fn image() -> impl Strategy<Value = ImageMeta> {
    (
        properties(),
        prop::option::of(0i64..4096),
        prop::option::of(0i64..200),
        prop::option::of(prop::sample::select(vec!["qcow2", "raw", "vhd", "vmdk"])),
        prop::option::of(prop::sample::select(vec!["bare", "ovf"])),
    )
        .prop_map(|(properties, min_ram, min_disk, disk_format, container_format)| {
            let mut image = ImageMeta::new().with_properties(properties);
            image.min_ram = min_ram.map(nova_sysmeta::Value::from);
            image.min_disk = min_disk.map(nova_sysmeta::Value::from);
            image.disk_format = disk_format.map(nova_sysmeta::Value::from);
            image.container_format = container_format.map(nova_sysmeta::Value::from);
            image
        })
}

fn system_metadata() -> impl Strategy<Value = SystemMetadata> {
    let sm_key = prop_oneof![
        key().prop_map(|k| format!("image_{k}")),
        key(),
        prop::sample::select(vec![
            "owner_user_name",
            "password_0",
            "shelved_at",
            "clean_attempts"
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec((sm_key, "[a-z0-9\u{e9}]{0,20}"), 0..12).prop_map(|kv| kv.into_iter().collect())
}

fn flavor() -> impl Strategy<Value = Option<Flavor>> {
    prop::option::of((0u64..300).prop_map(Flavor::new))
}

fn ctx() -> RequestContext {
    RequestContext::new("u", "p").with_names("alice", "demo")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// After create, the instance always records a base image ref.
    #[test]
    fn create_always_records_a_base_image_ref(img in image(), existing in system_metadata(), f in flavor()) {
        let out = create::populate(&create_request(&img, &ctx(), f.as_ref()).existing(&existing)).unwrap();
        prop_assert!(out.contains_key("image_base_image_ref"));
    }

    /// After any rebuild, the base image ref is the rebuild image's id.
    #[test]
    fn rebuild_always_records_the_rebuild_image(before in system_metadata(), img in image(), f in flavor()) {
        let out = rebuild(&before, &img, "img-b", f.as_ref()).unwrap();
        prop_assert_eq!(out.get("image_base_image_ref"), Some("img-b"));
    }

    /// Rebuild keeps every non-image_ key untouched and in order, and no
    /// image_ key survives unless the new image wrote it.
    #[test]
    fn rebuild_touches_only_image_keys(before in system_metadata(), img in image(), f in flavor()) {
        let out = rebuild(&before, &img, "img-b", f.as_ref()).unwrap();
        let kept_before: Vec<_> = before.iter().filter(|(k, _)| !is_image_key(k)).collect();
        let kept_after: Vec<_> = out.iter().filter(|(k, _)| !is_image_key(k)).collect();
        prop_assert_eq!(kept_before, kept_after);
        let written = convert::system_metadata_from_image(&img, f.as_ref()).unwrap();
        for (k, v) in out.image_entries() {
            if k == "image_base_image_ref" { continue; }
            prop_assert_eq!(written.get_nullable(k), Some(v), "key {} not from the new image", k);
        }
    }

    /// Rebuilding twice with the same image is the same as once.
    #[test]
    fn rebuild_is_idempotent(before in system_metadata(), img in image(), f in flavor()) {
        let once = rebuild(&before, &img, "img-b", f.as_ref()).unwrap();
        let twice = rebuild(&once, &img, "img-b", f.as_ref()).unwrap();
        prop_assert_eq!(once, twice);
    }

    /// Every value the crate stores fits in 255 bytes (and, being a Rust
    /// String, is valid UTF-8).
    #[test]
    fn stored_values_fit_255_bytes(img in image(), f in flavor()) {
        let out = create::populate(&create_request(&img, &ctx(), f.as_ref())).unwrap();
        for (k, v) in out.iter() {
            let v = v.unwrap_or_default();
            prop_assert!(v.len() <= 255, "{} is {} bytes", k, v.len());
        }
    }

    /// Reading back what was stored gives the image's non-skipped
    /// properties as truncated strings, and its inheritable attributes.
    #[test]
    fn round_trip_gives_back_properties_and_attributes(img in image()) {
        let back = convert::image_from_system_metadata(&convert::system_metadata_from_image(&img, None).unwrap());
        for (k, v) in &img.properties {
            if SM_SKIP_KEYS.contains(&k) || SM_INHERITABLE_KEYS.contains(&k) {
                continue;
            }
            let want = to_str(&v.to_value());
            prop_assert_eq!(back.properties.get(k), Some(map::PropertyValue::Str(convert::safe_truncate(&want, 255))));
        }
        prop_assert_eq!(back.properties.len(),
            img.properties.keys().filter(|k| !SM_SKIP_KEYS.contains(k)
                && !SM_INHERITABLE_KEYS.contains(k)).count());
        // Read back, every attribute is the str() of what was stored.
        let as_text = |m: &Option<nova_sysmeta::Value>| m.as_ref().map(|m| nova_sysmeta::Value::from(to_str(m)));
        let from_prop = |k: &str| img.properties.get(k)
            .map(|v| nova_sysmeta::Value::from(convert::safe_truncate(&to_str(&v.to_value()), 255)));
        prop_assert_eq!(&back.min_ram, &as_text(&img.min_ram).or(from_prop("min_ram")));
        prop_assert_eq!(&back.min_disk, &as_text(&img.min_disk).or(from_prop("min_disk")));
        prop_assert_eq!(&back.disk_format, &as_text(&img.disk_format).or(from_prop("disk_format")));
        prop_assert_eq!(&back.container_format, &as_text(&img.container_format).or(from_prop("container_format")));
    }

    /// A snapshot never carries a non-inheritable property unless the
    /// caller asked for it in the extra properties.
    #[test]
    fn snapshots_never_inherit_non_inheritable_keys(sm in system_metadata(), extra in properties(),
                                                     backup in any::<bool>()) {
        let config = NovaConfig::default();
        let instance = Instance::new(Uuid::nil(), "p");
        let snap = if backup {
            snapshot::create_image(&snapshot::Request::new(&ctx(), &instance, &sm, "s").extra_properties(&extra).config(&config), ImageType::Backup).unwrap()
        } else {
            snapshot::initialize_metadata(&snapshot::Request::new(&ctx(), &instance, &sm, "s").extra_properties(&extra).config(&config)).unwrap()
        };
        for k in snap.properties.keys() {
            let blocked = config.non_inheritable_image_properties.iter().any(|c| c == k)
                || NON_INHERITABLE_IMAGE_PROPERTIES.contains(&k)
                || k.starts_with("os_glance");
            prop_assert!(!blocked || extra.contains_key(k), "{} leaked", k);
        }
    }
}
