//! What the database tool's tests share: the MariaDB server that
//! `scripts/test` starts, cell and API databases made by Nova's own
//! migrations, and Nova's own objects layer (tests/nova/nova_objects.py,
//! run by the Nova venv's Python) as writer and reader.
//!
//! Needs `NOVA_SYSMETA_MARIADB_URL` and `NOVA_SYSMETA_NOVA_VENV`, which
//! `scripts/test` sets once the server answers and the venv exists
//! (`scripts/mariadb`, `scripts/nova-venv`). Without them a test says
//! loudly that it skipped; where `NOVA_SYSMETA_REQUIRE_DB` is set (as
//! `scripts/test` sets it) or under CI, it fails instead.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};
use serde_json::Value;

fn required() -> bool {
    std::env::var_os("NOVA_SYSMETA_REQUIRE_DB").is_some() || std::env::var_os("CI").is_some()
}

pub fn setting(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if required() => panic!("{name} is not set, but this run requires the database tests ({what})"),
        _ => {
            // Straight to the process's stderr: the harness captures
            // eprintln! of a passing test, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: a database test did not run: {name} is not set ({what}). \
                 scripts/test sets it. ***\n"
            );
            None
        }
    }
}

/// The server's URL (`mysql://nova:nova@127.0.0.1:PORT/`).
pub fn server() -> Option<String> {
    setting("NOVA_SYSMETA_MARIADB_URL", "scripts/mariadb starts the server")
}

/// The Nova venv.
pub fn venv() -> Option<PathBuf> {
    setting("NOVA_SYSMETA_NOVA_VENV", "scripts/nova-venv makes it").map(PathBuf::from)
}

pub fn tool() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nova-sysmeta-db"))
}

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nova-sysmeta-db-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `mysql://nova:nova@127.0.0.1:PORT/NAME`.
pub fn url_of(server: &str, name: &str) -> String {
    format!("{}/{name}", server.trim_end_matches('/'))
}

/// Nova's form of a URL: `mysql+pymysql://...?charset=utf8`.
pub fn nova_form(url: &str) -> String {
    format!("{}?charset=utf8", url.replacen("mysql://", "mysql+pymysql://", 1))
}

pub fn connect(url: &str) -> Conn {
    Conn::new(Opts::from_url(url).unwrap()).unwrap()
}

/// A nova.conf naming a cell database and an API database.
pub fn write_conf(path: &Path, cell_url: &str, api_url: Option<&str>) {
    let mut text = format!(
        "[DEFAULT]\ndebug = False\n\n[database]\nconnection = {}\n",
        nova_form(cell_url)
    );
    if let Some(api) = api_url {
        text.push_str(&format!("\n[api_database]\nconnection = {}\n", nova_form(api)));
    }
    std::fs::write(path, text).unwrap();
}

const TEMPLATE_CELL: &str = "nova_template_cell";
const TEMPLATE_API: &str = "nova_template_api";

/// Runs `nova-manage` of the venv with `conf`.
pub fn nova_manage(venv: &Path, conf: &Path, args: &[&str]) -> Output {
    let out = Command::new(venv.join("bin/nova-manage"))
        .arg("--config-file")
        .arg(conf)
        .args(args)
        .env("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nova-manage {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The two template databases, made once per server by Nova's own
/// migrations (`nova-manage api_db sync`, `db sync`).
fn templates(server: &str, venv: &Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let mut conn = connect(server);
        let got: Option<i64> = conn
            .query_first("SELECT GET_LOCK('nova_sysmeta_templates', 600)")
            .unwrap();
        assert_eq!(got, Some(1));
        let ready: Option<String> = conn
            .query_first(format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '{TEMPLATE_CELL}' \
                 AND table_name = 'instance_system_metadata'"
            ))
            .unwrap();
        if ready.is_none() {
            for db in [TEMPLATE_CELL, TEMPLATE_API] {
                conn.query_drop(format!("DROP DATABASE IF EXISTS {db}")).unwrap();
                conn.query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8"))
                    .unwrap();
            }
            let conf = tmp("templates.conf");
            write_conf(
                &conf,
                &url_of(server, TEMPLATE_CELL),
                Some(&url_of(server, TEMPLATE_API)),
            );
            nova_manage(venv, &conf, &["api_db", "sync"]);
            nova_manage(venv, &conf, &["db", "sync"]);
        }
        conn.query_drop("DO RELEASE_LOCK('nova_sysmeta_templates')")
            .unwrap();
    });
}

/// Copies every table of `from` (as `SHOW CREATE TABLE` gives it, keys and
/// foreign keys included) and its migration version into a new `to`.
fn clone_db(conn: &mut Conn, from: &str, to: &str) {
    conn.query_drop(format!("DROP DATABASE IF EXISTS {to}")).unwrap();
    conn.query_drop(format!("CREATE DATABASE {to} CHARACTER SET utf8"))
        .unwrap();
    let tables: Vec<String> = conn
        .query(format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{from}' ORDER BY table_name"
        ))
        .unwrap();
    conn.query_drop(format!("USE {to}")).unwrap();
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 0").unwrap();
    for table in &tables {
        let (_, create): (String, String) = conn
            .query_first(format!("SHOW CREATE TABLE {from}.`{table}`"))
            .unwrap()
            .unwrap();
        conn.query_drop(create).unwrap();
    }
    conn.query_drop(format!(
        "INSERT INTO {to}.alembic_version SELECT * FROM {from}.alembic_version"
    ))
    .unwrap();
    conn.query_drop("SET FOREIGN_KEY_CHECKS = 1").unwrap();
}

