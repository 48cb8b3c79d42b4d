//! Nova's configuration, read as Nova reads it: `nova.conf` files and
//! `nova.conf.d` folders as oslo.config parses them, and their connection
//! strings as SQLAlchemy's PyMySQL dialect hands them to PyMySQL.
//!
//! Where the tool departs from them, it says so here and in the README:
//! `$name` interpolation is resolved from the files alone (oslo.config
//! resolves only names Nova registers as options, and gives an option
//! that the files leave unset its default, which this tool does not know:
//! such a name is refused), and the TLS rules of [`Tls`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration or URL that cannot be used.
#[derive(Debug)]
pub struct ConfError(pub String);

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfError {}

fn err<T>(message: impl Into<String>) -> Result<T, ConfError> {
    Err(ConfError(message.into()))
}

/// One `--config-file` or `--config-dir` argument, in command-line order
/// (oslo.config reads them in that order; later values win).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Every `*.conf` file of a folder, in name order.
    Dir(PathBuf),
}

/// The files' options: per section (oslo's normalized group name: lower
/// case, but `DEFAULT`), per key, the values in file order.
#[derive(Debug, Default)]
pub struct NovaConf {
    sections: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// oslo.config's group name normalization.
fn normalize_group(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_owned()
    } else {
        name.to_lowercase()
    }
}

/// Python's `str.isspace` for one character (Rust's `White_Space` plus the
/// four ASCII separators Python also counts).
fn py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
}

impl NovaConf {
    /// Reads `sources` as `nova-manage --config-file A --config-dir B ...`
    /// does.
    pub fn load(sources: &[Source]) -> Result<Self, ConfError> {
        let mut conf = NovaConf::default();
        for source in sources {
            match source {
                Source::File(path) => conf.parse_file(path)?,
                Source::Dir(dir) => {
                    let entries = std::fs::read_dir(dir)
                        .map_err(|e| ConfError(format!("--config-dir {}: {e}", dir.display())))?;
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                        .filter(|p| {
                            !p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                        })
                        .collect();
                    files.sort();
                    for file in files {
                        conf.parse_file(&file)?;
                    }
                }
            }
        }
        Ok(conf)
    }

