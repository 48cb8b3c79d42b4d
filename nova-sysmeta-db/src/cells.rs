//! Which cell databases to work on, and connecting to them exactly where
//! the URL says.
//!
//! From `[api_database]`, every row of `cell_mappings`, as Nova's
//! `CellMappingList.get_all` returns them: disabled cells included (a
//! disabled cell only takes no new instances; its instances are still
//! snapshotted, so they are audited and repaired), `database_connection`
//! templates formatted from `[database] connection` as
//! `CellMapping.format_db_url` does. `cell0` (the cell of instances that
//! were never scheduled: they never ran, so nothing reads their image
//! metadata) is skipped unless `--cell cell0` names it.

use mysql::prelude::Queryable;
use mysql::{ClientIdentity, Opts, OptsBuilder, SslOpts};
use serde::Serialize;

use crate::cli::{Timeouts, Where};
use crate::conf::{self, ConfError, Connection, NovaConf, Transport};

/// Nova's `CellMapping.CELL0_UUID`.
pub const CELL0_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// A cell database to work on.
#[derive(Debug, Clone)]
pub struct Cell {
    pub name: String,
    pub uuid: Option<String>,
    pub disabled: bool,
    pub connection: Connection,
}

/// A cell left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub name: String,
    pub uuid: Option<String>,
    pub why: String,
}

/// The cells, and those left out.
#[derive(Debug, Default)]
pub struct Cells {
    pub cells: Vec<Cell>,
    pub skipped: Vec<Skipped>,
}

/// Why cells cannot be found.
#[derive(Debug)]
pub enum DiscoveryError {
    /// The configuration or a URL cannot be used.
    Input(ConfError),
    /// The API database could not be read.
    Database(String),
}

impl From<ConfError> for DiscoveryError {
    fn from(e: ConfError) -> Self {
        DiscoveryError::Input(e)
    }
}

/// The cells `place` names, narrowed to `wanted` (names or UUIDs).
pub fn discover(place: &Where, wanted: &[String], timeouts: Timeouts) -> Result<Cells, DiscoveryError> {
    let mut found = Cells::default();
    match place {
        Where::Url(url) => found.cells.push(Cell {
            name: "default".to_owned(),
            uuid: None,
            disabled: false,
            connection: conf::connection(url)?,
        }),
        Where::Conf(sources) => {
            let nova = NovaConf::load(sources)?;
            let database = nova.database()?;
            match nova.api_database()? {
                Some(api) => {
                    let api = conf::connection(&api)?;
                    let mut conn = connect(&api, timeouts, None).map_err(|e| {
                        DiscoveryError::Database(format!("the API database {}: {e}", api.display()))
                    })?;
                    for mapping in cell_mappings(&mut conn).map_err(|e| {
                        DiscoveryError::Database(format!("the API database {}: {e}", api.display()))
                    })? {
                        let name = mapping.name.clone().unwrap_or_else(|| mapping.uuid.clone());
                        let skip = |why: &str| Skipped {
                            name: name.clone(),
                            uuid: Some(mapping.uuid.clone()),
                            why: why.to_owned(),
                        };
                        if mapping.connection.starts_with("none:") {
                            found.skipped.push(skip("its database_connection is none:"));
                            continue;
                        }
                        let named = wanted.iter().any(|w| *w == name || *w == mapping.uuid);
                        if mapping.uuid == CELL0_UUID && !named {
                            found.skipped.push(skip(
                                "cell0 holds only instances that were never scheduled (they never ran, so \
                                 nothing reads their image metadata); name it with --cell to include it",
                            ));
                            continue;
                        }
                        let url = conf::format_db_url(&mapping.connection, database.as_deref())
                            .map_err(|e| ConfError(format!("cell {name}: {e}")))?;
                        let connection =
                            conf::connection(&url).map_err(|e| ConfError(format!("cell {name}: {e}")))?;
                        found.cells.push(Cell {
                            name,
                            uuid: Some(mapping.uuid),
                            disabled: mapping.disabled,
                            connection,
                        });
                    }
                }
                None => match database {
                    Some(db) => found.cells.push(Cell {
                        name: "default".to_owned(),
                        uuid: None,
                        disabled: false,
                        connection: conf::connection(&db)?,
                    }),
                    None => {
                        return Err(ConfError(
                            "the configuration sets neither [api_database] connection nor [database] connection"
                                .to_owned(),
                        )
                        .into());
                    }
                },
            }
        }
    }
    if !wanted.is_empty() {
        let known: Vec<String> = found
            .cells
            .iter()
            .map(|c| c.name.clone())
            .chain(found.skipped.iter().map(|s| s.name.clone()))
            .collect();
        for w in wanted {
            let exists = found
                .cells
                .iter()
                .any(|c| &c.name == w || c.uuid.as_ref() == Some(w))
                || found
                    .skipped
                    .iter()
                    .any(|s| &s.name == w || s.uuid.as_ref() == Some(w));
            if !exists {
                return Err(
                    ConfError(format!("no cell named {w:?} (the cells: {})", known.join(", "))).into(),
                );
            }
        }
        found
            .cells
            .retain(|c| wanted.iter().any(|w| *w == c.name || c.uuid.as_ref() == Some(w)));
        found
            .skipped
            .retain(|s| wanted.iter().any(|w| *w == s.name || s.uuid.as_ref() == Some(w)));
    }
    Ok(found)
}

struct Mapping {
    uuid: String,
    name: Option<String>,
    connection: String,
    disabled: bool,
}

/// `uuid, name, database_connection, disabled` of a `cell_mappings` row.
type MappingRow = (String, Option<String>, String, Option<i64>);

