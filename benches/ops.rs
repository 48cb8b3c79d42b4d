//! Criterion benchmarks: every core op at 10, 50 and 500 image properties,
//! beside the clone of its input map (the floor: a pure function must build
//! its output map), and a scale group up to 10,000 properties.
//!
//! The typed ops (`objects`) read the same maps with 16 typed properties
//! added (`TYPED`, also in `scripts/bench_nova.py`): each kind of field,
//! a legacy name, a trait and two NUMA cells.
//!
//! `scripts/bench` runs this and prints the ratios (op / clone, and Nova /
//! crate). Inputs follow one recipe, shared with `scripts/bench_nova.py`:
//! property `i` is named `prop_{i:05}` and holds, by `i % 4`, a 28-byte
//! string, the integer `i`, a boolean, or a string of 12 `é`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nova_sysmeta::convert::system_metadata_from_image;
use nova_sysmeta::profile::SnapshotProfile;
use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata, Value,
    create, objects, rebuild, snapshot,
};
use uuid::Uuid;

fn image(n: usize) -> ImageMeta {
    let properties = Properties::try_from_iter((0..n).map(|i| {
        let value = match i % 4 {
            0 => Value::from(format!("value-{i:05}-xxxxxxxxxxxxxxxx")),
            1 => Value::from(i as u64),
            2 => Value::from(i % 8 == 2),
            _ => Value::from("é".repeat(12)),
        };
        (format!("prop_{i:05}"), value)
    }))
    .expect("flat values");
    let mut image = ImageMeta::new()
        .with_id("bbbbbbbb-0000-4000-8000-00000000000b")
        .with_properties(properties);
    image.min_ram = Some(Value::from(512));
    image.min_disk = Some(Value::from(10));
    image.disk_format = Some("qcow2".into());
    image.container_format = Some("bare".into());
    image
}

/// The typed properties added for the typed ops (kept in step with
/// `TYPED` in `scripts/bench_nova.py`).
const TYPED: [(&str, &str); 16] = [
    ("hw_disk_bus", "virtio"),
    ("hw_scsi_model", "virtio-scsi"),
    ("hw_vif_model", "e1000"),
    ("hw_qemu_guest_agent", "yes"),
    ("hw_cpu_cores", "4"),
    ("hw_cpu_policy", "dedicated"),
    ("hw_numa_nodes", "2"),
    ("hw_numa_cpus.0", "0-3"),
    ("hw_numa_cpus.1", "4-7,^6"),
    ("hw_numa_mem.0", "1024"),
    ("hw_numa_mem.1", "1024"),
    ("os_type", "Linux"),
    ("architecture", "amd64"),
    ("img_hv_requested_version", ">=6.0,<10"),
    ("hw_firmware_type", "uefi"),
    ("trait:HW_CPU_X86_AVX2", "required"),
];

fn typed(f: &Fixture) -> (Properties, SystemMetadata) {
    let mut props = f.image.properties.clone();
    let mut sm = f.sysmeta.clone();
    for (k, v) in TYPED {
        props.insert(k, v).expect("a string");
        sm.insert(format!("image_{k}").as_str(), Some(v));
    }
    (props, sm)
}

fn rebuild_request<'a>(f: &'a Fixture, sysmeta: &'a SystemMetadata) -> rebuild::Request<'a> {
    rebuild::Request::new(sysmeta, &f.image, f.image.id()).flavor(&f.flavor)
}

struct Fixture {
    image: ImageMeta,
    sysmeta: SystemMetadata,
    ctx: RequestContext,
    instance: Instance,
    flavor: Flavor,
}

fn fixture(n: usize) -> Fixture {
    let ctx = RequestContext::new("user-1", "project-1").with_names("alice", "demo");
    let flavor = Flavor::new(20);
    let image = image(n);
    let sysmeta = create::populate(&create::Request::new(&image, "aaaa", &ctx).flavor(&flavor)).unwrap();
    Fixture {
        image,
        sysmeta,
        ctx,
        instance: Instance::new(Uuid::from_u128(1), "project-1"),
        flavor,
    }
}

