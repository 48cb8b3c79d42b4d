//! `system_metadata_from_image` and `image_from_system_metadata`.

mod common;

use common::{entries, image, image_text, sm};
use nova_sysmeta::{Error, Flavor, Value, convert};
use serde_json::json;

#[test]
fn properties_are_prefixed_in_order_then_inheritable_attributes_follow() {
    let img = image_text(
        r#"{"container_format": "bare", "disk_format": "qcow2", "min_disk": 5, "min_ram": 256,
            "properties": {"b": "2", "a": "1"}}"#,
    );
    let out = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(
        entries(&out),
        [
            ("image_b", "2"),
            ("image_a", "1"),
            ("image_min_ram", "256"),
            ("image_min_disk", "5"),
            ("image_disk_format", "qcow2"),
            ("image_container_format", "bare"),
        ]
    );
}

#[test]
fn skip_keys_are_never_stored() {
    let img = image(json!({"properties": {
        "mappings": [], "block_device_mapping": [], "img_mappings": [], "img_block_device_mapping": [],
        "image_mappings": "kept: only the bare names are skipped",
    }}));
    let out = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(
        entries(&out),
        [("image_image_mappings", "kept: only the bare names are skipped")]
    );
}

#[test]
fn non_string_values_are_stored_as_python_prints_them() {
    let img = image_text(
        r#"{"properties": {
            "t": true, "f": false, "n": null, "i": -3, "x": 1.0, "big": 1e16, "small": 0.00001,
            "l": [1, "a", null], "d": {"k": [true, 2.5]}}}"#,
    );
    let out = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(
        entries(&out),
        [
            ("image_t", "True"),
            ("image_f", "False"),
            ("image_n", "None"),
            ("image_i", "-3"),
            ("image_x", "1.0"),
            ("image_big", "1e+16"),
            ("image_small", "1e-05"),
            ("image_l", "[1, 'a', None]"),
            ("image_d", "{'k': [True, 2.5]}"),
        ]
    );
}

#[test]
fn long_property_values_are_cut_to_255_bytes_on_a_character_boundary() {
    for (ch, width) in [('é', 2), ('€', 3), ('😀', 4)] {
        for offset in 0..width {
            // The multi-byte character starts `offset` bytes before byte 255.
            let value = format!("{}{}", "a".repeat(255 - offset), ch.to_string().repeat(3));
            let img = image(json!({"properties": {"p": value}}));
            let out = convert::system_metadata_from_image(&img, None).unwrap();
            // Every cut lands inside the character, which is dropped whole.
            assert_eq!(
                out.get("image_p"),
                Some("a".repeat(255 - offset).as_str()),
                "{ch} at {offset}"
            );
        }
        // A character that ends exactly at byte 255 is kept.
        let value = format!("{}{}", "a".repeat(255 - width), ch.to_string().repeat(3));
        let out =
            convert::system_metadata_from_image(&image(json!({"properties": {"p": value}})), None).unwrap();
        assert_eq!(
            out.get("image_p"),
            Some(format!("{}{ch}", "a".repeat(255 - width)).as_str())
        );
    }
}

#[test]
fn inheritable_values_are_neither_stringified_by_python_nor_truncated() {
    let img = image(json!({"min_ram": "512", "disk_format": "d".repeat(200)}));
    let out = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(out.get("image_min_ram"), Some("512"));
    assert_eq!(out.get("image_disk_format").map(str::len), Some(200));
}