/// Every row of `cell_mappings` (`disabled` exists from Nova 17.0.0 on).
fn cell_mappings(conn: &mut mysql::Conn) -> mysql::Result<Vec<Mapping>> {
    let with_disabled: mysql::Result<Vec<MappingRow>> =
        conn.query("SELECT uuid, name, database_connection, disabled FROM cell_mappings ORDER BY id");
    let rows = match with_disabled {
        Ok(rows) => rows,
        Err(mysql::Error::MySqlError(e)) if e.code == 1054 => conn
            .query::<(String, Option<String>, String), _>(
                "SELECT uuid, name, database_connection FROM cell_mappings ORDER BY id",
            )?
            .into_iter()
            .map(|(u, n, c)| (u, n, c, None))
            .collect(),
        Err(e) => return Err(e),
    };
    Ok(rows
        .into_iter()
        .map(|(uuid, name, connection, disabled)| Mapping {
            uuid,
            name,
            connection,
            disabled: disabled.unwrap_or(0) != 0,
        })
        .collect())
}

/// The driver's options: exactly the URL's place (never the driver's
/// switch to a local socket as another account), its timeouts or the
/// tool's, and its TLS.
pub fn opts(connection: &Connection, timeouts: Timeouts) -> Result<Opts, ConfError> {
    let read = connection.read_timeout.unwrap_or(timeouts.read);
    let write = connection.write_timeout.unwrap_or(timeouts.read);
    let connect = connection.connect_timeout.unwrap_or(timeouts.connect);
    let mut builder = OptsBuilder::new()
        .user(Some(connection.user.clone()))
        .pass(connection.password.clone())
        .db_name(connection.database.clone())
        .prefer_socket(false)
        .tcp_connect_timeout(Some(connect))
        .read_timeout(Some(read))
        .write_timeout(Some(write));
    builder = match &connection.transport {
        Transport::Tcp { host, port } => builder.ip_or_hostname(Some(host.clone())).tcp_port(*port),
        Transport::Socket(path) => builder.socket(Some(path.display().to_string())),
    };
    if let Some(tls) = &connection.tls {
        // The driver names no file in its errors; name it here.
        for (option, path) in [
            ("ssl_ca", &tls.ca),
            ("ssl_cert", &tls.cert),
            ("ssl_key", &tls.key),
        ] {
            if let Some(path) = path {
                std::fs::File::open(path)
                    .map_err(|e| ConfError(format!("{option} {}: {e}", path.display())))?;
            }
        }
        let mut ssl = SslOpts::default()
            .with_root_cert_path(if tls.verify { tls.ca.clone() } else { None })
            .with_danger_accept_invalid_certs(!tls.verify)
            .with_danger_skip_domain_validation(!tls.verify || !tls.check_hostname);
        if let Some(cert) = &tls.cert {
            let key = tls.key.as_ref().unwrap_or(cert);
            ssl = ssl.with_client_identity(Some(ClientIdentity::new(cert.clone(), key.clone())));
        }
        builder = builder.ssl_opts(ssl);
    }
    Ok(builder.into())
}

/// A connection, its session set up for working beside Nova: READ
/// COMMITTED (no gap locks: a locking read holds only the rows it
/// returns) and, with `lock_wait`, a short lock wait.
pub fn connect(
    connection: &Connection,
    timeouts: Timeouts,
    lock_wait: Option<u64>,
) -> Result<mysql::Conn, String> {
    let opts = opts(connection, timeouts).map_err(|e| e.0)?;
    let mut conn = mysql::Conn::new(opts).map_err(|e| e.to_string())?;
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .map_err(|e| e.to_string())?;
    if let Some(seconds) = lock_wait {
        conn.query_drop(format!("SET SESSION innodb_lock_wait_timeout = {seconds}"))
            .map_err(|e| e.to_string())?;
    }
    Ok(conn)
}

/// What `cells` prints of a cell.
#[derive(Debug, Serialize)]
pub struct Described {
    pub name: String,
    pub uuid: Option<String>,
    pub disabled: bool,
    /// The URL, password hidden.
    pub url: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub unix_socket: Option<String>,
    pub user: String,
    pub database: Option<String>,
    pub tls: Option<DescribedTls>,
    pub connect_timeout: Option<u64>,
    pub read_timeout: Option<u64>,
    pub write_timeout: Option<u64>,
    pub plugins: Vec<String>,
}

/// The TLS a cell's connection uses.
#[derive(Debug, Serialize)]
pub struct DescribedTls {
    pub verify: bool,
    pub check_hostname: bool,
    /// The only CA trusted, or `None`: the public web roots (when verifying).
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
}

impl Cell {
    pub fn describe(&self) -> Described {
        let c = &self.connection;
        let (host, port, unix_socket) = match &c.transport {
            Transport::Tcp { host, port } => (Some(host.clone()), Some(*port), None),
            Transport::Socket(p) => (None, None, Some(p.display().to_string())),
        };
        let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
        Described {
            name: self.name.clone(),
            uuid: self.uuid.clone(),
            disabled: self.disabled,
            url: c.display(),
            host,
            port,
            unix_socket,
            user: c.user.clone(),
            database: c.database.clone(),
            tls: c.tls.as_ref().map(|t| DescribedTls {
                verify: t.verify,
                check_hostname: t.check_hostname,
                ca: path(&t.ca),
                cert: path(&t.cert),
                key: path(&t.key),
            }),
            connect_timeout: c.connect_timeout.map(|d| d.as_secs()),
            read_timeout: c.read_timeout.map(|d| d.as_secs()),
            write_timeout: c.write_timeout.map(|d| d.as_secs()),
            plugins: c.plugins.clone(),
        }
    }
}
