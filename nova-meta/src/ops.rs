//! One function per op of the JSON Lines contract.

use nova_sysmeta::audit::{Finding, InstanceFacts, audit, repair};
use nova_sysmeta::glance::{from_glance, to_glance};
use nova_sysmeta::lineage::{ImageRecord, lineage};
use nova_sysmeta::rows::{MetadataRow, system_metadata_from_rows};
use nova_sysmeta::value::Dict;
use nova_sysmeta::{
    BackupImage, BaseImageRefPolicy, Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties,
    RebuildOptions, Release, RequestContext, ShelveOptions, Shelved, SnapshotProfile, SnapshotRequest,
    SystemMetadata, Volume, backup_image_metadata, create_image_metadata, ensure_base_image_ref,
    finalize_snapshot_upload, image_from_system_metadata, image_from_volume, initialize_snapshot_metadata,
    populate_for_create, record_shelved, remove_shelved_keys, rotate_backups, shelve, shelved_image_name,
    snapshot_volume_backed, system_metadata_from_image,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::request::{Failure, Request};

/// Every op, in the order of the contract's tables.
pub const OPS: [&str; 21] = [
    "system_metadata_from_image",
    "image_from_system_metadata",
    "populate_for_create",
    "reset_image_metadata",
    "initialize_snapshot_metadata",
    "create_image",
    "backup",
    "rotate_backups",
    "shelve",
    "record_shelved",
    "remove_shelved_keys",
    "ensure_base_image_ref",
    "snapshot_volume_backed",
    "finalize_snapshot_upload",
    "to_glance",
    "from_glance",
    "from_rows",
    "image_from_volume",
    "audit",
    "repair",
    "lineage",
];

/// Appends the result line for one request line to `out`: `{"ok": ...}`
/// or `{"error": ...}`, as JSON text (without the newline). The result is
/// written straight into `out`; an error drops what was written of it.
pub fn write_answer(line: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let mut req = match Request::parse(line) {
        Ok(req) => req,
        Err(failure) => {
            out.extend_from_slice(failure.to_line(None).as_bytes());
            return;
        }
    };
    let id = req.id();
    if let Some(id) = id {
        out.extend_from_slice(b"{\"id\":");
        out.extend_from_slice(id.get().as_bytes());
        out.extend_from_slice(b",\"ok\":");
    } else {
        out.extend_from_slice(b"{\"ok\":");
    }
    match dispatch(&mut req, out).and_then(|()| req.finish()) {
        Ok(()) => out.push(b'}'),
        Err(failure) => {
            out.truncate(start);
            out.extend_from_slice(failure.to_line(id).as_bytes());
        }
    }
}

/// [`write_answer`] as a string of its own.
pub fn answer_line(line: &[u8]) -> String {
    let mut out = Vec::new();
    write_answer(line, &mut out);
    // serde_json writes UTF-8 only.
    String::from_utf8_lossy(&out).into_owned()
}

/// [`answer_line`] read back exactly, as the crate's own
/// [`nova_sysmeta::Value`]: an answer may hold what serde_json's `Value`
/// cannot (an integer of thousands of digits, `Infinity`), so reading it
/// with serde_json could fail on a correct answer.
///
/// # Errors
/// Only if `nova_meta` wrote a line that is not JSON, which is a bug.
///
/// ```
/// let big = "9".repeat(400);
/// let line = format!(r#"{{"op": "to_glance", "image": {{"owner": {big}}}}}"#);
/// let answer = nova_meta::ops::answer(line.as_bytes())?;
/// assert!(answer.python_str().contains(&big), "{}", answer.python_str());
/// # Ok::<(), nova_sysmeta::Error>(())
/// ```
pub fn answer(line: &[u8]) -> Result<nova_sysmeta::Value, nova_sysmeta::Error> {
    nova_sysmeta::Value::from_json(&answer_line(line))
}

/// Runs the op of `req` and appends its `ok` result to `out`; on an
/// error, `out` may hold part of a result.
pub fn dispatch(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let op: String = match req.optional("op") {
        Ok(Some(op)) => op,
        Ok(None) => return Err(Failure::new("missing_field", "field `op` is required")),
        Err(_) => return Err(Failure::new("invalid_value", "field `op` must be a string")),
    };
    // The Nova release whose behaviour to compute (34.0.0 by default).
    let release: Release = req.or_default("release")?;
    match op.as_str() {
        "system_metadata_from_image" => system_metadata_from_image_op(req, out),
        "image_from_system_metadata" => image_from_system_metadata_op(req, out),
        "populate_for_create" => populate_for_create_op(req, out),
        "reset_image_metadata" => reset_image_metadata_op(req, out, release),
        "initialize_snapshot_metadata" => snapshot_op(req, out, release, None),
        "create_image" => {
            let image_type: ImageType = req.field("image_type")?;
            snapshot_op(req, out, release, Some(image_type))
        }
        "backup" => backup_op(req, out, release),
        "rotate_backups" => rotate_backups_op(req, out),
        "shelve" => shelve_op(req, out, release),
        "record_shelved" => record_shelved_op(req, out),
        "remove_shelved_keys" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            emit(out, remove_shelved_keys(&sm))
        }
        "ensure_base_image_ref" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let image_ref: String = req.field("image_ref")?;
            emit(out, ensure_base_image_ref(&sm, &image_ref)?)
        }
        "snapshot_volume_backed" => snapshot_volume_backed_op(req, out, release),
        "finalize_snapshot_upload" => finalize_snapshot_upload_op(req, out, release),
        "to_glance" => {
            let image: ImageMeta = req.field("image")?;
            emit(out, to_glance(&image)?)
        }
        "from_glance" => {
            let body: Dict = req.field("image")?;
            emit(out, from_glance(&body)?)
        }
        "from_rows" => {
            let rows: Vec<MetadataRow> = req.field("rows")?;
            let include_deleted: bool = req.or_default("include_deleted")?;
            emit(out, system_metadata_from_rows(&rows, include_deleted))
        }
        "image_from_volume" => {
            let volume: Volume = req.field("volume")?;
            emit(out, image_from_volume(&volume)?)
        }
        "audit" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            emit(
                out,
                Findings {
                    findings: audit(&sm, &facts, &NovaConfig::for_release(release)),
                },
            )
        }
        "repair" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            emit(out, repair(&sm, &facts, &NovaConfig::for_release(release)))
        }
        "lineage" => {
            let instance: Value = req.field("instance")?;
            let Value::Object(instance) = instance else {
                return Err(Failure::new(
                    "invalid_value",
                    "field `instance`: expected an object",
                ));
            };
            let image_ref = match instance.get("image_ref") {
                Some(Value::String(r)) => r.clone(),
                Some(Value::Null) | None => String::new(),
                Some(_) => {
                    return Err(Failure::new(
                        "invalid_value",
                        "field `instance.image_ref` must be a string",
                    ));
                }
            };
            let images: Vec<ImageRecord> = req.field("images")?;
            emit(out, lineage(&image_ref, &images))
        }
        other => Err(Failure::new("unknown_op", format!("unknown op `{other}`"))),
    }
}