fn core_ops(c: &mut Criterion) {
    let config = NovaConfig::default();
    let extra = Properties::new();
    for n in [10, 50, 500] {
        let f = fixture(n);
        let mut g = c.benchmark_group(format!("core/{n}"));
        g.bench_function("clone_properties", |b| {
            b.iter(|| black_box(&f.image.properties).clone())
        });
        g.bench_function("clone_sysmeta", |b| b.iter(|| black_box(&f.sysmeta).clone()));
        g.bench_function("system_metadata_from_image", |b| {
            b.iter(|| system_metadata_from_image(black_box(&f.image), Some(&f.flavor)).unwrap())
        });
        g.bench_function("populate_for_create", |b| {
            b.iter(|| {
                create::populate(&create::Request::new(black_box(&f.image), "aaaa", &f.ctx).flavor(&f.flavor))
                    .unwrap()
            })
        });
        g.bench_function("reset_image_metadata", |b| {
            b.iter(|| rebuild::reset_image_metadata(&rebuild_request(&f, black_box(&f.sysmeta))).unwrap())
        });
        g.bench_function("initialize_snapshot_metadata", |b| {
            b.iter(|| {
                snapshot::initialize_metadata(
                    &snapshot::Request::new(&f.ctx, &f.instance, black_box(&f.sysmeta), "snap")
                        .extra_properties(&extra)
                        .config(&config),
                )
            })
        });
        g.bench_function("create_image_metadata", |b| {
            b.iter(|| {
                snapshot::create_image(
                    &snapshot::Request::new(&f.ctx, &f.instance, black_box(&f.sysmeta), "snap")
                        .extra_properties(&extra)
                        .config(&config),
                    ImageType::Snapshot,
                )
            })
        });
        let (props, sm) = typed(&f);
        g.bench_function("image_meta_props", |b| {
            b.iter(|| objects::image_meta_props(&objects::PropsRequest::new(black_box(&props))).unwrap())
        });
        g.bench_function("image_meta_from_system_metadata", |b| {
            b.iter(|| {
                objects::image_meta_from_system_metadata(&objects::MetaRequest::new(black_box(&sm))).unwrap()
            })
        });
        g.finish();
    }
}

fn scale(c: &mut Criterion) {
    let config = NovaConfig::default();
    let extra = Properties::new();
    let mut g = c.benchmark_group("scale");
    for n in [100, 1_000, 10_000] {
        let f = fixture(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("reset_image_metadata", n), &f, |b, f| {
            b.iter(|| rebuild::reset_image_metadata(&rebuild_request(f, &f.sysmeta)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("create_image_metadata", n), &f, |b, f| {
            b.iter(|| {
                snapshot::create_image(
                    &snapshot::Request::new(&f.ctx, &f.instance, &f.sysmeta, "s")
                        .extra_properties(&extra)
                        .config(&config),
                    ImageType::Snapshot,
                )
            })
        });
    }
    g.finish();
}

/// Request-sized lists asked about every key: 100,000 configured
/// non-inheritable names against 100,000 keys, and a hardened profile's
/// 100,000 allowed names. Each key costs the same whatever the list's
/// length (these took minutes when the lists were scanned per key).
fn large_lists(c: &mut Criterion) {
    const N: usize = 100_000;
    let ctx = RequestContext::new("user-1", "project-1");
    let instance = Instance::new(Uuid::from_u128(1), "project-1");
    let extra = Properties::new();
    let image_keys: SystemMetadata = (0..N).map(|i| (format!("image_k{i}"), "v")).collect();
    let config =
        NovaConfig::default().with_non_inheritable_image_properties((0..N).map(|i| format!("k{}", 2 * i)));
    let plain_keys: SystemMetadata = (0..N).map(|i| (format!("x{i}"), "v")).collect();
    let profile = SnapshotProfile::Hardened {
        allow: (0..N).map(|i| format!("x{i}")).collect(),
    };
    let mut g = c.benchmark_group("large_lists");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("non_inheritable_100k", |b| {
        b.iter(|| {
            snapshot::initialize_metadata(
                &snapshot::Request::new(&ctx, &instance, black_box(&image_keys), "s")
                    .extra_properties(&extra)
                    .config(&config),
            )
        })
    });
    g.bench_function("hardened_allow_100k", |b| {
        b.iter(|| profile.apply(black_box(&plain_keys)))
    });
    g.finish();
}

criterion_group!(benches, core_ops, scale, large_lists);
criterion_main!(benches);
