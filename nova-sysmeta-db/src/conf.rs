//! Where the databases are: a URL given on the command line, or Nova's own
//! `nova.conf` (`[database] connection` for one cell, `[api_database]
//! connection` for every cell through `cell_mappings`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use mysql::{ClientIdentity, Opts, OptsBuilder, SslOpts};

/// A configuration or URL that cannot be used.
#[derive(Debug)]
pub struct ConfError(pub String);

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfError {}

/// The `connection` options of a `nova.conf`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NovaConf {
    /// `[database] connection`: a cell database.
    pub database: Option<String>,
    /// `[api_database] connection`: the API database (with `cell_mappings`).
    pub api_database: Option<String>,
}

/// Reads the two `connection` options of an oslo.config INI file. Later
/// values win, as in oslo.config; `#` and `;` start comment lines.
pub fn parse_nova_conf(text: &str) -> NovaConf {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
            continue;
        }
        if let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    let connection = |name: &str| {
        sections
            .get(name)
            .and_then(|s| s.get("connection"))
            .filter(|c| !c.is_empty())
            .cloned()
    };
    NovaConf {
        database: connection("database"),
        api_database: connection("api_database"),
    }
}

/// A database to connect to: the URL the MySQL driver takes and, when the
/// connection string asks for it, TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `mysql://user:pass@host:port/db`.
    pub url: String,
    /// `None`: plain TCP, as PyMySQL without `ssl_*` options.
    pub tls: Option<Tls>,
}

/// TLS as PyMySQL sets it up from the `ssl_*` options SQLAlchemy reads
/// from the URL's query (`ssl_ca`, `ssl_cert`, `ssl_key`,
/// `ssl_check_hostname`): with `ssl_ca`, the server's certificate must
/// chain to it and, unless `ssl_check_hostname` is false, name the host of
/// the URL; without `ssl_ca`, the link is encrypted but the server is not
/// verified. One difference: the driver also trusts the public web roots
/// (webpki-roots) besides `ssl_ca`, where PyMySQL trusts `ssl_ca` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// `ssl_ca`: the CA file (PEM or DER) the server's certificate is checked against.
    pub ca: Option<PathBuf>,
    /// `ssl_cert`: the client certificate chain, for users that `REQUIRE X509`.
    pub cert: Option<PathBuf>,
    /// `ssl_key`: the client key (without it, the key is read from `ssl_cert`).
    pub key: Option<PathBuf>,
    /// `ssl_check_hostname` (default true; read only with `ssl_ca`).
    pub check_hostname: bool,
}

/// No files, and the host name checked, as PyMySQL defaults
/// `check_hostname`.
impl Default for Tls {
    fn default() -> Self {
        Self {
            ca: None,
            cert: None,
            key: None,
            check_hostname: true,
        }
    }
}

impl Connection {
    /// The driver's options for this connection.
    pub fn opts(&self) -> Result<Opts, ConfError> {
        let opts = Opts::from_url(&self.url).map_err(|e| ConfError(format!("{}: {e}", redact(&self.url))))?;
        let Some(tls) = &self.tls else { return Ok(opts) };
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
        let verified = tls.ca.is_some();
        let mut ssl = SslOpts::default()
            .with_root_cert_path(tls.ca.clone())
            .with_danger_accept_invalid_certs(!verified)
            .with_danger_skip_domain_validation(!verified || !tls.check_hostname);
        if let Some(cert) = &tls.cert {
            let key = tls.key.as_ref().unwrap_or(cert);
            ssl = ssl.with_client_identity(Some(ClientIdentity::new(cert.clone(), key.clone())));
        }
        Ok(OptsBuilder::from_opts(opts).ssl_opts(ssl).into())
    }
}

/// The connection for a SQLAlchemy connection string as Nova writes it
/// (`mysql+pymysql://user:pass@host:3306/nova?charset=utf8`): the driver
/// name is dropped and so is `charset` (the driver speaks UTF-8); the
/// `ssl_*` options become [`Tls`]. Other query options are refused rather
/// than ignored.
pub fn connection(connection: &str) -> Result<Connection, ConfError> {
    let (scheme, rest) = connection
        .split_once("://")
        .ok_or_else(|| ConfError(format!("not a database URL: {}", redact(connection))))?;
    let dialect = scheme.split('+').next().unwrap_or(scheme);
    if dialect != "mysql" && dialect != "mariadb" {
        return Err(ConfError(format!(
            "only MySQL and MariaDB databases are supported, not {dialect:?}"
        )));
    }
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base, query),
        None => (rest, ""),
    };
    let mut tls = None::<Tls>;
    for option in query.split('&').filter(|o| !o.is_empty()) {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        let value = percent_decode(value)
            .ok_or_else(|| ConfError(format!("database URL option {name:?}: bad percent-encoding")))?;
        let path = || Some(PathBuf::from(&value));
        match name {
            "charset" | "read_default_file" | "read_default_group" => {}
            "ssl_ca" => tls.get_or_insert_with(Tls::default).ca = path(),
            "ssl_cert" => tls.get_or_insert_with(Tls::default).cert = path(),
            "ssl_key" => tls.get_or_insert_with(Tls::default).key = path(),
            "ssl_check_hostname" => {
                tls.get_or_insert_with(Tls::default).check_hostname = as_bool(&value).ok_or_else(|| {
                    ConfError(format!(
                        "database URL option ssl_check_hostname: {value:?} is not true or false"
                    ))
                })?;
            }
            other => {
                return Err(ConfError(format!(
                    "database URL option {other:?} is not supported"
                )));
            }
        }
    }
    Ok(Connection {
        url: format!("mysql://{base}"),
        tls,
    })
}