#[derive(Serialize)]
struct Findings {
    findings: Vec<Finding>,
}

/// A result of the hardened profile: the image and what it left out.
#[derive(Serialize)]
struct Profiled<'a, T: Serialize> {
    image: T,
    withheld: &'a [String],
}

/// Appends an op's result to `out`, as JSON text.
fn emit(out: &mut Vec<u8>, result: impl Serialize) -> Result<(), Failure> {
    serde_json::to_writer(out, &result).map_err(|e| Failure::new("internal", e.to_string()))
}

fn system_metadata_from_image_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    emit(out, system_metadata_from_image(&image, flavor.as_ref())?)
}

fn image_from_system_metadata_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    emit(out, image_from_system_metadata(&sm))
}

fn populate_for_create_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let image_ref: String = req.field("image_ref")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let context: RequestContext = req.field("context")?;
    let existing: SystemMetadata = req.or_default("system_metadata")?;
    emit(
        out,
        populate_for_create(&image, &image_ref, flavor.as_ref(), &context, &existing)?,
    )
}

fn reset_image_metadata_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let mut image: ImageMeta = req.field("image")?;
    // A null image_id is stored as Nova stores it: a null value. The
    // image's own id, when it has one, must be the same (Nova reads the
    // image by that id).
    let image_id: Option<String> = req.nullable("image_id")?;
    let image_id = nova_sysmeta::Value::from(image_id);
    match &image.id {
        Some(id) if *id != image_id => {
            return Err(Failure::new(
                "invalid_value",
                "field `image_id` disagrees with the image's `id`",
            ));
        }
        _ => image.id = Some(image_id),
    }
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let policy: BaseImageRefPolicy = req.or_default("base_image_ref_policy")?;
    let options = RebuildOptions {
        flavor: flavor.as_ref(),
        policy,
        release,
    };
    let rebuilt = nova_sysmeta::reset_image_metadata(&sm, &image, &options)?;
    // Nova's compute manager keeps the map as it was (`orig_sys_metadata`).
    #[derive(Serialize)]
    struct Rebuilt<'a> {
        system_metadata: &'a SystemMetadata,
        orig_system_metadata: &'a SystemMetadata,
    }
    emit(
        out,
        Rebuilt {
            system_metadata: &rebuilt,
            orig_system_metadata: &sm,
        },
    )
}