    fn parse_file(&mut self, path: &Path) -> Result<(), ConfError> {
        let bytes = std::fs::read(path).map_err(|e| ConfError(format!("{}: {e}", path.display())))?;
        if bytes.starts_with(b"\xef\xbb\xbf") {
            return err(format!(
                "{}: starts with a UTF-8 byte order mark, which oslo.config (and so Nova) refuses \
                 (\"No ':' or '=' found in assignment\" at line 1); save the file without it",
                path.display()
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            ConfError(format!(
                "{}: not UTF-8 ({e}); Nova cannot read it either",
                path.display()
            ))
        })?;
        self.parse(&text)
            .map_err(|(line, message)| ConfError(format!("{}:{line}: {message}", path.display())))
    }

    /// oslo.config's `iniparser.BaseParser.parse`, line by line.
    fn parse(&mut self, text: &str) -> Result<(), (usize, String)> {
        // Python's universal newlines.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut section: Option<String> = None;
        let mut pending: Option<(String, Vec<String>, usize)> = None;
        let flush = |this: &mut Self,
                     section: &Option<String>,
                     pending: &mut Option<(String, Vec<String>, usize)>|
         -> Result<(), (usize, String)> {
            if let Some((key, value, line)) = pending.take() {
                let Some(section) = section else {
                    return Err((line, "Section must be started before assignment".to_owned()));
                };
                this.sections
                    .entry(normalize_group(section))
                    .or_default()
                    .entry(key)
                    .or_default()
                    .push(value.join("\n"));
            }
            Ok(())
        };
        for (n, line) in text.split('\n').enumerate() {
            let number = n + 1;
            let line = line.trim_end_matches(py_space);
            if line.is_empty() {
                flush(self, &section, &mut pending)?;
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match &mut pending {
                    Some((_, value, _)) => value.push(line.trim_start_matches(py_space).to_owned()),
                    None => return Err((number, format!("Unexpected continuation line: {line:?}"))),
                }
                continue;
            }
            flush(self, &section, &mut pending)?;
            if line.starts_with('[') {
                if !line.ends_with(']') {
                    return Err((number, format!("Invalid section (must end with ]): {line:?}")));
                }
                if line.chars().count() <= 2 {
                    return Err((number, format!("Empty section name: {line:?}")));
                }
                let name = &line[1..line.len() - 1];
                self.sections.entry(normalize_group(name)).or_default();
                section = Some(name.to_owned());
            } else if line.starts_with(['#', ';']) {
                // A comment.
            } else {
                let (key, value) = split_key_value(line)
                    .ok_or_else(|| (number, format!("No ':' or '=' found in assignment: {line:?}")))?;
                if key.is_empty() {
                    return Err((number, format!("Key cannot be empty: {line:?}")));
                }
                pending = Some((key, vec![value], number));
            }
        }
        flush(self, &section, &mut pending)
    }

    /// The raw value of `group`'s `key` (the last one of the last file
    /// that sets it), before interpolation.
    fn raw(&self, group: &str, key: &str) -> Option<&str> {
        self.sections
            .get(&normalize_group(group))
            .and_then(|s| s.get(key))
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// `group`'s `key` as Nova gets it: interpolated (`$name`, `${name}`,
    /// `$group.name`, `$$`, `\$`).
    pub fn get(&self, group: &str, key: &str) -> Result<Option<String>, ConfError> {
        self.raw(group, key)
            .map(|raw| self.substitute(raw, group, 0))
            .transpose()
    }

    /// oslo.config's `_substitute`: Python's `string.Template` with
    /// `idpattern = [_a-z][._a-z0-9]*` (case-insensitive), looked up in
    /// the option's own group, then in `DEFAULT`.
    fn substitute(&self, value: &str, group: &str, depth: usize) -> Result<String, ConfError> {
        if depth > 32 {
            return err("the $ references of the configuration form a loop");
        }
        let value = value.replace("\\$", "$$");
        let mut out = String::with_capacity(value.len());
        let mut rest = value.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
                continue;
            }
            let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) if is_template_name(&inner[..end]) => (&inner[..end], &inner[end + 1..]),
                    _ => {
                        out.push('$');
                        rest = after;
                        continue;
                    }
                }
            } else {
                let len = template_name_len(after);
                if len == 0 {
                    out.push('$');
                    rest = after;
                    continue;
                }
                (&after[..len], &after[len..])
            };
            let (lookup_group, lookup_key) = match name.split_once('.') {
                Some((g, k)) => (g, k),
                None => (group, name),
            };
            let raw = self
                .raw(lookup_group, lookup_key)
                .map(|v| (v, lookup_group))
                .or_else(|| {
                    (!name.contains('.'))
                        .then(|| self.raw("DEFAULT", lookup_key).map(|v| (v, "DEFAULT")))
                        .flatten()
                });
            let Some((raw, found_in)) = raw else {
                return err(format!(
                    "${name} is not set in [{group}] or [DEFAULT] of the configuration files \
                     (for an option the files leave unset Nova uses its default, which this tool \
                     does not know: set it, or write the value itself)"
                ));
            };
            out.push_str(&self.substitute(raw, found_in, depth + 1)?);
            rest = tail;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `[database] connection`: a cell database.
    pub fn database(&self) -> Result<Option<String>, ConfError> {
        Ok(self.get("database", "connection")?.filter(|c| !c.is_empty()))
    }

    /// `[api_database] connection`: the API database (with `cell_mappings`).
    pub fn api_database(&self) -> Result<Option<String>, ConfError> {
        Ok(self.get("api_database", "connection")?.filter(|c| !c.is_empty()))
    }
}

