//! Where the databases are: a URL given on the command line, or Nova's own
//! `nova.conf` (`[database] connection` for one cell, `[api_database]
//! connection` for every cell through `cell_mappings`).

use std::collections::BTreeMap;
use std::fmt;

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

/// The URL the MySQL driver takes for a SQLAlchemy connection string as
/// Nova writes it (`mysql+pymysql://user:pass@host:3306/nova?charset=utf8`):
/// the driver name is dropped and so is `charset` (the driver speaks
/// UTF-8). Other query options are refused rather than ignored: TLS
/// options (`ssl_ca`, ...) are not supported by this build.
pub fn driver_url(connection: &str) -> Result<String, ConfError> {
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
    for option in query.split('&').filter(|o| !o.is_empty()) {
        let name = option.split('=').next().unwrap_or(option);
        match name {
            "charset" | "read_default_file" | "read_default_group" => {}
            other => {
                return Err(ConfError(format!(
                    "database URL option {other:?} is not supported (TLS options need a TLS-enabled build)"
                )));
            }
        }
    }
    Ok(format!("mysql://{base}"))
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
        assert_eq!(
            driver_url("mysql+pymysql://nova:s3cr@t@db:3306/nova?charset=utf8").unwrap(),
            "mysql://nova:s3cr@t@db:3306/nova"
        );
        assert_eq!(driver_url("mysql://u:p@h/n").unwrap(), "mysql://u:p@h/n");
        assert!(driver_url("postgresql://u:p@h/n").is_err());
        assert!(driver_url("mysql+pymysql://u:p@h/n?ssl_ca=/ca.pem").is_err());
        assert!(driver_url("sqlite:///nova.db").is_err());
        assert_eq!(redact("mysql://nova:secret@db/nova"), "mysql://nova:***@db/nova");
    }
}
