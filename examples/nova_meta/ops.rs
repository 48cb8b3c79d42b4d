//! One function per op of the JSON Lines contract.

use nova_sysmeta::{
    BackupImage, Flavor, ImageMeta, ImageType, Instance, MetadataRow, NovaConfig, Properties, RequestContext,
    SystemMetadata, Volume, backup_image_metadata, create_image_metadata, ensure_base_image_ref,
    finalize_snapshot_upload, from_glance, image_from_system_metadata, image_from_volume,
    initialize_snapshot_metadata, metadata_to_dict, populate_for_create, record_shelved, remove_shelved_keys,
    rotate_backups, shelve, snapshot_volume_backed, system_metadata_from_image, to_glance,
};
use nova_sysmeta::{
    BaseImageRefPolicy, ImageRecord, InstanceFacts, SnapshotProfile, audit, lineage, repair,
    reset_image_metadata_with_policy,
};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::request::{Failure, Request};

/// Every op, in the order of the contract's tables.
#[allow(dead_code)] // read by the fuzz targets and the robustness tests
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

/// The result line for one request line: `{"ok": ...}` or `{"error": ...}`,
/// as JSON text (without the newline).
pub fn answer_line(line: &[u8]) -> String {
    match dispatch(line) {
        Ok(result) => {
            let mut out = String::with_capacity(result.get().len() + 8);
            out.push_str("{\"ok\":");
            out.push_str(result.get());
            out.push('}');
            out
        }
        Err(failure) => failure.to_line(),
    }
}

/// [`answer_line`] read back as a JSON value.
#[allow(dead_code)] // read by the fuzz targets and the tests
pub fn answer(line: &[u8]) -> Value {
    let text = answer_line(line);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| json!({"error": {"kind": "internal", "message": e.to_string()}}))
}

/// Runs the op of the request on `line` and returns its `ok` result.
pub fn dispatch(line: &[u8]) -> Result<Answer, Failure> {
    let req = &mut Request::parse(line)?;
    let op: String = match req.optional("op") {
        Ok(Some(op)) => op,
        Ok(None) => return Err(Failure::new("missing_field", "field `op` is required")),
        Err(_) => return Err(Failure::new("invalid_value", "field `op` must be a string")),
    };
    match op.as_str() {
        "system_metadata_from_image" => system_metadata_from_image_op(req),
        "image_from_system_metadata" => image_from_system_metadata_op(req),
        "populate_for_create" => populate_for_create_op(req),
        "reset_image_metadata" => reset_image_metadata_op(req),
        "initialize_snapshot_metadata" => snapshot_op(req, None),
        "create_image" => {
            let image_type: ImageType = req.field("image_type")?;
            snapshot_op(req, Some(image_type))
        }
        "backup" => backup_op(req),
        "rotate_backups" => rotate_backups_op(req),
        "shelve" => shelve_op(req),
        "record_shelved" => record_shelved_op(req),
        "remove_shelved_keys" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            to_value(remove_shelved_keys(&sm))
        }
        "ensure_base_image_ref" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let image_ref: String = req.field("image_ref")?;
            to_value(ensure_base_image_ref(&sm, &image_ref)?)
        }
        "snapshot_volume_backed" => snapshot_volume_backed_op(req),
        "finalize_snapshot_upload" => finalize_snapshot_upload_op(req),
        "to_glance" => {
            let image: ImageMeta = req.field("image")?;
            to_value(to_glance(&image)?)
        }
        "from_glance" => {
            let body: Map<String, Value> = req.field("image")?;
            to_value(from_glance(&body)?)
        }
        "from_rows" => {
            let rows: Vec<MetadataRow> = req.field("rows")?;
            let include_deleted: bool = req.or_default("include_deleted")?;
            to_value(metadata_to_dict(&rows, include_deleted)?)
        }
        "image_from_volume" => {
            let volume: Volume = req.field("volume")?;
            to_value(image_from_volume(&volume)?)
        }
        "audit" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            to_value(json!({"findings": audit(&sm, &facts)}))
        }
        "repair" => {
            let sm: SystemMetadata = req.field("system_metadata")?;
            let facts: InstanceFacts = req.or_default("instance")?;
            to_value(repair(&sm, &facts))
        }
        "lineage" => {
            let instance: Value = req.field("instance")?;
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
            to_value(lineage(&image_ref, &images))
        }
        other => Err(Failure::new("unknown_op", format!("unknown op `{other}`"))),
    }
}

/// An op's result, serialized.
pub type Answer = Box<RawValue>;

fn to_value(result: impl Serialize) -> Result<Answer, Failure> {
    serde_json::value::to_raw_value(&result).map_err(|e| Failure::new("internal", e.to_string()))
}

fn system_metadata_from_image_op(req: &mut Request) -> Result<Answer, Failure> {
    let image: ImageMeta = req.field("image")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    to_value(system_metadata_from_image(&image, flavor.as_ref())?)
}

fn image_from_system_metadata_op(req: &mut Request) -> Result<Answer, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    to_value(image_from_system_metadata(&sm))
}

