//! Regression tests for answers that once differed from Nova's, one class
//! each: attributes no flow reads, numbers past the double range, Glance's
//! base properties, Python's int(), explicit nulls, typed errors, and
//! nullable system metadata. Each was found checking the crate against
//! Nova 34.0.0; the parity generator produces every class (parity/gen.py).

mod common;

use common::{image_text, rebuild};
use nova_sysmeta::glance::{from_glance, to_glance};
use nova_sysmeta::python::value::Dict;
use nova_sysmeta::python::{int, json_dumps, repr, to_str};
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata, Value,
    convert, create, rebuild, rows, snapshot, upload,
};
use uuid::Uuid;

fn ctx() -> RequestContext {
    RequestContext::new("u", "p").with_names("alice", "demo")
}

/// Class 1: one odd attribute no flow reads once failed create, rebuild,
/// to_glance and the upload.
#[test]
fn attributes_no_flow_reads_never_fail_a_flow_and_pass_through() {
    let image = image_text(
        r#"{"id": 5, "name": ["x"], "visibility": "active", "status": 1024, "size": 1E400,
            "owner": {"a": null}, "checksum": 123456789012345678901234567890, "os_hash_value": -1e400,
            "properties": {"os_type": "linux"}}"#,
    );
    let sm = create::populate(&create::Request::new(&image, "img", &ctx())).unwrap();
    assert_eq!(sm.get("image_os_type"), Some("linux"));
    rebuild(&sm, &image, "img", None).unwrap();
    let body = to_glance(&image).unwrap();
    assert_eq!(body["visibility"], "active");
    assert_eq!(body["checksum"].python_str(), "123456789012345678901234567890");
    assert_eq!(
        serde_json::to_string(&body["os_hash_value"]).unwrap(),
        "-Infinity"
    );
    assert!(!body.contains_key("size"), "Nova drops size");
    let done = upload::finalize(
        &upload::Request::new(&image, &sm, &Instance::new(Uuid::nil(), "p"), "qcow2")
            .config(&NovaConfig::for_release(nova_sysmeta::Release::LATEST)),
    )
    .unwrap();
    assert_eq!(done.other["owner"], image.other["owner"]);
}