/// SQLAlchemy's `asbool` on a query value.
fn as_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "t" | "1" => Some(true),
        "false" | "no" | "off" | "n" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// `%XX` escapes and `+` of a URL query value, as SQLAlchemy unquotes it.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_two_connections_later_values_winning() {
        let conf = parse_nova_conf(
            "[DEFAULT]\ndebug = true\n# connection = nope\n[database]\nconnection = mysql+pymysql://a\n\
             [api_database]\n; comment\nconnection=mysql://b\n[database]\nconnection = mysql://c\n",
        );
        assert_eq!(conf.database.as_deref(), Some("mysql://c"));
        assert_eq!(conf.api_database.as_deref(), Some("mysql://b"));
        assert_eq!(parse_nova_conf("[database]\n"), NovaConf::default());
    }

    #[test]
    fn novas_url_forms_become_driver_urls() {
        let plain = |url: &str| {
            let c = connection(url).unwrap();
            assert_eq!(c.tls, None, "{url}");
            c.url
        };
        assert_eq!(
            plain("mysql+pymysql://nova:s3cr@t@db:3306/nova?charset=utf8"),
            "mysql://nova:s3cr@t@db:3306/nova"
        );
        assert_eq!(plain("mysql://u:p@h/n"), "mysql://u:p@h/n");
        assert!(connection("postgresql://u:p@h/n").is_err());
        assert!(connection("sqlite:///nova.db").is_err());
        assert_eq!(redact("mysql://nova:secret@db/nova"), "mysql://nova:***@db/nova");
    }

    #[test]
    fn ssl_options_become_tls_as_pymysql_reads_them() {
        let tls = |url: &str| connection(url).unwrap().tls;
        assert_eq!(
            tls(
                "mysql+pymysql://u:p@h/n?charset=utf8&ssl_ca=/etc/my%20ca.pem&ssl_cert=/c.pem&ssl_key=/k.pem"
            ),
            Some(Tls {
                ca: Some("/etc/my ca.pem".into()),
                cert: Some("/c.pem".into()),
                key: Some("/k.pem".into()),
                check_hostname: true,
            })
        );
        for (value, check) in [
            ("false", false),
            ("0", false),
            (" Off ", false),
            ("YES", true),
            ("t", true),
        ] {
            let got = tls(&format!("mysql://u:p@h/n?ssl_ca=/ca&ssl_check_hostname={value}"));
            assert_eq!(got.map(|t| t.check_hostname), Some(check), "{value}");
        }
        // Any ssl_* option turns TLS on, as a non-empty ssl dict does in PyMySQL.
        assert_eq!(
            tls("mysql://u:p@h/n?ssl_check_hostname=true"),
            Some(Tls {
                check_hostname: true,
                ..Tls::default()
            })
        );
        for refused in [
            "mysql://u:p@h/n?ssl_check_hostname=maybe",
            "mysql://u:p@h/n?ssl_capath=/etc/ssl",
            "mysql://u:p@h/n?ssl_cipher=AES",
            "mysql://u:p@h/n?ssl_ca=%zz",
            "mysql://u:p@h/n?ssl_ca=%ff",
            "mysql://u:p@h/n?connect_timeout=5",
        ] {
            assert!(connection(refused).is_err(), "{refused}");
        }
        // The driver's options: files must exist (checked here, named in the error).
        let pem = std::env::temp_dir().join(format!("nova-sysmeta-db-conf-{}.pem", std::process::id()));
        let missing = connection("mysql://u:p@h/n?ssl_cert=/nonexistent.pem")
            .unwrap()
            .opts();
        assert!(missing.is_err_and(|e| e.0.starts_with("ssl_cert /nonexistent.pem: ")));
        std::fs::write(&pem, "").unwrap();
        let pem_url = pem.display().to_string();
        let opts = connection(&format!("mysql://u:p@h/n?ssl_cert={pem_url}"))
            .unwrap()
            .opts()
            .unwrap();
        let ssl = opts.get_ssl_opts().unwrap();
        assert!(ssl.accept_invalid_certs() && ssl.skip_domain_validation());
        assert_eq!(ssl.client_identity().unwrap().priv_key_path(), pem);
        let opts = connection(&format!("mysql://u:p@h/n?ssl_ca={pem_url}"))
            .unwrap()
            .opts()
            .unwrap();
        std::fs::remove_file(&pem).unwrap();
        let ssl = opts.get_ssl_opts().unwrap();
        assert!(!ssl.accept_invalid_certs() && !ssl.skip_domain_validation());
        assert!(
            connection("mysql://u:p@h/n")
                .unwrap()
                .opts()
                .unwrap()
                .get_ssl_opts()
                .is_none()
        );
    }
}