fn populate_for_create_op(req: &mut Request) -> Result<Answer, Failure> {
    let image: ImageMeta = req.field("image")?;
    let image_ref: String = req.field("image_ref")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let context: RequestContext = req.field("context")?;
    let existing: SystemMetadata = req.or_default("system_metadata")?;
    to_value(populate_for_create(
        &image,
        &image_ref,
        flavor.as_ref(),
        &context,
        &existing,
    )?)
}

fn reset_image_metadata_op(req: &mut Request) -> Result<Answer, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image: ImageMeta = req.field("image")?;
    let image_id: String = req.field("image_id")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    let policy: BaseImageRefPolicy = req.or_default("base_image_ref_policy")?;
    to_value(reset_image_metadata_with_policy(
        &sm,
        &image,
        &image_id,
        flavor.as_ref(),
        policy,
    )?)
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
    fn read(req: &mut Request) -> Result<Self, Failure> {
        Ok(Self {
            sm: req.field("system_metadata")?,
            instance: req.field("instance")?,
            context: req.field("context")?,
            name: req.field("name")?,
            extra: req.or_default("extra_properties")?,
            config: config(req)?,
        })
    }
}

fn snapshot_op(req: &mut Request, image_type: Option<ImageType>) -> Result<Answer, Failure> {
    let f = SnapshotFields::read(req)?;
    profiled(req, &f.sm, |sm| match image_type {
        Some(t) => create_image_metadata(&f.context, &f.instance, sm, &f.name, t, &f.extra, &f.config),
        None => initialize_snapshot_metadata(&f.context, &f.instance, sm, &f.name, &f.extra, &f.config),
    })
}

fn backup_op(req: &mut Request) -> Result<Answer, Failure> {
    let f = SnapshotFields::read(req)?;
    let backup_type: String = req.field("backup_type")?;
    profiled(req, &f.sm, |sm| {
        backup_image_metadata(
            &f.context,
            &f.instance,
            sm,
            &f.name,
            &backup_type,
            &f.extra,
            &f.config,
        )
    })
}

fn snapshot_volume_backed_op(req: &mut Request) -> Result<Answer, Failure> {
    let f = SnapshotFields::read(req)?;
    let mappings: Vec<Value> = req.or_default("image_mappings")?;
    to_value(snapshot_volume_backed(
        &f.context,
        &f.instance,
        &f.sm,
        &f.name,
        &f.extra,
        &mappings,
        &f.config,
    ))
}

/// `non_inheritable_image_properties`, when given, replaces Nova's default.
fn config(req: &mut Request) -> Result<NovaConfig, Failure> {
    Ok(match req.optional("non_inheritable_image_properties")? {
        Some(list) => NovaConfig {
            non_inheritable_image_properties: list,
        },
        None => NovaConfig::default(),
    })
}

fn rotate_backups_op(req: &mut Request) -> Result<Answer, Failure> {
    let instance_uuid: uuid::Uuid = req.field("instance_uuid")?;
    let backup_type: String = req.field("backup_type")?;
    let rotation: usize = req.field("rotation")?;
    let images: Vec<BackupImage> = req.field("images")?;
    to_value(json!({"delete": rotate_backups(&instance_uuid, &backup_type, rotation, &images)}))
}

fn shelve_op(req: &mut Request) -> Result<Answer, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let context: RequestContext = req.field("context")?;
    let volume_backed: bool = req.or_default("volume_backed")?;
    let profile = profile(req)?;
    let shelved = shelve(&context, &instance, &sm, volume_backed, &config(req)?, &profile)?;
    let withheld = shelved.withheld.clone();
    let mut out = serde_json::to_value(shelved).map_err(|e| Failure::new("internal", e.to_string()))?;
    if let (SnapshotProfile::Hardened { .. }, Value::Object(map)) = (&profile, &mut out) {
        map.insert("withheld".to_owned(), json!(withheld));
    }
    to_value(out)
}

fn record_shelved_op(req: &mut Request) -> Result<Answer, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image_id: String = req.field("image_id")?;
    let host: String = req.field("host")?;
    let shelved_at: String = req.field("shelved_at")?;
    to_value(record_shelved(&sm, &image_id, &host, &shelved_at)?)
}

fn finalize_snapshot_upload_op(req: &mut Request) -> Result<Answer, Failure> {
    let image: ImageMeta = req.field("image")?;
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let disk_format: String = req.field("disk_format")?;
    to_value(finalize_snapshot_upload(&image, &sm, &instance, &disk_format))
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
    sm: &SystemMetadata,
    make: impl FnOnce(&SystemMetadata) -> ImageMeta,
) -> Result<Answer, Failure> {
    let profile = profile(req)?;
    let view = profile.apply(sm);
    let image = make(&view.system_metadata);
    match profile {
        SnapshotProfile::Nova => to_value(image),
        SnapshotProfile::Hardened { .. } => to_value(json!({"image": image, "withheld": view.withheld})),
    }
}
