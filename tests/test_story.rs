//! The mission's story: create from A (Windows), rebuild to B (Linux),
//! snapshot. The snapshot descends from B and carries nothing of A.

mod common;

use common::{image, rebuild};
use nova_sysmeta::{Flavor, ImageType, Instance, RequestContext, convert, create, snapshot};
use serde_json::json;
use uuid::Uuid;

const A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
const B: &str = "bbbbbbbb-0000-4000-8000-00000000000b";

#[test]
fn snapshot_after_rebuild_descends_from_the_rebuild_image_and_forgets_the_first() {
    let image_a = image(json!({
        "id": A, "min_ram": 2048, "min_disk": 40, "disk_format": "qcow2", "container_format": "bare",
        "properties": {"os_type": "windows", "hw_firmware_type": "uefi", "os_secure_boot": "required"},
    }));
    let image_b = image(json!({
        "id": B, "min_disk": 10, "disk_format": "raw",
        "properties": {"os_type": "linux", "os_distro": "debian"},
    }));
    let ctx = RequestContext::new("user-1", "project-1").with_names("alice", "demo");
    let instance = Instance::new(Uuid::from_u128(42), "project-1");
    let flavor = Flavor::new(20);

    let created = create::populate(&create::Request::new(&image_a, A, &ctx).flavor(&flavor)).unwrap();
    assert_eq!(created.get("image_base_image_ref"), Some(A));
    assert_eq!(created.get("image_os_type"), Some("windows"));

    let sm = rebuild(&created, &image_b, B, Some(&flavor)).unwrap();

    // Nothing of A's image metadata survives: every image_ key is B's.
    let from_b = convert::system_metadata_from_image(&image_b, Some(&flavor)).unwrap();
    for (k, v) in sm.image_entries() {
        if k != "image_base_image_ref" {
            assert_eq!(from_b.get_nullable(k), Some(v), "{k} does not come from B");
        }
    }
    assert_eq!(sm.get("image_min_ram"), None);

    let snap = snapshot::create_image(
        &snapshot::Request::new(&ctx, &instance, &sm, "snap"),
        ImageType::Snapshot,
    )
    .unwrap();
    assert_eq!(snap.properties.get("base_image_ref").unwrap(), B);
    assert_eq!(snap.properties.get("image_type").unwrap(), "snapshot");
    assert_eq!(
        snap.properties.get("instance_uuid").unwrap(),
        instance.uuid.to_string()
    );
    assert_eq!(snap.properties.get("os_type").unwrap(), "linux");
    for gone in ["hw_firmware_type", "os_secure_boot"] {
        assert!(!snap.properties.contains_key(gone), "{gone} of image A leaked");
    }
    assert_eq!(snap.min_ram, None);
    assert_eq!(snap.disk_format, None, "snapshots leave formats to the driver");
}