#[test]
fn null_inheritable_attributes_are_not_stored() {
    let img = image(json!({"min_ram": null, "disk_format": null, "properties": {}}));
    assert!(
        convert::system_metadata_from_image(&img, None)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn property_named_like_an_inheritable_key_is_overwritten_in_place_by_the_attribute() {
    let img = image(json!({"min_ram": 64, "properties": {"min_ram": "from-props", "z": 1}}));
    let out = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(entries(&out), [("image_min_ram", "64"), ("image_z", "1")]);
}

#[test]
fn flavor_raises_min_disk_to_root_gb() {
    let flavor = Flavor::new(20);
    let cases = [
        (json!(null), "20"),
        (json!(10), "20"),
        (json!(40), "40"),
        (json!(0), "20"),
        (json!(-5), "20"),
        (json!(""), "20"),
    ];
    for (min_disk, want) in cases {
        let img = image(json!({"min_disk": min_disk, "disk_format": "qcow2"}));
        let out = convert::system_metadata_from_image(&img, Some(&flavor)).unwrap();
        assert_eq!(out.get("image_min_disk"), Some(want), "min_disk {min_disk}");
    }
}

#[test]
fn vhd_images_take_root_gb_even_when_min_disk_is_larger() {
    let img = image(json!({"min_disk": 80, "disk_format": "vhd"}));
    let out = convert::system_metadata_from_image(&img, Some(&Flavor::new(20))).unwrap();
    assert_eq!(out.get("image_min_disk"), Some("20"));
}

#[test]
fn string_min_disk_with_a_flavor_is_a_typed_error_naming_the_key() {
    let img = image(json!({"min_disk": "10"}));
    let err = convert::system_metadata_from_image(&img, Some(&Flavor::new(20))).unwrap_err();
    assert_eq!(
        err,
        Error::NotAnInteger {
            key: "min_disk".into(),
            found: "'10'".into()
        }
    );
    // Without a flavor Nova stores it as it is.
    assert_eq!(
        convert::system_metadata_from_image(&img, None)
            .unwrap()
            .get("image_min_disk"),
        Some("10")
    );
}

#[test]
fn a_float_min_ram_is_stored_as_python_prints_it() {
    // Nova stores the value as it is; the database stores its str().
    let img = image(json!({"min_ram": 1.5, "disk_format": 5}));
    let sm = convert::system_metadata_from_image(&img, None).unwrap();
    assert_eq!(sm.get("image_min_ram"), Some("1.5"));
    assert_eq!(sm.get("image_disk_format"), Some("5"));
}

#[test]
fn over_long_keys_and_empty_keys_are_refused() {
    let fits = "k".repeat(249);
    assert!(convert::system_metadata_from_image(&image(json!({"properties": {fits: 1}})), None).is_ok());
    let long = "k".repeat(250);
    let err = convert::system_metadata_from_image(&image(json!({"properties": {long.clone(): 1}})), None)
        .unwrap_err();
    assert_eq!(
        err,
        Error::KeyTooLong {
            key: format!("image_{long}"),
            chars: 256
        }
    );
    let err = convert::system_metadata_from_image(&image(json!({"properties": {"": 1}})), None).unwrap_err();
    assert_eq!(err.kind(), "empty_key");
}

#[test]
fn over_long_inheritable_value_is_refused_not_cut() {
    let img = image(json!({"container_format": "c".repeat(256)}));
    let err = convert::system_metadata_from_image(&img, None).unwrap_err();
    assert_eq!(
        err,
        Error::ValueTooLong {
            key: "image_container_format".into(),
            chars: 256
        }
    );
}

#[test]
fn reading_back_strips_the_prefix_only_when_present() {
    let meta = sm(&[
        ("image_min_ram", "512"),
        ("image_os_type", "linux"),
        ("owner_user_name", "alice"),
        ("password_0", "secret"),
        ("disk_format", "raw"),
    ]);
    let img = convert::image_from_system_metadata(&meta);
    assert_eq!(img.min_ram, Some(Value::from("512")));
    assert_eq!(img.disk_format.as_ref().and_then(|v| v.as_str()), Some("raw"));
    assert_eq!(
        serde_json::to_value(&img.properties).unwrap(),
        json!({"os_type": "linux", "owner_user_name": "alice", "password_0": "secret"})
    );
}

#[test]
fn reading_back_skips_skip_keys_with_and_without_prefix() {
    let meta = sm(&[
        ("image_mappings", "x"),
        ("block_device_mapping", "y"),
        ("image_img_mappings", "z"),
    ]);
    let img = convert::image_from_system_metadata(&meta);
    assert!(img.properties.is_empty());
}

#[test]
fn keys_differing_only_in_prefix_collapse_with_the_later_value_at_the_first_position() {
    let meta = sm(&[("image_foo", "first"), ("bar", "b"), ("foo", "second")]);
    let img = convert::image_from_system_metadata(&meta);
    assert_eq!(
        serde_json::to_string(&img.properties).unwrap(),
        r#"{"foo":"second","bar":"b"}"#
    );
}

#[test]
fn reading_back_always_has_properties() {
    let img = convert::image_from_system_metadata(&sm(&[]));
    assert_eq!(serde_json::to_value(&img).unwrap(), json!({"properties": {}}));
}

#[test]
fn other_attributes_named_like_typed_ones_are_left_out_when_serializing() {
    let mut img = image(json!({"id": "real", "status": "active", "min_ram": 5}));
    img.other
        .insert("min_ram".into(), nova_sysmeta::Value::from("shadow"));
    img.other
        .insert("properties".into(), nova_sysmeta::Value::from(1));
    let want = json!({"min_ram": 5, "id": "real", "status": "active", "properties": {}});
    assert_eq!(serde_json::to_value(&img).unwrap(), want);
    assert_eq!(serde_json::to_value(img.to_dict()).unwrap(), want);
}
