//! Glance through its v2 API, with the credentials operators already hold
//! (`openstack_sdk`: clouds.yaml and `OS_CLOUD`, or the `OS_*` variables;
//! Keystone v3 password or application credential; the catalog's `image`
//! endpoint for the configured interface and region).
//!
//! Only what the image repair needs: listing with server-side filters and
//! `limit`/`marker` paging, reading one image, and JSON Patch `add` and
//! `remove` of one property. Nothing here reads Glance's database.

use std::borrow::Cow;

use openstack_sdk::OpenStack;
use openstack_sdk::api::rest_endpoint_prelude::*;
use openstack_sdk::api::{ApiError, Query};
use openstack_sdk::config::{CloudConfig, ConfigFile};
use serde_json::{Value, json};

/// Images per listing request (Glance's default `api_limit_max` is 1000).
pub const PAGE: u32 = 1000;

/// A Glance session.
pub struct Glance {
    client: OpenStack,
}

/// A failed request: the HTTP status when Glance answered, and what it said.
#[derive(Debug, Clone)]
pub struct Refused {
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "HTTP {status}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn refused<E: std::error::Error + Send + Sync + 'static>(e: ApiError<E>) -> Refused {
    let status = match &e {
        ApiError::OpenStack { status, .. }
        | ApiError::OpenStackService { status, .. }
        | ApiError::OpenStackUnrecognized { status, .. } => Some(status.as_u16()),
        _ => None,
    };
    let message = match &e {
        ApiError::OpenStack { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    Refused {
        status,
        message: message.lines().map(str::trim).collect::<Vec<_>>().join(" "),
    }
}

/// `GET /v2/images` with any filters (Glance filters on custom
/// properties such as `image_type` and `instance_uuid` too, which the
/// SDK's own listing does not offer).
struct List<'a> {
    filters: &'a [(&'a str, &'a str)],
    marker: Option<&'a str>,
    limit: u32,
}

impl RestEndpoint for List<'_> {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn endpoint(&self) -> Cow<'static, str> {
        "images".into()
    }
    fn parameters(&self) -> QueryParams<'_> {
        let mut params = QueryParams::default();
        for (key, value) in self.filters {
            params.push(*key, *value);
        }
        params.push("limit", self.limit);
        params.push_opt("marker", self.marker);
        params
    }
    fn service_type(&self) -> ServiceType {
        ServiceType::Image
    }
    fn response_key(&self) -> Option<Cow<'static, str>> {
        Some("images".into())
    }
    fn min_version(&self) -> Option<ApiVersion> {
        Some(ApiVersion::new(2, 0))
    }
}

/// `GET /v2/images/{id}`.
struct Get<'a>(&'a str);

impl RestEndpoint for Get<'_> {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn endpoint(&self) -> Cow<'static, str> {
        format!("images/{}", self.0).into()
    }
    fn service_type(&self) -> ServiceType {
        ServiceType::Image
    }
    fn min_version(&self) -> Option<ApiVersion> {
        Some(ApiVersion::new(2, 0))
    }
}

/// `PATCH /v2/images/{id}` with a JSON Patch document.
struct Patch<'a> {
    id: &'a str,
    patch: Value,
}

impl RestEndpoint for Patch<'_> {
    fn method(&self) -> http::Method {
        http::Method::PATCH
    }
    fn endpoint(&self) -> Cow<'static, str> {
        format!("images/{}", self.id).into()
    }
    fn body(&self) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        Ok(Some((
            "application/openstack-images-v2.1-json-patch",
            serde_json::to_vec(&self.patch)?,
        )))
    }
    fn service_type(&self) -> ServiceType {
        ServiceType::Image
    }
    fn min_version(&self) -> Option<ApiVersion> {
        Some(ApiVersion::new(2, 0))
    }
}