/// The fields every snapshot-making op reads.
struct SnapshotFields {
    sm: SystemMetadata,
    instance: Instance,
    context: RequestContext,
    name: String,
    extra: Properties,
    config: NovaConfig,
}

impl SnapshotFields {
    fn read(req: &mut Request, release: Release) -> Result<Self, Failure> {
        Ok(Self {
            sm: req.field("system_metadata")?,
            instance: req.field("instance")?,
            context: req.field("context")?,
            name: req.field("name")?,
            extra: req.or_default("extra_properties")?,
            config: config(req, release)?,
        })
    }

    /// The snapshot request, reading `sm` (the fields' map, or a view of it).
    fn request<'a>(&'a self, sm: &'a SystemMetadata) -> SnapshotRequest<'a> {
        SnapshotRequest::new(&self.context, &self.instance, sm, &self.name)
            .extra_properties(&self.extra)
            .config(&self.config)
    }
}

fn snapshot_op(
    req: &mut Request,
    out: &mut Vec<u8>,
    release: Release,
    image_type: Option<ImageType>,
) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    profiled(req, out, &f.sm, |sm| match image_type {
        Some(t) => create_image_metadata(&f.request(sm), t),
        None => initialize_snapshot_metadata(&f.request(sm)),
    })
}

fn backup_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    let backup_type: String = req.field("backup_type")?;
    profiled(req, out, &f.sm, |sm| {
        backup_image_metadata(&f.request(sm), &backup_type)
    })
}

fn snapshot_volume_backed_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let f = SnapshotFields::read(req, release)?;
    let mappings: Vec<nova_sysmeta::Value> = req.or_default("image_mappings")?;
    // The hardened profile too: Nova copies `password_0` into a
    // volume-backed snapshot as into any other.
    profiled(req, out, &f.sm, |sm| {
        snapshot_volume_backed(&f.request(sm), &mappings)
    })
}

/// The release with its defaults; `non_inheritable_image_properties`, when
/// given, replaces the release's default.
fn config(req: &mut Request, release: Release) -> Result<NovaConfig, Failure> {
    let config = NovaConfig::for_release(release);
    Ok(
        match req.optional::<Vec<String>>("non_inheritable_image_properties")? {
            Some(list) => config.with_non_inheritable_image_properties(list),
            None => config,
        },
    )
}

