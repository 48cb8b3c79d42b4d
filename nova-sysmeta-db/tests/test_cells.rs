//! Cells as Nova's own `nova-manage cell_v2` makes them (an API database
//! from Nova's migrations, `map_cell0`, `create_cell` with a template, a
//! disabled cell, a cell whose server never answers), and the tool's
//! conventions around them: timeouts per cell, the other cells going on,
//! `--jobs`, errors said once, exit codes, the password off the command
//! line.

mod common;

use std::net::TcpListener;
use std::process::Command;

use common::{NovaDb, cell_reports, code, nova_db, nova_form, nova_manage, text, uuid};
use serde_json::json;

/// `n` damaged instances in `db`, through Nova's objects.
fn seed(db: &NovaDb, n: u64, first: u64) {
    let instances: Vec<_> = (first..first + n)
        .map(
            |i| json!({"uuid": uuid(i), "image_ref": "img-a", "system_metadata": {"image_os_type": "linux"}}),
        )
        .collect();
    db.nova("seed", &json!({ "instances": instances }));
}

/// A server that accepts connections and never answers.
fn silent_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < until && held.len() < 16 {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    });
    (port, handle)
}

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(common::tool());
    cmd.args(args).env_remove("NOVA_DB_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn cells_come_from_nova_manage_and_a_silent_one_fails_alone() {
    let Some(main) = nova_db("nova_cells_one") else {
        return;
    };
    let two = nova_db("nova_cells_two").unwrap();
    let zero = nova_db("nova_cells_zero").unwrap();
    seed(&main, 4, 0);
    seed(&two, 2, 100);
    seed(&zero, 1, 200);
    let (port, _silent) = silent_server();
    let conf = main.conf.clone();
    nova_manage(
        &main.venv,
        &conf,
        &[
            "cell_v2",
            "map_cell0",
            "--database_connection",
            &nova_form(&zero.url),
        ],
    );
    // cell1: a template, formatted from [database] connection as Nova does.
    let template = "{scheme}://{username}:{password}@{hostname}:{port}/nova_cells_one?{query}";
    for (name, connection, extra) in [
        ("cell1", template.to_owned(), None),
        ("cell2", nova_form(&two.url), Some("--disabled")),
        (
            "silent",
            format!("mysql+pymysql://nova:nova@127.0.0.1:{port}/nova?charset=utf8"),
            None,
        ),
    ] {
        let transport = format!("rabbit://guest:guest@127.0.0.1:5672/{name}");
        let mut args = vec![
            "cell_v2",
            "create_cell",
            "--name",
            name,
            "--transport-url",
            &transport,
        ];
        args.extend(["--database_connection", &connection]);
        args.extend(extra);
        nova_manage(&main.venv, &conf, &args);
    }
    let conf = conf.to_str().unwrap();

    // Where each cell is, as Nova lists them; cell0 left out, and why.
    let out = run(&["cells", "--json", "--config-file", conf], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let lines = common::json_lines(&out);
    let cell = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {lines:?}"))
    };
    assert_eq!(cell("cell1")["database"], "nova_cells_one");
    assert_eq!(
        cell("cell1")["url"],
        main.url.replacen("nova:nova@", "nova:***@", 1)
    );
    assert_eq!(cell("cell2")["disabled"], true);
    assert_eq!(cell("silent")["port"], port);
    let skipped = lines.iter().find(|l| l["type"] == "skipped_cell").unwrap();
    assert_eq!(
        skipped["uuid"], "00000000-0000-0000-0000-000000000000",
        "{skipped}"
    );

    // The silent cell times out; the others are audited; the error is
    // said once, on stderr; the exit status says a cell failed.
    let started = std::time::Instant::now();
    let out = run(
        &[
            "audit",
            "--json",
            "--config-file",
            conf,
            "--connect-timeout",
            "2",
            "--read-timeout",
            "2",
            "--jobs",
            "2",
        ],
        &[],
    );
    assert_eq!(code(&out), 6, "{}", text(&out));
    assert!(
        started.elapsed().as_secs() < 30,
        "a silent cell held the run for {:?}",
        started.elapsed()
    );
    let reports = cell_reports(&out);
    assert_eq!(reports["cell1"]["instances"], 4);
    assert_eq!(
        reports["cell2"]["instances"], 2,
        "a disabled cell's instances are still snapshotted"
    );
    assert!(
        reports["silent"]["error"].as_str().is_some(),
        "{}",
        reports["silent"]
    );
    assert!(!reports.contains_key("cell0"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("cell silent:").count(), 1, "{stderr}");
    // The human report says nothing of the error on stdout.
    let out = run(
        &[
            "audit",
            "--config-file",
            conf,
            "--read-timeout",
            "2",
            "--jobs",
            "1",
        ],
        &[],
    );
    assert_eq!(code(&out), 6, "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("silent"),
        "{}",
        text(&out)
    );

    // cell0 only when named; an unknown cell is bad input.
    let out = run(
        &["audit", "--json", "--config-file", conf, "--cell", "cell0"],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(cell_reports(&out)["cell0"]["instances"], 1);
    let out = run(&["audit", "--config-file", conf, "--cell", "nope"], &[]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no cell named \"nope\""),
        "{}",
        text(&out)
    );

    // Undo needs the repair's cells: a journal of cell1 given the cell's
    // bare URL is refused (it would have done nothing); a cut or edited
    // journal is refused; with the configuration, it is undone.
    let journal = common::tmp("cells.jsonl");
    let out = run(
        &[
            "repair",
            "--apply",
            "--config-file",
            conf,
            "--cell",
            "cell1",
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let j = journal.to_str().unwrap();
    let out = run(&["undo", "--url", &main.url, "--journal", j], &[]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cell1"),
        "{}",
        text(&out)
    );
    let whole = std::fs::read_to_string(&journal).unwrap();
    let cut = common::tmp("cells-cut.jsonl");
    std::fs::write(&cut, &whole[..whole.len() - 20]).unwrap();
    let out = run(
        &["undo", "--config-file", conf, "--journal", cut.to_str().unwrap()],
        &[],
    );
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cut short"),
        "{}",
        text(&out)
    );
    let forged = common::tmp("cells-forged.jsonl");
    std::fs::write(
        &forged,
        whole.replacen("\"value\":\"img-a\"", "\"value\":\"img-x\"", 1),
    )
    .unwrap();
    assert_ne!(std::fs::read_to_string(&forged).unwrap(), whole);
    let out = run(
        &[
            "undo",
            "--config-file",
            conf,
            "--journal",
            forged.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum"),
        "{}",
        text(&out)
    );
    let out = run(&["undo", "--config-file", conf, "--journal", j], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = run(
        &["audit", "--json", "--config-file", conf, "--cell", "cell1"],
        &[],
    );
    assert_eq!(
        cell_reports(&out)["cell1"]["to_repair"],
        4,
        "undone: {}",
        text(&out)
    );

    // The password off the command line: NOVA_DB_URL, or --url-file; and
    // NOVA_DB_URL set does not make --config-file a conflict.
    let out = run(&["audit", "--json"], &[("NOVA_DB_URL", &two.url)]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(cell_reports(&out)["default"]["instances"], 2);
    let file = common::tmp("url-file");
    std::fs::write(&file, format!("{}\n", two.url)).unwrap();
    let out = run(&["audit", "--url-file", file.to_str().unwrap()], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = run(
        &["audit", "--json", "--config-file", conf, "--cell", "cell1"],
        &[("NOVA_DB_URL", &two.url)],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(cell_reports(&out)["cell1"]["instances"], 4);
}

#[test]
fn usage_errors_and_unwritable_reports_say_so() {
    let Some(db) = nova_db("nova_cells_usage") else {
        return;
    };
    seed(&db, 1, 0);
    // No database at all: clap's usage error, not 127.
    let out = run(&["audit"], &[]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--config-file"),
        "{}",
        text(&out)
    );
    // --only lists its values.
    let out = run(&["audit", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    for kind in ["missing_base_image_ref", "soft_deleted_row", "stale_shelved_keys"] {
        assert!(help.contains(kind), "{help}");
    }
    let out = run(&["--help"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("127  invalid input"));
    // A report that cannot be written fails the run.
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(common::tool())
        .args(["audit", "--json", "--url", &db.url])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(code(&out), 255, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("writing the report"),
        "{}",
        text(&out)
    );
    // Connect exactly where the URL says: a `localhost` account of the
    // same name that may only read is never used instead (the driver's
    // switch to the local socket logged in as it, and the repair failed).
    let mut admin = common::connect(&db.server);
    for q in [
        "DROP USER IF EXISTS 'nova_where'@'127.0.0.1'",
        "DROP USER IF EXISTS 'nova_where'@'localhost'",
        "CREATE USER 'nova_where'@'127.0.0.1' IDENTIFIED BY 'p@ss:w/rd%?'",
        "CREATE USER 'nova_where'@'localhost' IDENTIFIED BY 'p@ss:w/rd%?'",
    ] {
        mysql::prelude::Queryable::query_drop(&mut admin, q).unwrap();
    }
    for grant in [
        format!("GRANT ALL ON {}.* TO 'nova_where'@'127.0.0.1'", db.name),
        format!("GRANT SELECT ON {}.* TO 'nova_where'@'localhost'", db.name),
    ] {
        mysql::prelude::Queryable::query_drop(&mut admin, grant).unwrap();
    }
    // The password percent-encoded, as SQLAlchemy reads it.
    let url = db
        .url
        .replacen("nova:nova@", "nova_where:p%40ss%3Aw%2Frd%25%3F@", 1);
    let journal = common::tmp("where.jsonl");
    let out = run(
        &[
            "repair",
            "--apply",
            "--url",
            &url,
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
}
