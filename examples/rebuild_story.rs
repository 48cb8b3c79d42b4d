//! The story behind this crate, step by step: create a server from a
//! Windows image A, rebuild it to a Linux image B, snapshot it, and see what
//! the snapshot says about its origin, with Nova's fix for bug 1893618 and
//! without it; then audit and repair the damaged instance.
//!
//! ```text
//! cargo run --example rebuild_story
//! ```

use nova_sysmeta::audit::{self, InstanceFacts, Severity};
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Release, RequestContext, SystemMetadata, create,
    rebuild, snapshot,
};
use serde_json::json;
use uuid::Uuid;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image_a: ImageMeta = serde_json::from_value(json!({
        "id": "aaaaaaaa-0000-4000-8000-00000000000a",
        "min_disk": 40, "disk_format": "qcow2", "container_format": "bare",
        "properties": {"os_type": "windows", "hw_firmware_type": "uefi", "cache_in_nova": true},
    }))?;
    let image_b: ImageMeta = serde_json::from_value(json!({
        "id": "bbbbbbbb-0000-4000-8000-00000000000b",
        "min_disk": 10, "disk_format": "raw", "container_format": "bare",
        "properties": {"os_type": "linux", "os_distro": "debian"},
    }))?;
    let ctx = RequestContext::new("user-1", "project-1").with_names("alice", "demo");
    let instance = Instance::new(
        Uuid::parse_str("11111111-2222-4333-8444-555555555555")?,
        "project-1",
    );
    let flavor = Flavor::new(20);

    println!("1. create from image A (Windows)");
    let created = create::populate(
        &create::Request::new(&image_a, "aaaaaaaa-0000-4000-8000-00000000000a", &ctx).flavor(&flavor),
    )?;
    show(&created);

    println!("\n2. rebuild to image B (Linux)");
    let request = rebuild::Request::new(&created, &image_b, image_b.id()).flavor(&flavor);
    let rebuilt = rebuild::reset_image_metadata(&request)?;
    show(&rebuilt);

    println!("\n3. snapshot");
    let snap = snapshot::create_image(
        &snapshot::Request::new(&ctx, &instance, &rebuilt, "after-rebuild"),
        ImageType::Snapshot,
    )?;
    println!("{}", serde_json::to_string_pretty(&snap)?);

    println!("\nBefore the fix (Nova Pike, 16.1.8), nothing put it back:");
    let pike: Release = "16.1.8".parse()?;
    let pike_config = NovaConfig::for_release(pike);
    let damaged = rebuild::reset_image_metadata(&request.config(&pike_config))?;
    let request = snapshot::Request::new(&ctx, &instance, &damaged, "after-rebuild").config(&pike_config);
    let snap = snapshot::create_image(&request, ImageType::Snapshot)?;
    println!("base_image_ref in the snapshot: {:?}", snap.base_image_ref());

    println!("\nWhat an audit says of that instance, and what repair sets (as Nova's resize would):");
    let facts = InstanceFacts::new()
        .with_image_ref("bbbbbbbb-0000-4000-8000-00000000000b")
        .with_release_history([pike, Release::LATEST]);
    for finding in audit::findings(&damaged, &facts, &NovaConfig::default())
        .iter()
        .filter(|f| f.severity == Severity::Error)
    {
        println!("   {}: {}", finding.kind, finding.message);
    }
    for change in audit::repair(&damaged, &facts, &NovaConfig::default()).changes {
        println!("   set {} = {:?}", change.key, change.new.unwrap_or_default());
    }
    Ok(())
}

fn show(sm: &SystemMetadata) {
    for (k, v) in sm.iter() {
        println!("   {k} = {}", v.unwrap_or("(null)"));
    }
}