/// Class 2: numbers past the double range are Python's infinities.
#[test]
fn numbers_past_the_double_range_are_infinities_as_python_reads_them() {
    let image =
        image_text(r#"{"properties": {"a": 1E400, "b": -1e400, "c": 1.7976931348623159e308, "d": [1e400]}}"#);
    let sm = convert::system_metadata_from_image(&image, None).unwrap();
    let values: Vec<_> = sm.iter().map(|(_, v)| v.unwrap()).collect();
    assert_eq!(values, ["inf", "-inf", "inf", "[inf]"]);
    let inf = Value::from_json("1E400").unwrap();
    assert_eq!(repr(&inf), "inf");
    assert_eq!(json_dumps(&Value::from_json("[-1e400]").unwrap()), "[-Infinity]");
    // Truthy, as in Python, and int() of it raises: a typed error.
    let glance = image_text(r#"{"min_ram": 1E400}"#);
    assert_eq!(to_glance(&glance).unwrap_err().kind(), "not_an_integer");
    let falsy = image_text(r#"{"min_disk": 1E400}"#);
    let sm = convert::system_metadata_from_image(&falsy, Some(&Flavor::new(20))).unwrap();
    assert_eq!(sm.get("image_min_disk"), Some("inf"), "max(inf, 20) is inf");
}

/// Big integers keep their digits in a user's build of serde_json.
#[test]
fn integers_of_any_size_keep_their_digits() {
    let image =
        image_text(r#"{"min_disk": 100000000000000000000, "properties": {"n": -100000000000000000000}}"#);
    let sm = convert::system_metadata_from_image(&image, Some(&Flavor::new(20))).unwrap();
    assert_eq!(sm.get("image_n"), Some("-100000000000000000000"));
    assert_eq!(sm.get("image_min_disk"), Some("100000000000000000000"));
    // max(min_disk, root_gb) keeps the first of equals, as Python's max does.
    let equal = image_text(r#"{"min_disk": 20.0}"#);
    let sm = convert::system_metadata_from_image(&equal, Some(&Flavor::new(20))).unwrap();
    assert_eq!(sm.get("image_min_disk"), Some("20.0"));
}

/// Class 3: the base properties are the Glance server's, `stores` among them.
#[test]
fn glance_base_properties_are_the_servers_list() {
    assert_eq!(nova_sysmeta::glance::GLANCE_BASE_PROPERTIES.len(), 25);
    let body: Dict = serde_json::from_str(r#"{"stores": "a,b", "os_distro": "x"}"#).unwrap();
    let image = from_glance(&body).unwrap();
    assert_eq!(image.other["stores"], "a,b");
    assert!(!image.properties.contains_key("stores"));
    assert_eq!(image.properties.get("os_distro").unwrap(), "x");
}

/// Class 4: Python's int() of a string.
#[test]
fn python_int_reads_every_script_and_only_the_whitespace_int_strips() {
    let int = |s: &str| int(s).map(|i| i.to_string());
    assert_eq!(int("５").as_deref(), Some("5"));
    assert_eq!(int("١٠").as_deref(), Some("10"));
    assert_eq!(int("\u{3000}7\u{a0}").as_deref(), Some("7"));
    assert_eq!(int("\x1c9"), None);
    assert_eq!(int("9\x1f"), None);
    assert_eq!(int(&"9".repeat(4300)).map(|s| s.len()), Some(4300));
    assert_eq!(int(&"9".repeat(4301)), None);
    let image = image_text(r#"{"min_ram": " ٥١٢ "}"#);
    assert_eq!(to_glance(&image).unwrap()["min_ram"], 512);
}

/// Class 5: an explicit null attribute is kept where Nova keeps it.
#[test]
fn explicit_null_attributes_are_sent_on() {
    let image = image_text(r#"{"container_format": null, "disk_format": "raw", "name": null}"#);
    let body = to_glance(&image).unwrap();
    assert_eq!(body.get("container_format"), Some(&Value::Null));
    assert_eq!(body.get("name"), Some(&Value::Null));
    assert_eq!(body["disk_format"], "raw");
    // An absent one is not invented.
    let image = image_text(r#"{"disk_format": "raw"}"#);
    assert!(!to_glance(&image).unwrap().contains_key("container_format"));
    // min_ram null: int(None) raises.
    assert!(to_glance(&image_text(r#"{"min_ram": null}"#)).is_err());
}

/// Class 6: a lone surrogate is refused alike in a key and in a value.
#[test]
fn lone_surrogates_are_refused_alike_in_keys_and_values() {
    for text in [r#"{"\ud800": "x"}"#, r#"{"x": "\ud800"}"#] {
        assert!(serde_json::from_str::<Properties>(text).is_err(), "{text}");
        assert!(serde_json::from_str::<SystemMetadata>(text).is_err(), "{text}");
        assert!(
            matches!(Value::from_json(text), Err(nova_sysmeta::Error::InvalidJson { ref reason, .. })
                if reason.starts_with("lone surrogate")),
            "{text}"
        );
    }
}

/// Class 7: system metadata is a dict of nullable strings.
#[test]
fn system_metadata_values_may_be_null_and_flows_treat_them_as_nova_does() {
    // A context without names stores null names.
    let image = image_text(r#"{"properties": {"os_type": "linux"}}"#);
    let sm = create::populate(&create::Request::new(
        &image,
        "img",
        &RequestContext::new("u", "p"),
    ))
    .unwrap();
    assert_eq!(sm.get_nullable("owner_user_name"), Some(None));
    assert_eq!(
        serde_json::to_string(&sm).unwrap(),
        r#"{"image_os_type":"linux","image_base_image_ref":"img","owner_user_name":null,"owner_project_name":null}"#
    );
    // Reading an image back skips null values.
    let snap = snapshot::create_image(
        &snapshot::Request::new(&ctx(), &Instance::new(Uuid::nil(), "p"), &sm, "s"),
        ImageType::Snapshot,
    )
    .unwrap();
    assert!(!snap.properties.contains_key("owner_user_name"));
    // A null image_id at rebuild is stored as null, also when the image
    // has an id of its own (as in Nova's unit tests).
    for image in [r#"{"id": null}"#, r#"{"id": "img-own"}"#, "{}"] {
        let image: ImageMeta = serde_json::from_str(image).unwrap();
        let rebuilt = rebuild::reset_image_metadata(&rebuild::Request::new(&sm, &image, None)).unwrap();
        assert_eq!(rebuilt.get_nullable("image_base_image_ref"), Some(None));
    }
    // NULL rows read back as null entries; integers, floats and booleans
    // as their str(), as the field coerces metadata_to_dict's values.
    let read: Vec<rows::Row> = serde_json::from_str(
        r#"[{"key": "k", "value": null}, {"key": "i", "value": 512}, {"key": "b", "value": true},
            {"key": "f", "value": 1e16}]"#,
    )
    .unwrap();
    let map = rows::to_system_metadata(&read, false);
    assert_eq!(map.get_nullable("k"), Some(None));
    assert_eq!(map.get("i"), Some("512"));
    assert_eq!(map.get("b"), Some("True"));
    assert_eq!(map.get("f"), Some("1e+16"));
    assert!(serde_json::from_str::<rows::Row>(r#"{"key": "l", "value": [1]}"#).is_err());
    let read: SystemMetadata = serde_json::from_str(r#"{"a": 5, "b": null}"#).unwrap();
    assert_eq!(read.iter().collect::<Vec<_>>(), [("a", Some("5")), ("b", None)]);
    assert_eq!(to_str(&Value::from(5)), "5");
}

/// Depth: a value nested past the limit is a typed error, whatever the
/// depth, and never overflows the stack.
#[test]
fn deep_values_are_refused_at_the_documented_limit() {
    let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(50_000), "]".repeat(50_000));
    let err = serde_json::from_str::<Properties>(&deep).unwrap_err().to_string();
    assert!(err.contains("deeper than 1000"), "{err}");
    let mut value = Value::from(1);
    for _ in 0..nova_sysmeta::python::value::MAX_DEPTH + 1 {
        value = Value::List(vec![value]);
    }
    let mut props = Properties::new();
    assert_eq!(
        props.insert("a", value).unwrap_err(),
        nova_sysmeta::Error::TooDeep {
            limit: nova_sysmeta::python::value::MAX_DEPTH
        }
    );
    assert!(props.is_empty());
}

/// A Glance v2 image body cannot be read as Nova's dict by mistake: its
/// properties are top-level keys, so a rebuild from it would lose them.
#[test]
fn a_glance_body_is_refused_as_an_image_and_read_by_from_glance() {
    let body = r#"{"id": "i", "name": "n", "self": "/v2/images/i", "schema": "/v2/schemas/image",
                   "file": "/v2/images/i/file", "os_distro": "debian", "hw_rng_model": "virtio"}"#;
    let err = serde_json::from_str::<ImageMeta>(body).unwrap_err().to_string();
    assert!(err.contains("from_glance"), "{err}");
    let image = from_glance(&serde_json::from_str::<Dict>(body).unwrap()).unwrap();
    assert_eq!(image.properties.len(), 2);
    let sm = convert::system_metadata_from_image(&image, None).unwrap();
    assert_eq!(sm.get("image_os_distro"), Some("debian"));
}
