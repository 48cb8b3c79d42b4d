//! One function per op of the JSON Lines contract.

use nova_sysmeta::{
    Flavor, ImageMeta, ImageType, Instance, NovaConfig, Properties, RequestContext, SystemMetadata,
    create_image_metadata, image_from_system_metadata, initialize_snapshot_metadata, populate_for_create,
    reset_image_metadata, system_metadata_from_image,
};
use serde::Serialize;
use serde_json::Value;

use crate::request::{Failure, Request};

/// Runs the request's op and returns its `ok` result.
pub fn dispatch(request: &Value) -> Result<Value, Failure> {
    let Value::Object(fields) = request else {
        return Err(Failure::new("invalid_request", "a request must be a JSON object"));
    };
    let op = match fields.get("op") {
        Some(Value::String(op)) => op.as_str(),
        Some(_) => return Err(Failure::new("invalid_value", "field `op` must be a string")),
        None => return Err(Failure::new("missing_field", "field `op` is required")),
    };
    let req = Request::new(fields);
    match op {
        "system_metadata_from_image" => system_metadata_from_image_op(&req),
        "image_from_system_metadata" => image_from_system_metadata_op(&req),
        "populate_for_create" => populate_for_create_op(&req),
        "reset_image_metadata" => reset_image_metadata_op(&req),
        "initialize_snapshot_metadata" => snapshot_op(&req, None),
        "create_image" => {
            let image_type: ImageType = req.field("image_type")?;
            snapshot_op(&req, Some(image_type))
        }
        other => Err(Failure::new("unknown_op", format!("unknown op `{other}`"))),
    }
}

fn to_value(result: impl Serialize) -> Result<Value, Failure> {
    serde_json::to_value(result).map_err(|e| Failure::new("internal", e.to_string()))
}

fn system_metadata_from_image_op(req: &Request) -> Result<Value, Failure> {
    let image: ImageMeta = req.field("image")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    to_value(system_metadata_from_image(&image, flavor.as_ref())?)
}

fn image_from_system_metadata_op(req: &Request) -> Result<Value, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    to_value(image_from_system_metadata(&sm))
}

fn populate_for_create_op(req: &Request) -> Result<Value, Failure> {
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

fn reset_image_metadata_op(req: &Request) -> Result<Value, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let image: ImageMeta = req.field("image")?;
    let image_id: String = req.field("image_id")?;
    let flavor: Option<Flavor> = req.optional("flavor")?;
    to_value(reset_image_metadata(&sm, &image, &image_id, flavor.as_ref())?)
}

fn snapshot_op(req: &Request, image_type: Option<ImageType>) -> Result<Value, Failure> {
    let sm: SystemMetadata = req.field("system_metadata")?;
    let instance: Instance = req.field("instance")?;
    let context: RequestContext = req.field("context")?;
    let name: String = req.field("name")?;
    let extra: Properties = req.or_default("extra_properties")?;
    let config = match req.optional("non_inheritable_image_properties")? {
        Some(list) => NovaConfig {
            non_inheritable_image_properties: list,
        },
        None => NovaConfig::default(),
    };
    let image = match image_type {
        Some(t) => create_image_metadata(&context, &instance, &sm, &name, t, &extra, &config),
        None => initialize_snapshot_metadata(&context, &instance, &sm, &name, &extra, &config),
    };
    to_value(image)
}