fn rotate_backups_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let instance_uuid: uuid::Uuid = req.field("instance_uuid")?;
    let backup_type: String = req.field("backup_type")?;
    let rotation: usize = req.field("rotation")?;
    let images: Vec<BackupImage> = req.field("images")?;
    emit(
        out,
        json!({"delete": rotate_backups(&instance_uuid, &backup_type, rotation, &images)}),
    )
}

fn shelve_op(req: &mut Request, out: &mut Vec<u8>, release: Release) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let context: RequestContext = req.field("context")?;
    let volume_backed: bool = req.or_default("volume_backed")?;
    let profile = profile(req)?;
    let config = config(req, release)?;
    let options = ShelveOptions {
        volume_backed,
        config: Some(&config),
    };
    let mut shelved = shelve(&context, &instance, &sm, &options)?;
    // The hardened profile: the snapshot reads the healed map's view.
    let mut withheld = None;
    if let (SnapshotProfile::Hardened { .. }, Some(image)) = (&profile, &mut shelved.image) {
        let view = profile.apply(&shelved.system_metadata);
        let name = shelved_image_name(&instance);
        let request = SnapshotRequest::new(&context, &instance, &view.system_metadata, &name).config(&config);
        *image = create_image_metadata(&request, ImageType::Snapshot);
        withheld = Some(view.withheld);
    } else if matches!(profile, SnapshotProfile::Hardened { .. }) {
        withheld = Some(Vec::new());
    }
    #[derive(Serialize)]
    struct Shelved<'a> {
        system_metadata: &'a SystemMetadata,
        image: &'a Option<ImageMeta>,
        #[serde(skip_serializing_if = "Option::is_none")]
        withheld: Option<&'a [String]>,
    }
    emit(
        out,
        Shelved {
            system_metadata: &shelved.system_metadata,
            image: &shelved.image,
            withheld: withheld.as_deref(),
        },
    )
}

fn record_shelved_op(req: &mut Request, out: &mut Vec<u8>) -> Result<(), Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image_id: String = req.field("image_id")?;
    let host: String = req.field("host")?;
    let shelved_at: String = req.field("shelved_at")?;
    let shelved = Shelved {
        shelved_at: &shelved_at,
        image_id: &image_id,
        host: &host,
    };
    emit(out, record_shelved(&sm, &shelved)?)
}

fn finalize_snapshot_upload_op(
    req: &mut Request,
    out: &mut Vec<u8>,
    release: Release,
) -> Result<(), Failure> {
    let image: ImageMeta = req.field("image")?;
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let disk_format: String = req.field("disk_format")?;
    emit(
        out,
        finalize_snapshot_upload(&image, &sm, &instance, &disk_format, release)?,
    )
}

/// The snapshot profile: `profile` (`nova` or `hardened`) and `allow`.
fn profile(req: &mut Request) -> Result<SnapshotProfile, Failure> {
    let name: Option<String> = req.optional("profile")?;
    let allow: Vec<String> = req.or_default("allow")?;
    match name.as_deref() {
        None | Some("nova") => Ok(SnapshotProfile::Nova),
        Some("hardened") => Ok(SnapshotProfile::Hardened { allow }),
        Some(other) => Err(Failure::new(
            "invalid_value",
            format!("field `profile`: expected nova or hardened, found {other:?}"),
        )),
    }
}

/// Runs a snapshot-making op on the view of `sm` the profile allows; with
/// `hardened`, the result is `{image, withheld}`.
fn profiled(
    req: &mut Request,
    out: &mut Vec<u8>,
    sm: &SystemMetadata,
    make: impl FnOnce(&SystemMetadata) -> ImageMeta,
) -> Result<(), Failure> {
    let profile = profile(req)?;
    let view = profile.apply(sm);
    let image = make(&view.system_metadata);
    match profile {
        SnapshotProfile::Nova => emit(out, image),
        SnapshotProfile::Hardened { .. } => emit(
            out,
            Profiled {
                image,
                withheld: &view.withheld,
            },
        ),
    }
}
