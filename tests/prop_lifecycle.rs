//! Any sequence of lifecycle operations keeps an instance healthy: it never
//! loses `image_base_image_ref`, and never stores a value over 255 bytes.

mod common;

use common::rebuild;

use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata, backup,
    create, resize, shelve, snapshot,
};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Step {
    Rebuild(Box<ImageMeta>, String),
    Snapshot,
    Backup,
    Shelve,
    Unshelve,
    Resize,
}

fn image() -> impl Strategy<Value = ImageMeta> {
    let value = prop_oneof![
        "[a-z\u{e9}\u{1F600}]{0,300}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    (
        prop::collection::vec(("[a-z_]{1,12}", value), 0..8),
        prop::option::of(0i64..100),
        prop::option::of("[a-z0-9-]{1,36}"),
    )
        .prop_map(|(props, min_disk, base)| {
            let mut properties = Properties::try_from_iter(props).unwrap();
            if let Some(base) = base {
                properties.insert("base_image_ref", Value::from(base)).unwrap();
            }
            let mut image = ImageMeta::new().with_properties(properties);
            image.min_disk = min_disk.map(nova_sysmeta::Value::from);
            image.disk_format = Some("qcow2".into());
            image
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (image(), "[a-z0-9-]{1,36}").prop_map(|(i, id)| Step::Rebuild(Box::new(i), id)),
        Just(Step::Snapshot),
        Just(Step::Backup),
        Just(Step::Shelve),
        Just(Step::Unshelve),
        Just(Step::Resize),
    ]
}

fn healthy(sm: &SystemMetadata) -> Result<(), TestCaseError> {
    prop_assert!(
        sm.contains_key("image_base_image_ref"),
        "lost image_base_image_ref: {:?}",
        sm
    );
    for (k, v) in sm.iter() {
        let v = v.unwrap_or_default();
        prop_assert!(v.len() <= 255, "{} holds {} bytes", k, v.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lifecycle_never_loses_the_base_image_ref(first in image(), steps in prop::collection::vec(step(), 0..12)) {
        let ctx = RequestContext::new("u", "p").with_names("alice", "demo");
        let mut instance = Instance::new(Uuid::from_u128(5), "p").with_image_ref("img-0").with_display_name("vm");
        let flavor = Flavor::new(20);
        let config = NovaConfig::default();
        let mut sm = create::populate(&create::Request::new(&first, "img-0", &ctx).flavor(&flavor)).unwrap();
        healthy(&sm)?;
        for step in steps {
            match step {
                Step::Rebuild(image, id) => {
                    sm = rebuild(&sm, &image, &id, Some(&flavor)).unwrap();
                    instance.image_ref = Some(id);
                }
                Step::Snapshot | Step::Backup => {
                    let snap = if matches!(step, Step::Snapshot) {
                        snapshot::create_image(&snapshot::Request::new(&ctx, &instance, &sm, "s").config(&config), ImageType::Snapshot).unwrap()
                    } else {
                        backup::image_metadata(&snapshot::Request::new(&ctx, &instance, &sm, "b").config(&config), "daily").unwrap()
                    };
                    prop_assert!(snap.properties.contains_key("base_image_ref"));
                }
                Step::Shelve => {
                    sm = shelve::start(&shelve::Request::new(&ctx, &instance, &sm).config(&config)).unwrap().system_metadata;
                    let record = shelve::Record::new("2026-11-25T15:08:12.000001", "img-shelved", "compute-1");
                    sm = shelve::record(&sm, &record).unwrap();
                }
                Step::Unshelve => sm = shelve::remove_keys(&sm).unwrap(),
                Step::Resize => sm = resize::ensure_base_image_ref(&resize::Request::new(&sm, instance.image_ref.as_deref().unwrap())).unwrap(),
            }
            healthy(&sm)?;
        }
    }
}