fn template_name_len(text: &str) -> usize {
    let mut len = 0;
    for (i, c) in text.char_indices() {
        let ok = if i == 0 {
            c == '_' || c.is_ascii_alphabetic()
        } else {
            c == '_' || c == '.' || c.is_ascii_alphanumeric()
        };
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

fn is_template_name(text: &str) -> bool {
    !text.is_empty() && template_name_len(text) == text.len()
}

/// oslo's `_split_key_value`: the first `:` or `=` splits; both sides
/// stripped; a value quoted at both ends with the same quote loses them.
fn split_key_value(line: &str) -> Option<(String, String)> {
    let colon = line.find(':');
    let equal = line.find('=');
    let at = match (colon, equal) {
        (None, None) => return None,
        (Some(c), Some(e)) => c.min(e),
        (Some(c), None) => c,
        (None, Some(e)) => e,
    };
    let key = line[..at].trim_matches(py_space).to_owned();
    let mut value = line[at + 1..].trim_matches(py_space);
    if let (Some(first), Some(last)) = (value.chars().next(), value.chars().last())
        && (first == '"' || first == '\'')
        && first == last
    {
        value = if value.len() == 1 {
            ""
        } else {
            &value[1..value.len() - 1]
        };
    }
    Some((key, value.to_owned()))
}

/// How the connection reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// TCP to `host:port`.
    Tcp {
        /// The URL's host (`localhost` when it names none, as PyMySQL).
        host: String,
        /// The URL's port (3306 when it names none).
        port: u16,
    },
    /// The `unix_socket` of the URL's query (the host is then ignored, as
    /// PyMySQL ignores it).
    Socket(PathBuf),
}

/// A database to connect to, as PyMySQL would from Nova's connection
/// string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Where.
    pub transport: Transport,
    /// The user (percent-decoded).
    pub user: String,
    /// The password (percent-decoded), if the URL has one.
    pub password: Option<String>,
    /// The database.
    pub database: Option<String>,
    /// `None`: plain, as PyMySQL without `ssl_*` options.
    pub tls: Option<Tls>,
    /// `connect_timeout` (`None`: the tool's `--connect-timeout`, 10 s by
    /// default as PyMySQL's).
    pub connect_timeout: Option<Duration>,
    /// `read_timeout` (PyMySQL has none by default; the tool's
    /// `--read-timeout` then applies).
    pub read_timeout: Option<Duration>,
    /// `write_timeout` (likewise).
    pub write_timeout: Option<Duration>,
    /// SQLAlchemy engine plugins named by `plugin=` (DevStack's
    /// `dbcounter`): they observe an engine, they do not change the
    /// connection, so the tool records and ignores them.
    pub plugins: Vec<String>,
}

/// TLS as PyMySQL sets it up from the URL's `ssl_*` options, with one
/// rule of the tool's own: a CA given is the only one trusted.
///
/// | options | PyMySQL | this tool |
/// |---|---|---|
/// | `ssl_ca` | chain to it, host name checked | the same |
/// | `ssl_ca`, `ssl_check_hostname=false` | chain to it | the same |
/// | `ssl_ca`, `ssl_verify_cert=true` | the system's CAs (the CA given is dropped), no name check | chain to `ssl_ca` only, no name check |
/// | `ssl_verify_cert=true`, no CA | the system's CAs, no name check | the public web roots, no name check |
/// | `ssl_cert`/`ssl_key` only, or `ssl_verify_cert=false` | encrypted, not verified | the same |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// `ssl_ca`: the CA file (PEM or DER); when given, the only one trusted.
    pub ca: Option<PathBuf>,
    /// `ssl_cert`: the client certificate chain, for users that `REQUIRE X509`.
    pub cert: Option<PathBuf>,
    /// `ssl_key`: the client key (without it, the key is read from `ssl_cert`).
    pub key: Option<PathBuf>,
    /// Whether the server's certificate is checked at all.
    pub verify: bool,
    /// Whether it must also name the URL's host.
    pub check_hostname: bool,
}

/// Python's `urllib.parse.unquote` (what SQLAlchemy applies to the user,
/// password and query values): `%XX` escapes decoded, invalid ones left as
/// they are, the bytes read as UTF-8 (invalid sequences refused here).
fn unquote(value: &str, plus_is_space: bool) -> Result<String, ConfError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ConfError("a database URL's percent-escapes are not UTF-8".to_owned()))
}