/// The cloud's configuration: `--os-cloud` or `OS_CLOUD` from clouds.yaml
/// (and secure.yaml), else the `OS_*` variables.
fn cloud_config(cloud: Option<&str>) -> Result<CloudConfig, String> {
    let name = cloud
        .map(str::to_owned)
        .or_else(|| std::env::var("OS_CLOUD").ok().filter(|c| !c.is_empty()));
    match name {
        Some(name) => {
            let file = ConfigFile::new().map_err(|e| format!("reading clouds.yaml: {e}"))?;
            file.get_cloud_config(&name)
                .map_err(|e| format!("cloud {name:?}: {e}"))?
                .ok_or_else(|| format!("no cloud {name:?} in clouds.yaml"))
        }
        None if std::env::var_os("OS_AUTH_URL").is_some() => {
            CloudConfig::from_env().map_err(|e| format!("the OS_* variables: {e}"))
        }
        None => Err("no credentials: give --os-cloud, set OS_CLOUD, or the OS_AUTH_URL family".to_owned()),
    }
}

impl Glance {
    /// Authenticates with Keystone and finds the image endpoint in the
    /// catalog. Tokens are not cached on disk.
    pub fn connect(cloud: Option<&str>) -> Result<Self, String> {
        // Keep the documented auth plugins linked (see Cargo.toml): the
        // SDK looks them up at run time only.
        std::hint::black_box((
            &openstack_sdk_auth_password::ANCHOR,
            &openstack_sdk_auth_applicationcredential::ANCHOR,
            &openstack_sdk_auth_token::ANCHOR,
        ));
        let config = cloud_config(cloud)?;
        let client = OpenStack::builder(&config)
            .disable_auth_cache(true)
            .build()
            .map_err(|e| format!("Keystone: {}", one_line(&e.to_string())))?;
        client
            .discover_service_endpoint(&ServiceType::Image)
            .map_err(|e| {
                format!(
                    "the catalog has no usable image endpoint: {}",
                    one_line(&e.to_string())
                )
            })?;
        // One small listing: the endpoint answers and the token is good.
        let probe: Result<Vec<Value>, _> = List {
            filters: &[],
            marker: None,
            limit: 1,
        }
        .query(&client);
        match probe {
            Ok(_) => Ok(Glance { client }),
            Err(ApiError::Catalog { source }) => Err(format!(
                "the catalog has no usable image endpoint: {}",
                one_line(&source.to_string())
            )),
            Err(e) => Err(format!("Glance: {}", refused(e))),
        }
    }

    /// Every image matching `filters`, page by page (`limit`, then the
    /// last id as `marker`), in Glance's order.
    pub fn list(&self, filters: &[(&str, &str)]) -> Result<Vec<Value>, Refused> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page: Vec<Value> = List {
                filters,
                marker: marker.as_deref(),
                limit: PAGE,
            }
            .query(&self.client)
            .map_err(refused)?;
            let Some(last) = page.last().and_then(|i| i["id"].as_str()).map(str::to_owned) else {
                break;
            };
            all.extend(page);
            marker = Some(last);
        }
        Ok(all)
    }

    /// One image.
    pub fn get(&self, id: &str) -> Result<Value, Refused> {
        Get(id).query(&self.client).map_err(refused)
    }

    /// Adds `key` = `value` (`add`, which Glance refuses with 409 nowhere
    /// but replaces if present: callers check first).
    pub fn add(&self, id: &str, key: &str, value: &str) -> Result<Value, Refused> {
        let patch = json!([{"op": "add", "path": format!("/{key}"), "value": value}]);
        Patch { id, patch }.query(&self.client).map_err(refused)
    }

    /// Removes `key`.
    pub fn remove(&self, id: &str, key: &str) -> Result<Value, Refused> {
        let patch = json!([{"op": "remove", "path": format!("/{key}")}]);
        Patch { id, patch }.query(&self.client).map_err(refused)
    }

    /// The project the session is scoped to.
    pub fn project(&self) -> Option<String> {
        self.client.get_current_project().and_then(|p| p.id)
    }
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
