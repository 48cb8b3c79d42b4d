//! The tool reads Nova's configuration as Nova reads it: every case is
//! answered by oslo.config, SQLAlchemy's PyMySQL dialect and PyMySQL
//! themselves (tests/nova/nova_config.py, in the Nova venv) and by
//! `nova-sysmeta-db cells --json`, and the answers must agree, but for the
//! departures the README lists, each asserted here as such.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// Asks Nova's own libraries about `cases`.
fn oracle(venv: &Path, cases: &[Value]) -> Vec<Value> {
    let child = common::python(venv, "nova_config.py", &[], &Value::from(cases.to_vec()));
    let out = child.wait_with_output().unwrap();
    let answer = common::nova_answer("nova_config", &out);
    answer.as_array().unwrap().clone()
}

/// What the tool makes of `args` (`cells --json`): the described cell,
/// or the error it exits 127 with.
fn tool(args: &[String]) -> Result<Value, String> {
    let out = Command::new(common::tool())
        .arg("cells")
        .arg("--json")
        .args(args)
        .env_remove("NOVA_DB_URL")
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Ok(common::json_lines(&out).remove(0)),
        Some(127) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        _ => panic!("cells {args:?}: {}", common::text(&out)),
    }
}

/// The fields both describe, the tool's way: PyMySQL's default connect
/// timeout (10 s) is the tool's when the URL gives none.
fn agree(what: &str, tool: &Value, nova: &Value) {
    for field in [
        "host",
        "port",
        "unix_socket",
        "user",
        "database",
        "read_timeout",
        "write_timeout",
        "plugins",
    ] {
        assert_eq!(
            tool[field], nova[field],
            "{what}: {field}: tool {tool} / Nova {nova}"
        );
    }
    let timeout = if tool["connect_timeout"].is_null() {
        json!(10)
    } else {
        tool["connect_timeout"].clone()
    };
    assert_eq!(timeout, nova["connect_timeout"], "{what}: connect_timeout");
    match (&tool["tls"], &nova["tls"]) {
        (Value::Null, Value::Null) => {}
        (t, n) => {
            for field in ["verify", "check_hostname", "cert", "key", "ca"] {
                assert_eq!(t[field], n[field], "{what}: tls {field}: tool {t} / Nova {n}");
            }
        }
    }
}

/// A configuration case: files and folders, in command-line order.
enum Part {
    File(&'static str, &'static str),
    Dir(&'static str, &'static [(&'static str, &'static str)]),
}

const URL: &str = "mysql+pymysql://nova:pw@db.example:3307/nova?charset=utf8";

fn conf_cases() -> Vec<Vec<Part>> {
    use Part::{Dir, File};
    vec![
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql+pymysql://nova:pw@db.example:3307/nova?charset=utf8\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = \"mysql+pymysql://nova:pw@db.example/nova\"\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = 'mysql://nova:pw@db.example/nova'\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection: mysql://nova:pw@colon.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection=mysql://nova:pw@tight.example/nova   \n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:p$$w@dollar.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:p\\$w@backslash.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[DEFAULT]\nmy_ip = 10.1.2.3\n[database]\nconnection = mysql://nova:pw@$my_ip/nova\n",
        )],
        vec![File(
            "a.conf",
            "[DEFAULT]\nmy_ip = 10.1.2.4\n[database]\nconnection = mysql://nova:pw@${my_ip}:3306/nova\n",
        )],
        vec![File(
            "a.conf",
            "[DEFAULT]\nhost = h1.example\n[database]\nconnection = mysql://nova:pw@$host/nova\n",
        )],
        vec![File(
            "a.conf",
            "[DATABASE]\nconnection = mysql://nova:pw@upper.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[Database]\nconnection = mysql://nova:pw@mixed.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "# comment\n; another\n[database]\n# connection = mysql://no/no\nconnection = mysql://nova:pw@c.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:pw@first.example/nova\nconnection = mysql://nova:pw@second.example/nova\n",
        )],
        vec![
            File(
                "a.conf",
                "[database]\nconnection = mysql://nova:pw@a.example/nova\n",
            ),
            File(
                "b.conf",
                "[database]\nconnection = mysql://nova:pw@b.example/nova\n",
            ),
        ],
        vec![
            File(
                "a.conf",
                "[database]\nconnection = mysql://nova:pw@a.example/nova\n",
            ),
            File("b.conf", "[database]\nmax_retries = 3\n"),
        ],
        vec![
            File(
                "a.conf",
                "[database]\nconnection = mysql://nova:pw@a.example/nova\n",
            ),
            Dir(
                "nova.conf.d",
                &[
                    (
                        "10-db.conf",
                        "[database]\nconnection = mysql://nova:pw@ten.example/nova\n",
                    ),
                    (
                        "2-db.conf",
                        "[database]\nconnection = mysql://nova:pw@two.example/nova\n",
                    ),
                    (
                        "99.txt",
                        "[database]\nconnection = mysql://nova:pw@txt.example/nova\n",
                    ),
                ],
            ),
        ],
        vec![
            Dir(
                "d",
                &[(
                    "1.conf",
                    "[database]\nconnection = mysql://nova:pw@dir.example/nova\n",
                )],
            ),
            File(
                "z.conf",
                "[database]\nconnection = mysql://nova:pw@after.example/nova\n",
            ),
        ],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:pw@crlf.example/nova\r\n[DEFAULT]\r\ndebug = true\r\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:pw@cont.example/nova\n\tcontinued\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:p\u{e9}w@unicode.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = \"mysql://nova:pw@half.example/nova'\n",
        )],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:pw@sp.example/nova # not a comment\n",
        )],
        // Refused by both.
        vec![File(
            "a.conf",
            "\u{feff}[database]\nconnection = mysql://nova:pw@bom.example/nova\n",
        )],
        vec![File(
            "a.conf",
            "connection = mysql://nova:pw@nosection.example/nova\n",
        )],
        vec![File("a.conf", "[database\nconnection = mysql://x/y\n")],
        vec![File("a.conf", "[database]\n  continuation first\n")],
        vec![File("a.conf", "[database]\nno assignment here\n")],
        vec![File("a.conf", "[database]\n= empty key\n")],
        vec![File(
            "a.conf",
            "[database]\nconnection = mysql://nova:pw@$nosuch_option/nova\n",
        )],
        // No [database] connection at all (Nova: None or empty).
        vec![File(
            "a.conf",
            "[ database ]\nconnection = mysql://nova:pw@spaced.example/nova\n",
        )],
        vec![File("a.conf", "[database]\nconnection =\n")],
        vec![File("a.conf", "[DEFAULT]\ndebug = true\n")],
    ]
}

