//! The story behind this crate, step by step: create a server from a
//! Windows image A, rebuild it to a Linux image B, snapshot it, and see what
//! the snapshot says about its origin, with Nova's fix for bug 1893618 and
//! without it; then audit and repair the damaged instance.
//!
//! ```text
//! cargo run --example rebuild_story
//! ```

use nova_sysmeta::audit::{InstanceFacts, Severity, audit, repair};
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, RebuildOptions, Release, RequestContext,
    SnapshotRequest, SystemMetadata, create_image_metadata, populate_for_create, reset_image_metadata,
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
    let created = populate_for_create(
        &image_a,
        "aaaaaaaa-0000-4000-8000-00000000000a",
        Some(&flavor),
        &ctx,
        &SystemMetadata::new(),
    )?;
    show(&created);

    println!("\n2. rebuild to image B (Linux)");
    let options = RebuildOptions {
        flavor: Some(&flavor),
        ..RebuildOptions::default()
    };
    let rebuilt = reset_image_metadata(&created, &image_b, &options)?;
    show(&rebuilt);

    println!("\n3. snapshot");
    let request = SnapshotRequest::new(&ctx, &instance, &rebuilt, "after-rebuild");
    let snap = create_image_metadata(&request, ImageType::Snapshot);
    println!("{}", serde_json::to_string_pretty(&snap)?);

    println!("\nBefore the fix (Nova Pike, 16.1.8), nothing put it back:");
    let pike: Release = "16.1.8".parse()?;
    let old = RebuildOptions {
        release: pike,
        ..options
    };
    let damaged = reset_image_metadata(&created, &image_b, &old)?;
    let pike_config = NovaConfig::for_release(pike);
    let request = SnapshotRequest::new(&ctx, &instance, &damaged, "after-rebuild").config(&pike_config);
    let snap = create_image_metadata(&request, ImageType::Snapshot);
    println!(
        "base_image_ref in the snapshot: {:?}",
        snap.properties.get("base_image_ref")
    );

    println!("\nWhat an audit says of that instance, and what repair sets (as Nova's resize would):");
    let facts = InstanceFacts::new()
        .with_image_ref("bbbbbbbb-0000-4000-8000-00000000000b")
        .with_release_history([pike, Release::LATEST]);
    for finding in audit(&damaged, &facts, &NovaConfig::default())
        .iter()
        .filter(|f| f.severity == Severity::Error)
    {
        println!("   {}: {}", finding.kind, finding.message);
    }
    for change in repair(&damaged, &facts, &NovaConfig::default()).changes {
        println!("   set {} = {:?}", change.key, change.new.unwrap_or_default());
    }
    Ok(())
}

fn show(sm: &SystemMetadata) {
    for (k, v) in sm.iter() {
        println!("   {k} = {}", v.unwrap_or("(null)"));
    }
}