/// SQLAlchemy's `asbool` on a query value.
fn as_bool(option: &str, value: &str) -> Result<bool, ConfError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "t" | "1" => Ok(true),
        "false" | "no" | "off" | "n" | "f" | "0" => Ok(false),
        _ => err(format!(
            "database URL option {option}: {value:?} is not true or false"
        )),
    }
}

/// PyMySQL's `ssl_verify_cert` string: `none`/`0`/`false`/`no` turn the
/// check off, `required`/`1`/`true`/`yes` on; `optional` (check when the
/// server sends one) is refused, as the driver cannot do it.
fn verify_mode(value: &str) -> Result<bool, ConfError> {
    match value.to_lowercase().as_str() {
        "none" | "0" | "false" | "no" => Ok(false),
        "required" | "1" | "true" | "yes" => Ok(true),
        "optional" => {
            err("database URL option ssl_verify_cert=optional is not supported by this tool's driver")
        }
        // PyMySQL: any other value verifies when a CA is given.
        _ => Ok(true),
    }
}

/// A timeout option: whole seconds, as SQLAlchemy's `int()` reads them;
/// PyMySQL refuses 0 and negatives.
fn seconds(option: &str, value: &str) -> Result<Duration, ConfError> {
    let n: i64 = value.trim().parse().map_err(|_| {
        ConfError(format!(
            "database URL option {option}: {value:?} is not a whole number of seconds"
        ))
    })?;
    if n <= 0 || n > 31_536_000 {
        return err(format!(
            "database URL option {option}: {n} is outside 1 to 31536000 seconds"
        ));
    }
    Ok(Duration::from_secs(n.unsigned_abs()))
}

/// The connection for a SQLAlchemy connection string as Nova writes it
/// (`mysql+pymysql://user:pass@host:3306/nova?charset=utf8`). Query
/// options the tool cannot honour are refused by name, never ignored.
pub fn connection(url: &str) -> Result<Connection, ConfError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| ConfError(format!("not a database URL: {}", redact(url))))?;
    let dialect = scheme.split('+').next().unwrap_or(scheme);
    if dialect != "mysql" && dialect != "mariadb" {
        return err(format!(
            "only MySQL and MariaDB databases are supported, not {dialect:?}"
        ));
    }
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    // SQLAlchemy's URL pattern: the last `@` ends the user info.
    let (userinfo, hostpath) = match base.rfind('@') {
        Some(at) => (Some(&base[..at]), &base[at + 1..]),
        None => (None, base),
    };
    let (user, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (unquote(u, false)?, Some(unquote(p, false)?)),
            None => (unquote(info, false)?, None),
        },
        None => (String::new(), None),
    };
    let (hostport, database) = match hostpath.split_once('/') {
        Some((h, d)) => (h, (!d.is_empty()).then(|| d.to_owned())),
        None => (hostpath, None),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| ConfError(format!("bad IPv6 host in {}", redact(url))))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| ConfError(format!("bad port {p:?} in {}", redact(url))))?,
        None => 3306,
    };
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };

    let mut conn = Connection {
        transport: Transport::Tcp { host, port },
        user,
        password,
        database,
        tls: None,
        connect_timeout: None,
        read_timeout: None,
        write_timeout: None,
        plugins: Vec::new(),
    };
    let (mut ca, mut cert, mut key) = (None, None, None);
    let mut check_hostname: Option<bool> = None;
    let mut verify_cert: Option<bool> = None;
    let mut verify_identity = false;
    for option in query.split('&').filter(|o| !o.is_empty()) {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        let name = unquote(name, true)?;
        let value = unquote(value, true)?;
        let path = || Some(PathBuf::from(&value));
        match name.as_str() {
            // The driver speaks UTF-8 (utf8mb4), which reads every utf8
            // column exactly; oslo.db's own options are not PyMySQL's.
            "charset" | "read_default_group" => {}
            "plugin" => conn.plugins.push(value),
            "unix_socket" => conn.transport = Transport::Socket(PathBuf::from(&value)),
            "connect_timeout" => conn.connect_timeout = Some(seconds(&name, &value)?),
            "read_timeout" => conn.read_timeout = Some(seconds(&name, &value)?),
            "write_timeout" => conn.write_timeout = Some(seconds(&name, &value)?),
            "ssl_ca" => ca = path(),
            "ssl_cert" => cert = path(),
            "ssl_key" => key = path(),
            "ssl_check_hostname" => check_hostname = Some(as_bool(&name, &value)?),
            "ssl_verify_cert" => verify_cert = Some(verify_mode(&value)?),
            "ssl_verify_identity" => verify_identity = !value.is_empty(),
            other => {
                return err(format!(
                    "database URL option {other:?} is not supported by this tool (it would be ignored, \
                     and the connection would not be what Nova makes)"
                ));
            }
        }
    }
    if ca.is_some() || cert.is_some() || key.is_some() || verify_cert.is_some() || verify_identity {
        let (verify, check) = if verify_cert.is_some() || verify_identity {
            // PyMySQL's explicit form: verify_identity checks the name.
            let verify = verify_identity || verify_cert.unwrap_or(false);
            (verify, verify_identity)
        } else {
            // SQLAlchemy's `ssl` dict: a CA verifies, and checks the name
            // unless ssl_check_hostname is false.
            (ca.is_some(), ca.is_some() && check_hostname.unwrap_or(true))
        };
        conn.tls = Some(Tls {
            // Unverified, PyMySQL's explicit form drops the CA; it is not used.
            ca: ca.filter(|_| verify),
            cert,
            key,
            verify,
            check_hostname: check,
        });
    }
    Ok(conn)
}