#[test]
fn configuration_files_are_read_as_oslo_config_reads_them() {
    let Some(venv) = common::venv() else { return };
    let cases = conf_cases();
    let mut asked = Vec::new();
    let mut args = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let dir = common::tmp(&format!("conf-case-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut pairs = Vec::new();
        let mut tool_args = Vec::new();
        for part in case {
            match part {
                Part::File(name, text) => {
                    let path = dir.join(name);
                    std::fs::write(&path, text).unwrap();
                    pairs.push(json!(["--config-file", path]));
                    tool_args.extend(["--config-file".to_owned(), path.display().to_string()]);
                }
                Part::Dir(name, files) => {
                    let path = dir.join(name);
                    std::fs::create_dir_all(&path).unwrap();
                    for (f, text) in *files {
                        std::fs::write(path.join(f), text).unwrap();
                    }
                    pairs.push(json!(["--config-dir", path]));
                    tool_args.extend(["--config-dir".to_owned(), path.display().to_string()]);
                }
            }
        }
        asked.push(json!({ "conf": pairs }));
        args.push(tool_args);
    }
    let conf_answers = oracle(&venv, &asked);
    // What PyMySQL makes of each connection string oslo.config gave.
    let url_cases: Vec<Value> = conf_answers
        .iter()
        .map(|a| json!({ "url": a["database"].as_str().unwrap_or("sqlite://") }))
        .collect();
    let url_answers = oracle(&venv, &url_cases);
    let (mut agreed, mut refused) = (0, 0);
    for (n, (nova, tool_args)) in conf_answers.iter().zip(&args).enumerate() {
        let what = format!("case {n} {tool_args:?}");
        let got = tool(tool_args);
        // Nova can use it: oslo.config read a connection, and PyMySQL takes it.
        let usable = nova.get("error").is_none()
            && nova["database"].as_str().is_some_and(|d| !d.is_empty())
            && url_answers[n].get("error").is_none();
        match (usable, got) {
            (false, Err(_)) => refused += 1,
            (true, Ok(tool)) => {
                agree(&what, &tool, &url_answers[n]);
                agreed += 1;
            }
            (_, got) => panic!("{what}: Nova {nova} {} / tool {got:?}", url_answers[n]),
        }
    }
    eprintln!("configuration cases: {agreed} read alike, {refused} refused by both");
    assert_eq!(agreed + refused, cases.len());
    assert!(agreed >= 20 && refused >= 8, "{agreed} {refused}");
}

/// The departure: oslo.config resolves `$name` only for options Nova
/// registers (and gives an unset one its default); the tool resolves
/// names from the files alone.
#[test]
fn interpolation_of_names_nova_does_not_register_is_the_one_departure() {
    let Some(venv) = common::venv() else { return };
    let path = common::tmp("departure.conf");
    std::fs::write(
        &path,
        "[database]\npw = s3cret\nconnection = mysql://nova:$pw@db.example/nova\n",
    )
    .unwrap();
    let nova = oracle(&venv, &[json!({"conf": [["--config-file", path]]})]);
    assert_eq!(nova[0]["error"], "NoSuchOptError", "{nova:?}");
    let got = tool(&["--config-file".to_owned(), path.display().to_string()]).unwrap();
    assert_eq!(got["host"], "db.example");
}

/// The TLS files `scripts/mariadb` made (real PEM files: PyMySQL loads them).
fn tls_file(name: &str) -> String {
    let dir =
        std::env::var("NOVA_SYSMETA_MARIADB_DIR").unwrap_or_else(|_| "/tmp/nova-sysmeta-mariadb".to_owned());
    let path = PathBuf::from(dir).join("tls").join(name);
    assert!(
        path.is_file(),
        "{} is missing: start the server with scripts/mariadb",
        path.display()
    );
    path.display().to_string()
}

#[test]
fn connection_urls_are_read_as_sqlalchemy_and_pymysql_read_them() {
    let Some(venv) = common::venv() else { return };
    if common::server().is_none() {
        return;
    }
    let (ca, cert, key) = (
        tls_file("ca.pem"),
        tls_file("client.pem"),
        tls_file("client-key.pem"),
    );
    let urls: Vec<String> = vec![
        URL.to_owned(),
        "mysql://nova:pw@db.example/nova".to_owned(),
        "mysql+pymysql://nova:p%40ss%3Aw%2Frd@db.example:3306/nova?charset=utf8".to_owned(),
        "mysql+pymysql://n%6Fva:pw@db.example/nova".to_owned(),
        "mysql+pymysql://nova:pw@[::1]:3307/nova".to_owned(),
        "mysql+pymysql://nova:pw@DB.Example/Nova".to_owned(),
        "mysql+pymysql://nova:pw@/nova?unix_socket=/run/mysqld/mysqld.sock".to_owned(),
        "mysql+pymysql://nova:pw@localhost/nova?unix_socket=/run/mysqld/mysqld.sock&charset=utf8".to_owned(),
        "mysql+pymysql://nova:pw@db.example/nova?connect_timeout=5&read_timeout=30&write_timeout=20"
            .to_owned(),
        "mysql+pymysql://nova:pw@db.example/nova?charset=utf8&plugin=dbcounter".to_owned(),
        "mysql+pymysql://nova:pw@db.example/nova?charset=utf8mb4".to_owned(),
        "mysql+pymysql://nova:pw@db.example".to_owned(),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}"),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}&ssl_check_hostname=false"),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}&ssl_check_hostname=0"),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}&ssl_verify_cert=false"),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_cert={cert}&ssl_key={key}"),
        format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}&ssl_cert={cert}&ssl_key={key}"),
        "mysql+pymysql://nova:pw@db.example/nova?ssl_verify_cert=true".to_owned(),
    ];
    let cases: Vec<Value> = urls.iter().map(|u| json!({ "url": u })).collect();
    let answers = oracle(&venv, &cases);
    for (url, nova) in urls.iter().zip(&answers) {
        assert!(nova.get("error").is_none(), "{url}: {nova}");
        let got = tool(&["--url".to_owned(), url.clone()]).unwrap_or_else(|e| panic!("{url}: {e}"));
        agree(url, &got, nova);
    }
    // The TLS departure: given ssl_verify_cert or ssl_verify_identity,
    // PyMySQL drops the ssl_ca that SQLAlchemy read and trusts the
    // system's CAs, and then checks no host name at all; the tool keeps
    // ssl_ca as the only CA it trusts, and checks the name when
    // ssl_verify_identity asks (stricter checks, never weaker ones).
    for (option, checks) in [
        ("ssl_verify_cert=true", false),
        ("ssl_verify_identity=true", true),
    ] {
        let url = format!("mysql+pymysql://nova:pw@db.example/nova?ssl_ca={ca}&{option}");
        let nova = &oracle(&venv, &[json!({ "url": url })])[0];
        assert_eq!(
            (
                &nova["tls"]["ca"],
                &nova["tls"]["verify"],
                &nova["tls"]["check_hostname"]
            ),
            (&Value::Null, &json!(true), &json!(false)),
            "{nova}"
        );
        let got = tool(&["--url".to_owned(), url]).unwrap();
        assert_eq!(
            (
                &got["tls"]["ca"],
                &got["tls"]["verify"],
                &got["tls"]["check_hostname"]
            ),
            (&json!(ca), &json!(true), &json!(checks)),
            "{got}"
        );
    }
    // Options PyMySQL honours and the tool cannot: refused by name.
    for (url, option) in [
        (
            "mysql+pymysql://nova:pw@db.example/nova?ssl_capath=/etc/ssl/certs",
            "ssl_capath",
        ),
        (
            "mysql+pymysql://nova:pw@db.example/nova?ssl_cipher=AES256-SHA",
            "ssl_cipher",
        ),
        (
            "mysql+pymysql://nova:pw@db.example/nova?compress=true",
            "compress",
        ),
        (
            "mysql+pymysql://nova:pw@db.example/nova?local_infile=1",
            "local_infile",
        ),
        (
            "mysql+pymysql://nova:pw@db.example/nova?ssl_verify_cert=optional",
            "ssl_verify_cert=optional",
        ),
    ] {
        let err = tool(&["--url".to_owned(), url.to_owned()]).unwrap_err();
        assert!(err.contains(option), "{url}: {err}");
    }
}