/// A cell database (and an API database) with Nova 34.0.0's schema, made
/// by Nova's own migrations, and a nova.conf naming them.
pub struct NovaDb {
    pub server: String,
    pub venv: PathBuf,
    pub name: String,
    /// The cell database, in the tool's form.
    pub url: String,
    pub api_url: String,
    /// A nova.conf with `[database]` and `[api_database]`.
    pub conf: PathBuf,
    pub conn: Conn,
}

/// A fresh `NovaDb` named `name`, or `None` (a loud skip) without a
/// server or venv.
pub fn nova_db(name: &str) -> Option<NovaDb> {
    let server = server()?;
    let venv = venv()?;
    templates(&server, &venv);
    let mut conn = connect(&server);
    let api = format!("{name}_api");
    clone_db(&mut conn, TEMPLATE_CELL, name);
    clone_db(&mut conn, TEMPLATE_API, &api);
    let url = url_of(&server, name);
    let api_url = url_of(&server, &api);
    let conf = tmp(&format!("{name}.conf"));
    write_conf(&conf, &url, Some(&api_url));
    let conn = connect(&url);
    Some(NovaDb {
        server,
        venv,
        name: name.to_owned(),
        url,
        api_url,
        conf,
        conn,
    })
}

impl NovaDb {
    /// Runs a command of tests/nova/nova_objects.py: Nova's objects layer
    /// on this database.
    pub fn nova(&self, command: &str, request: &Value) -> Value {
        let child = self.nova_spawn(command, request);
        let out = child.wait_with_output().unwrap();
        nova_answer(command, &out)
    }

    /// The same, started in the background.
    pub fn nova_spawn(&self, command: &str, request: &Value) -> std::process::Child {
        let conf = self.conf.display().to_string();
        python(
            &self.venv,
            "nova_objects.py",
            &["--config-file", &conf, command],
            request,
        )
    }

    /// Every instance as Nova reads it (`Instance.get_by_uuid` with its
    /// system metadata, and Nova's snapshot code's properties).
    pub fn nova_read(&self, uuids: &[String]) -> BTreeMap<String, Value> {
        let answer = self.nova("read", &serde_json::json!({ "uuids": uuids }));
        serde_json::from_value(answer).unwrap()
    }

    /// `nova-sysmeta-db ARGS` (the database given by `--url` unless
    /// `args` names one).
    pub fn tool(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(tool());
        cmd.args(args);
        if !args
            .iter()
            .any(|a| a.starts_with("--url") || a.starts_with("--config"))
            && !args.contains(&"--help")
        {
            cmd.args(["--url", &self.url]);
        }
        cmd.env_remove("NOVA_DB_URL").output().unwrap()
    }

    /// Every row of `instances` (the columns the tool reads or writes) and
    /// of `instance_system_metadata`, in id order.
    pub fn rows(&mut self) -> Rows {
        // QUOTE keeps NULL apart from the text 'NULL'.
        let instances = self
            .conn
            .query_map(
                "SELECT id, CONCAT_WS(' ', QUOTE(uuid), QUOTE(image_ref), QUOTE(vm_state), QUOTE(task_state), \
                 QUOTE(deleted)), CAST(updated_at AS CHAR) FROM instances ORDER BY id",
                |(id, columns, updated_at): (u64, String, Option<String>)| (id, columns, updated_at),
            )
            .unwrap();
        let meta = self
            .conn
            .query(
                "SELECT id, CONCAT_WS(' ', instance_uuid, `key`, QUOTE(value), QUOTE(deleted), QUOTE(created_at), \
                 QUOTE(updated_at), QUOTE(deleted_at)) FROM instance_system_metadata ORDER BY id",
            )
            .unwrap();
        Rows { instances, meta }
    }

    /// The live metadata rows of `uuid`, key to value.
    pub fn live(&mut self, uuid: &str) -> BTreeMap<String, Option<String>> {
        self.conn
            .exec(
                "SELECT `key`, value FROM instance_system_metadata WHERE instance_uuid = ? \
                 AND (deleted = 0 OR deleted IS NULL) ORDER BY id",
                (uuid,),
            )
            .unwrap()
            .into_iter()
            .collect()
    }
}

/// Both tables, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// id, the columns, updated_at.
    pub instances: Vec<(u64, String, Option<String>)>,
    pub meta: Vec<(u64, String)>,
}

/// `tests/nova/SCRIPT ARGS` run by the Nova venv's Python, `request` on
/// its standard input, started in the background.
pub fn python(venv: &Path, script: &str, args: &[&str], request: &Value) -> std::process::Child {
    let mut child = Command::new(venv.join("bin/python"))
        .arg(here().join("nova").join(script))
        .args(args)
        .env("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    child
}

pub fn nova_answer(command: &str, out: &Output) -> Value {
    assert!(
        out.status.success(),
        "Nova's objects ({command}) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "Nova's objects ({command}) answered no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The exit code (-1 when the process was killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The JSON Lines of a `--json` run.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The `cell` objects of a `--json` run, by cell name.
pub fn cell_reports(out: &Output) -> BTreeMap<String, Value> {
    json_lines(out)
        .into_iter()
        .filter(|v| v["type"] == "cell")
        .map(|v| (v["cell"].as_str().unwrap().to_owned(), v))
        .collect()
}

pub fn uuid(i: u64) -> String {
    uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 | u128::from(i)).to_string()
}