impl Connection {
    /// The URL for messages: `mysql://user:***@host:port/db`.
    pub fn display(&self) -> String {
        let password = if self.password.is_some() { ":***" } else { "" };
        let db = self.database.as_deref().unwrap_or("");
        match &self.transport {
            Transport::Tcp { host, port } => format!("mysql://{}{password}@{host}:{port}/{db}", self.user),
            Transport::Socket(path) => {
                format!(
                    "mysql://{}{password}@/{db}?unix_socket={}",
                    self.user,
                    path.display()
                )
            }
        }
    }
}

/// Nova's `CellMapping.format_db_url`: a cell's `database_connection`
/// that is a template (`{scheme}://{username}:{password}@{hostname}/...`)
/// is formatted with the parts of `[database] connection`, as Python's
/// `urlparse` splits them (`{port}` of a URL without one is `None`, as in
/// Nova). Unlike Nova, which logs and connects to the template as it is,
/// a template that cannot be formatted is an error here.
pub fn format_db_url(template: &str, database: Option<&str>) -> Result<String, ConfError> {
    if !template.contains('{') && !template.contains('}') {
        return Ok(template.to_owned());
    }
    let Some(database) = database else {
        return err(format!(
            "cell mapping database_connection {:?} is a template, but [database] connection is not set",
            redact(template)
        ));
    };
    let subs = url_parts(database);
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(t) = tail.strip_prefix("{{") {
            out.push('{');
            rest = t;
        } else if let Some(t) = tail.strip_prefix("}}") {
            out.push('}');
            rest = t;
        } else if let Some(t) = tail.strip_prefix('{') {
            let end = t
                .find('}')
                .ok_or_else(|| ConfError("cell mapping template: a '{' is not closed".to_owned()))?;
            let name = &t[..end];
            let value = subs.get(name).ok_or_else(|| {
                ConfError(format!(
                    "cell mapping template field {{{name}}} is not one Nova fills \
                     (scheme, username, password, hostname, port, path, query, fragment)"
                ))
            })?;
            out.push_str(value);
            rest = &t[end + 1..];
        } else {
            return err("cell mapping template: a single '}'");
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Python's `urlparse` parts that Nova formats a template with, as
/// `str.format` prints them (`None` for a missing one).
fn url_parts(url: &str) -> BTreeMap<&'static str, String> {
    let none = || "None".to_owned();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (netloc, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match netloc.rfind('@') {
        Some(at) => (Some(&netloc[..at]), &netloc[at + 1..]),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (u.to_owned(), p.to_owned()),
            None => (info.to_owned(), none()),
        },
        None => (none(), none()),
    };
    let (hostname, port) = if let Some(v6) = hostport.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, after)) => (h.to_lowercase(), after.strip_prefix(':').map(str::to_owned)),
            None => (v6.to_lowercase(), None),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_lowercase(), Some(p.to_owned())),
            None => (hostport.to_lowercase(), None),
        }
    };
    let hostname = if hostname.is_empty() { none() } else { hostname };
    let port = port
        .filter(|p| !p.is_empty())
        .and_then(|p| p.parse::<u16>().ok())
        .map_or_else(none, |p| p.to_string());
    BTreeMap::from([
        ("scheme", scheme.to_lowercase()),
        ("username", username),
        ("password", password),
        ("hostname", hostname),
        ("port", port),
        ("path", path.trim_start_matches('/').to_owned()),
        ("query", query.to_owned()),
        ("fragment", fragment.to_owned()),
    ])
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

    fn parse(text: &str) -> NovaConf {
        let mut conf = NovaConf::default();
        conf.parse(text).unwrap();
        conf
    }

    #[test]
    fn oslo_syntax_quotes_continuations_and_colons() {
        let conf = parse(
            "[DEFAULT]\nmy_ip = 10.0.0.5\n[database]\nconnection = \"mysql://u:p$$x@$my_ip/n\"\n\
             [api_database]\nconnection: mysql://u:p@h/\n  nova_api\n[DATABASE]\nmax_retries = 3\n",
        );
        assert_eq!(
            conf.database().unwrap().as_deref(),
            Some("mysql://u:p$x@10.0.0.5/n")
        );
        assert_eq!(
            conf.api_database().unwrap().as_deref(),
            Some("mysql://u:p@h/\nnova_api")
        );
        assert_eq!(conf.get("database", "max_retries").unwrap().as_deref(), Some("3"));
    }

    #[test]
    fn a_name_the_files_do_not_set_is_refused() {
        let conf = parse("[database]\nconnection = mysql://$nosuch/x\n");
        assert!(conf.database().unwrap_err().0.contains("$nosuch is not set"));
        let conf = parse("[database]\nconnection = mysql://a/$1 ${} $\n");
        assert_eq!(conf.database().unwrap().as_deref(), Some("mysql://a/$1 ${} $"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let mut conf = NovaConf::default();
        assert_eq!(conf.parse("x = 1\n").unwrap_err().0, 1);
        assert_eq!(conf.parse("[a]\n  cont\n").unwrap_err().0, 2);
        assert_eq!(conf.parse("[a\n").unwrap_err().0, 1);
        assert_eq!(conf.parse("[]\n").unwrap_err().0, 1);
        assert_eq!(conf.parse("[a]\nnovalue\n").unwrap_err().0, 2);
        assert_eq!(conf.parse("[a]\n= v\n").unwrap_err().0, 2);
    }

    #[test]
    fn urls_become_connections() {
        let c = connection("mysql+pymysql://nova:p%40ss@db.example:3307/nova?charset=utf8").unwrap();
        assert_eq!(
            c.transport,
            Transport::Tcp {
                host: "db.example".into(),
                port: 3307
            }
        );
        assert_eq!((c.user.as_str(), c.password.as_deref()), ("nova", Some("p@ss")));
        assert_eq!(c.display(), "mysql://nova:***@db.example:3307/nova");
        let c = connection(
            "mysql+pymysql://nova:pw@localhost/nova?unix_socket=/run/m.sock&read_timeout=30&plugin=dbcounter",
        )
        .unwrap();
        assert_eq!(c.transport, Transport::Socket("/run/m.sock".into()));
        assert_eq!(c.read_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.plugins, ["dbcounter"]);
        for refused in [
            "postgresql://u:p@h/n",
            "mysql://u:p@h/n?ssl_capath=/etc/ssl",
            "mysql://u:p@h/n?ssl_cipher=AES",
            "mysql://u:p@h/n?connect_timeout=0",
            "mysql://u:p@h/n?read_timeout=soon",
            "mysql://u:p@h/n?ssl_check_hostname=maybe",
            "mysql://u:p@h:99999/n",
            "mysql://u:p@h/n?compress=1",
        ] {
            assert!(connection(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn tls_follows_pymysql_but_trusts_only_the_ca_given() {
        let tls = |url: &str| connection(url).unwrap().tls.unwrap();
        let t = tls("mysql://u:p@h/n?ssl_ca=/ca.pem");
        assert!(t.verify && t.check_hostname);
        let t = tls("mysql://u:p@h/n?ssl_ca=/ca.pem&ssl_check_hostname=false");
        assert!(t.verify && !t.check_hostname);
        let t = tls("mysql://u:p@h/n?ssl_ca=/ca.pem&ssl_verify_cert=true");
        assert!(t.verify && !t.check_hostname && t.ca.is_some());
        let t = tls("mysql://u:p@h/n?ssl_cert=/c.pem");
        assert!(!t.verify);
        assert!(connection("mysql://u:p@h/n").unwrap().tls.is_none());
    }

    #[test]
    fn cell_templates_are_formatted_as_nova_does() {
        let db = Some("mysql+pymysql://nova:pw@DB.example/nova?charset=utf8");
        assert_eq!(
            format_db_url(
                "{scheme}://{username}:{password}@{hostname}:{port}/nova_cell1?{query}",
                db
            )
            .unwrap(),
            "mysql+pymysql://nova:pw@db.example:None/nova_cell1?charset=utf8"
        );
        assert_eq!(format_db_url("mysql://a/b", None).unwrap(), "mysql://a/b");
        assert!(format_db_url("{scheme}://x", None).is_err());
        assert!(format_db_url("{nope}://x", db).is_err());
    }

    /// A small deterministic generator (xorshift), so that a failing case
    /// is the same on every run.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
    }

    /// A nova.conf of random lines: sections in every case and spacing,
    /// both separators, quotes (matched, mismatched, lone), `$` forms,
    /// continuation lines, comments, blank lines, Unicode and ASCII
    /// whitespace at line ends, CRLF, a BOM, duplicate keys.
    fn random_conf(g: &mut Gen) -> String {
        let mut text = String::new();
        if g.chance(3) {
            text.push('\u{feff}');
        }
        // Names Nova registers in [DEFAULT], for `$` to refer to.
        if g.chance(80) {
            text.push_str("[DEFAULT]\nmy_ip = 10.0.0.7\nhost = h7.example\nstate_path = /var/lib/nova\n");
        }
        let lines = 1 + g.next() % 9;
        for _ in 0..lines {
            let kind = g.next() % 10;
            match kind {
                0 | 1 => {
                    let section = g.pick(&[
                        "[database]",
                        "[DATABASE]",
                        "[Database]",
                        "[api_database]",
                        "[API_DATABASE]",
                        "[ database]",
                        "[other]",
                        "[database",
                        "[]",
                        "[database] ",
                    ]);
                    text.push_str(section);
                }
                2 => text.push_str(g.pick(&[
                    "# a comment",
                    "; another",
                    "#connection = mysql://x/y",
                    "",
                    "   ",
                    "\t",
                ])),
                3 => text.push_str(g.pick(&["  continued", "\tcontinued", "  # indented", "  $my_ip"])),
                _ => {
                    let key = g.pick(&[
                        "connection",
                        "connection",
                        "connection",
                        " connection",
                        "Connection",
                        "max_retries",
                        "conn ection",
                        "",
                    ]);
                    let sep = g.pick(&["=", " = ", ":", " : ", "= ", ":=", "=:", " =\t"]);
                    let host = g.pick(&[
                        "db.example",
                        "$my_ip",
                        "${my_ip}",
                        "$host",
                        "${host}",
                        "$$x",
                        "\\$y",
                        "$nosuch",
                        "$MY_IP",
                        "$my_ip.x",
                        "${}",
                        "$",
                        "$1",
                        "${state_path}",
                        "d\u{e9}.example",
                        "h\u{a0}x",
                    ]);
                    let mut value = format!(
                        "mysql+pymysql://nova:p{}w@{host}/nova?charset=utf8",
                        g.pick(&["", "$$", "%40", "#"])
                    );
                    match g.next() % 8 {
                        0 => value = format!("\"{value}\""),
                        1 => value = format!("'{value}'"),
                        2 => value = format!("\"{value}'"),
                        3 => value = "\"".to_owned(),
                        4 => value = format!("{value} # inline"),
                        5 => value.clear(),
                        _ => {}
                    }
                    let end = g.pick(&["", " ", "\t", "\u{a0}", "\u{2028}", "\u{3000}", "\x0c", "\x1f"]);
                    text.push_str(&format!("{key}{sep}{value}{end}"));
                }
            }
            text.push_str(if g.chance(10) { "\r\n" } else { "\n" });
        }
        text
    }

    /// The generated files, each read by oslo.config itself (the Nova
    /// venv's, tests/nova/nova_config.py) and by `NovaConf`: the same
    /// `[database]` and `[api_database]` connections, or both refuse.
    /// Skips loudly without the venv; fails under CI or
    /// `NOVA_SYSMETA_REQUIRE_DB`.
    #[test]
    fn generated_files_read_as_oslo_config_reads_them() {
        let venv = match std::env::var("NOVA_SYSMETA_NOVA_VENV") {
            Ok(v) if !v.is_empty() => v,
            _ if std::env::var_os("NOVA_SYSMETA_REQUIRE_DB").is_some()
                || std::env::var_os("CI").is_some() =>
            {
                panic!("NOVA_SYSMETA_NOVA_VENV is not set, but this run requires the oslo.config parity test")
            }
            _ => {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: the oslo.config parity test did not run: NOVA_SYSMETA_NOVA_VENV is not set. ***\n"
                );
                return;
            }
        };
        let dir = std::env::temp_dir().join(format!("nova-sysmeta-db-oslo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut cases = Vec::new();
        let mut sources = Vec::new();
        for n in 0..600 {
            let mut files = vec![dir.join(format!("{n}-a.conf"))];
            if g.chance(20) {
                files.push(dir.join(format!("{n}-b.conf")));
            }
            for f in &files {
                std::fs::write(f, random_conf(&mut g)).unwrap();
            }
            cases.push(serde_json::json!({"conf": files.iter().map(|f| ["--config-file", f.to_str().unwrap()]).collect::<Vec<_>>()}));
            sources.push(files.into_iter().map(Source::File).collect::<Vec<_>>());
        }
        let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nova/nova_config.py");
        let mut child = std::process::Command::new(format!("{venv}/bin/python"))
            .arg(oracle)
            .env("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            &mut child.stdin.take().unwrap(),
            serde_json::Value::from(cases).to_string().as_bytes(),
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let answers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let (mut read, mut refused) = (0, 0);
        for (n, (nova, sources)) in answers.iter().zip(&sources).enumerate() {
            let texts: Vec<String> = sources
                .iter()
                .map(|s| match s {
                    Source::File(f) | Source::Dir(f) => std::fs::read_to_string(f).unwrap_or_default(),
                })
                .collect();
            let ours = NovaConf::load(sources).and_then(|c| {
                Ok((
                    c.get("database", "connection")?,
                    c.get("api_database", "connection")?,
                ))
            });
            match (nova.get("error"), ours) {
                (Some(_), Err(_)) => refused += 1,
                (None, Ok((db, api))) => {
                    assert_eq!(nova["database"].as_str(), db.as_deref(), "case {n}: {texts:?}");
                    assert_eq!(
                        nova["api_database"].as_str(),
                        api.as_deref(),
                        "case {n}: {texts:?}"
                    );
                    read += 1;
                }
                (_, ours) => panic!("case {n}: Nova {nova} / tool {ours:?}: {texts:?}"),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("oslo.config parity: {read} files read alike, {refused} refused by both\n").as_bytes(),
        );
        assert!(read > 150 && refused > 50, "read {read}, refused {refused}");
    }
}
