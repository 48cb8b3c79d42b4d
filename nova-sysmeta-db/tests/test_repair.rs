//! `nova-sysmeta-db` on a large database with Nova 34.0.0's schema (made by
//! Nova's own migrations, see `common`), seeded row by row for speed with
//! the rows Nova's flows (the crate's, proven against Nova) write: dry run,
//! apply, a second apply, runs killed midway then resumed, undo, selection,
//! locks held by a writer, TLS. Each checked row by row. `test_nova.rs`
//! has Nova's own objects as writers and readers.
//!
//! Needs the server and the Nova venv `scripts/test` provides; without
//! them each test says loudly that it skipped, and fails under CI or
//! `NOVA_SYSMETA_REQUIRE_DB`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};
use nova_sysmeta::audit::{InstanceFacts, findings, repair};
use nova_sysmeta::{Flavor, ImageMeta, NovaConfig, Release, RequestContext, SystemMetadata, create, rebuild};
use serde_json::json;

const INSTANCES: u64 = 3000;

fn server_url() -> Option<String> {
    common::server()
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nova-sysmeta-db"))
}

/// A fresh database with Nova 34.0.0's schema, made by Nova's own
/// migrations (`common::nova_db`); its connection and URL. Skips (loudly)
/// without the Nova venv.
fn fresh_db(_server: &str, name: &str) -> (Conn, String) {
    let db = common::nova_db(name).expect("the Nova venv (NOVA_SYSMETA_NOVA_VENV)");
    (db.conn, db.url)
}

/// One seeded instance: what it is and what its live rows say.
struct Seeded {
    uuid: String,
    image_ref: String,
    vm_state: String,
    deleted: bool,
    live: SystemMetadata,
    /// Soft-deleted rows (which Nova reads, so a repair removes them).
    soft: u64,
}

fn uuid(i: u64) -> String {
    uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 | u128::from(i)).to_string()
}

fn image(i: u64, props: serde_json::Value) -> ImageMeta {
    serde_json::from_value(json!({
        "id": format!("img-{}", i % 40), "min_ram": 512, "min_disk": i % 30, "disk_format": "qcow2",
        "container_format": "bare", "properties": props,
    }))
    .unwrap()
}

/// Seeds `INSTANCES` instances: healthy ones, ones the pre-fix rebuild
/// damaged (some with a soft-deleted base ref row), stale shelved keys,
/// stored skip keys and non-integer min_disk, values over 255 bytes,
/// shelved ones, and deleted instances with damage (to be left alone).
fn seed(conn: &mut Conn) -> Vec<Seeded> {
    let ctx = RequestContext::new("u", "p").with_names("alice", "demo");
    let flavor = Flavor::new(20);
    let mut seeded = Vec::new();
    let mut instance_rows = Vec::new();
    let mut meta_rows: Vec<(String, String, String, u8)> = Vec::new(); // uuid, key, value, soft-deleted
    for i in 0..INSTANCES {
        let uuid = uuid(i);
        let first = image(i, json!({"os_type": "windows", "hw_firmware_type": "uefi"}));
        let first_ref = format!("img-{}", i % 40);
        let mut sm =
            create::populate(&create::Request::new(&first, &first_ref, &ctx).flavor(&flavor)).unwrap();
        let mut image_ref = first_ref;
        let mut vm_state = "active".to_owned();
        let mut deleted = false;
        match i % 10 {
            0..=2 => {}
            3..=5 => {
                // Rebuilt after the fix (3: healthy) or before it (4, 5: the
                // base image ref is lost).
                let release = if i % 10 == 3 {
                    Release::LATEST
                } else {
                    Release::new(20, 6, 1).unwrap()
                };
                image_ref = format!("img-r{}", i % 13);
                let mut b = image(i + 1, json!({"os_type": "linux"}));
                b.id = Some(nova_sysmeta::Value::from(image_ref.as_str()));
                let config = NovaConfig::for_release(release);
                let request = rebuild::Request::new(&sm, &b, Some(&image_ref))
                    .flavor(&flavor)
                    .config(&config);
                sm = rebuild::reset_image_metadata(&request).unwrap();
                if i % 20 == 4 {
                    meta_rows.push((
                        uuid.clone(),
                        "image_base_image_ref".into(),
                        "img-ancient".into(),
                        1,
                    ));
                }
            }
            6 => {
                sm.insert("shelved_at", "2026-01-01T00:00:00.000000");
                sm.insert("shelved_image_id", "img-s");
                sm.insert("shelved_host", "compute-3");
            }
            7 => {
                sm.insert("image_min_disk", "forty");
                sm.insert("image_block_device_mapping", "[{\"boot_index\": 0}]");
            }
            8 => {
                if i % 20 == 8 {
                    sm.insert("image_description", "é".repeat(200));
                } else {
                    vm_state = "shelved_offloaded".into();
                    sm.insert("shelved_at", "2026-02-02T00:00:00.000000");
                }
            }
            _ => {
                // A deleted instance that was damaged: never touched.
                deleted = true;
                sm.remove("image_base_image_ref");
            }
        }
        // Old, soft-deleted history rows on some instances.
        if i % 7 == 0 {
            meta_rows.push((uuid.clone(), "image_os_type".into(), "old".into(), 1));
        }
        for (k, v) in sm.iter() {
            let v = v.expect("seeded values are strings");
            meta_rows.push((uuid.clone(), k.to_owned(), v.to_owned(), deleted as u8));
        }
        instance_rows.push((uuid.clone(), image_ref.clone(), vm_state.clone(), deleted));
        let soft = meta_rows.iter().filter(|r| r.0 == uuid && r.3 == 1).count() as u64;
        seeded.push(Seeded {
            uuid,
            image_ref,
            vm_state,
            deleted,
            live: if deleted { SystemMetadata::new() } else { sm },
            soft,
        });
    }
    for chunk in instance_rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(u, r, s, d)| {
                let del = if *d { "-1" } else { "0" };
                format!("(UTC_TIMESTAMP(), '{u}', '{r}', '{s}', 'p', {del})")
            })
            .collect();
        conn.query_drop(format!(
            "INSERT INTO instances (created_at, uuid, image_ref, vm_state, project_id, deleted) VALUES {}",
            values.join(", ")
        ))
        .unwrap();
    }
    // Soft-deleted instances point `deleted` at their id, as Nova does.
    conn.query_drop("UPDATE instances SET deleted = id, deleted_at = UTC_TIMESTAMP() WHERE deleted = -1")
        .unwrap();
    for chunk in meta_rows.chunks(1000) {
        let mut params = Vec::new();
        let values: Vec<&str> = chunk
            .iter()
            .map(|(u, k, v, d)| {
                params.extend([
                    mysql::Value::from(u.as_str()),
                    k.as_str().into(),
                    v.as_str().into(),
                ]);
                if *d == 1 {
                    "(UTC_TIMESTAMP(), UTC_TIMESTAMP(), -1, ?, ?, ?)"
                } else {
                    "(UTC_TIMESTAMP(), NULL, 0, ?, ?, ?)"
                }
            })
            .collect();
        conn.exec_drop(
            format!(
                "INSERT INTO instance_system_metadata (created_at, deleted_at, deleted, instance_uuid, `key`, value) VALUES {}",
                values.join(", ")
            ),
            mysql::Params::Positional(params),
        )
        .unwrap();
    }
    conn.query_drop("UPDATE instance_system_metadata SET deleted = id WHERE deleted = -1")
        .unwrap();
    seeded
}

type Row = (
    u64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    u64,
);

fn all_rows(conn: &mut Conn) -> Vec<Row> {
    conn.query(
        "SELECT id, CAST(created_at AS CHAR), CAST(updated_at AS CHAR), CAST(deleted_at AS CHAR), `key`, value, \
         instance_uuid, deleted FROM instance_system_metadata ORDER BY id",
    )
    .unwrap()
}

fn facts(s: &Seeded) -> InstanceFacts {
    let mut facts = InstanceFacts::new()
        .with_image_ref(s.image_ref.as_str())
        .with_vm_state(s.vm_state.as_str());
    facts.uuid = s.uuid.parse().ok();
    facts
}

/// `nova-sysmeta-db repair --url URL ...` (`audit` when `extra` starts
/// with it); the report on standard output, and the exit code, which must
/// be one of the documented ones for a completed run.
fn run_tool(url: &str, extra: &[&str]) -> (String, i32) {
    let (command, extra) = match extra.first() {
        Some(&c) if ["audit", "repair"].contains(&c) => (c, &extra[1..]),
        _ => ("repair", extra),
    };
    let out = Command::new(example())
        .arg(command)
        .arg("--url")
        .arg(url)
        .args(extra)
        .output()
        .expect("nova-sysmeta-db runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        [0, 3, 4].contains(&code),
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), code)
}

/// `nova-sysmeta-db repair --url URL --apply --journal JOURNAL EXTRA...`
/// started in the background, its standard error piped.
fn spawn_repair(url: &str, journal: &std::path::Path, extra: &[&str], stdout: Stdio) -> std::process::Child {
    Command::new(example())
        .args(["repair", "--url", url, "--apply", "--journal"])
        .arg(journal)
        .args(extra)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("nova-sysmeta-db starts")
}

/// The batches a one-cell report says were retried (`(N retried)`).
fn retried(report: &str) -> u64 {
    report
        .split(" retried")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// A repair that met a lock (deadlock or wait timeout) with a Nova writer
/// on instance 0: it succeeded, reported a retry, and repaired instance 0.
fn repaired_after_a_retry(out: &std::process::Output, conn: &mut Conn) {
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(retried(&report) >= 1, "no retry reported: {report}");
    assert!(live_rows(conn, &uuid(0)).contains_key("image_base_image_ref"));
}

fn run_example(url: &str, extra: &[&str]) -> String {
    let journal = journal_path("run");
    let mut args = extra.to_vec();
    let journal_arg = journal.display().to_string();
    if extra.contains(&"--apply") {
        args.extend(["--journal", journal_arg.as_str()]);
    }
    run_tool(url, &args).0
}

/// Checks every row against what the crate's repair says each instance
/// should hold, and that history and deleted instances are untouched.
fn check_repaired(conn: &mut Conn, seeded: &[Seeded], before: &[Row]) {
    let after = all_rows(conn);
    let before_by_id: BTreeMap<u64, &Row> = before.iter().map(|r| (r.0, r)).collect();
    // Every row of a deleted instance: byte for byte. A live instance's
    // soft-deleted rows (which Nova reads) are gone; none appears.
    let deleted_uuids: BTreeSet<&str> = seeded
        .iter()
        .filter(|s| s.deleted)
        .map(|s| s.uuid.as_str())
        .collect();
    for row in before.iter().filter(|r| deleted_uuids.contains(r.6.as_str())) {
        assert!(
            after.contains(row),
            "a deleted instance's row {} changed or vanished",
            row.0
        );
    }
    for row in &after {
        if row.7 != 0 {
            assert!(
                deleted_uuids.contains(row.6.as_str()),
                "a live instance kept or got a soft-deleted row {row:?}"
            );
        }
    }
    let mut live: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in after.iter().filter(|r| r.7 == 0) {
        live.entry(row.6.as_str()).or_default().push(row);
    }
    for s in seeded.iter().filter(|s| !s.deleted) {
        let want = repair(&s.live, &facts(s), &NovaConfig::default()).system_metadata;
        let rows = live.remove(s.uuid.as_str()).unwrap_or_default();
        let keys: Vec<&str> = rows.iter().map(|r| r.4.as_str()).collect();
        let unique: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(keys.len(), unique.len(), "{}: a key is doubled: {keys:?}", s.uuid);
        let got: BTreeMap<&str, Option<&str>> = rows.iter().map(|r| (r.4.as_str(), r.5.as_deref())).collect();
        let want_map: BTreeMap<&str, Option<&str>> = want.iter().collect();
        assert_eq!(got, want_map, "{}", s.uuid);
        for row in rows {
            match before_by_id.get(&row.0) {
                None => {
                    assert!(
                        row.1.is_some() && row.2.is_none() && row.3.is_none(),
                        "inserted row {row:?}"
                    );
                }
                Some(old) if old.5 != row.5 => {
                    assert!(row.2.is_some(), "updated row without updated_at {row:?}")
                }
                Some(old) => assert_eq!(*old, row, "untouched row changed"),
            }
        }
        assert!(
            findings(&want, &facts(s), &NovaConfig::default())
                .iter()
                .all(|f| !matches!(
                    f.kind,
                    nova_sysmeta::audit::FindingKind::MissingBaseImageRef
                        | nova_sysmeta::audit::FindingKind::StaleShelvedKeys
                ))
        );
    }
    assert!(
        live.is_empty(),
        "rows appeared for {} deleted instances, e.g. {:?}",
        live.len(),
        live.keys().take(3).collect::<Vec<_>>()
    );
}

fn expected_counts(seeded: &[Seeded]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for s in seeded.iter().filter(|s| !s.deleted) {
        for f in findings(&s.live, &facts(s), &NovaConfig::default()) {
            *counts.entry(f.kind.to_string()).or_default() += 1;
        }
        if s.soft > 0 {
            *counts.entry("soft_deleted_row".to_owned()).or_default() += s.soft;
        }
    }
    counts
}

fn reported_counts(report: &str) -> BTreeMap<String, u64> {
    report
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| {
            let mut parts = l.split_whitespace();
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// A fresh, seeded database named `name`: its connection, its URL, what
/// was seeded and every metadata row. `None` (skip) without a server.
fn seeded_db(name: &str) -> Option<(Conn, String, Vec<Seeded>, Vec<Row>)> {
    let Some(server) = server_url() else {
        eprintln!("skipped: NOVA_SYSMETA_MARIADB_URL is not set (eval \"$(scripts/mariadb start)\")");
        return None;
    };
    let (mut conn, url) = fresh_db(&server, name);
    let seeded = seed(&mut conn);
    let before = all_rows(&mut conn);
    Some((conn, url, seeded, before))
}

#[test]
fn dry_run_then_apply_then_apply_again() {
    let Some((mut conn, url, seeded, before)) = seeded_db("nova_repair_full") else {
        return;
    };

    let report = run_example(&url, &["--batch-size", "250"]);
    assert_eq!(all_rows(&mut conn), before, "a dry run wrote to the database");
    assert_eq!(reported_counts(&report), expected_counts(&seeded), "{report}");
    let live = seeded.iter().filter(|s| !s.deleted).count();
    assert!(report.contains(&format!(": {live} instances, ")), "{report}");
    assert!(expected_counts(&seeded)["missing_base_image_ref"] >= 500);

    let report = run_example(&url, &["--apply", "--batch-size", "250"]);
    assert!(report.contains("rows written:"), "{report}");
    check_repaired(&mut conn, &seeded, &before);

    let repaired = all_rows(&mut conn);
    let report = run_example(&url, &["--apply", "--verbose"]);
    assert!(
        report.contains("rows written: 0 updated, 0 inserted, 0 deleted"),
        "{report}"
    );
    assert_eq!(all_rows(&mut conn), repaired, "a second run changed something");
}

#[test]
fn a_run_killed_midway_is_finished_by_the_next_one() {
    let Some((mut conn, url, seeded, before)) = seeded_db("nova_repair_killed") else {
        return;
    };

    let journal = std::env::temp_dir().join(format!("nova-sysmeta-db-killed-{}.jsonl", std::process::id()));
    let mut child = spawn_repair(
        &url,
        &journal,
        &["--batch-size", "100", "--batch-delay-ms", "150"],
        Stdio::null(),
    );
    // Off a terminal, progress is a line a batch; kill after the third.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    let mut buf = Vec::new();
    while seen < 3 {
        buf.clear();
        if stderr.read_until(b'\n', &mut buf).unwrap() == 0 {
            break;
        }
        seen += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen, 3, "the run ended before it could be killed");

    // Midway: whole batches are repaired, the rest untouched; every
    // instance holds either its old map or its repaired one.
    let midway = all_rows(&mut conn);
    assert_ne!(midway, before, "nothing was committed before the kill");
    let mut live: BTreeMap<&str, BTreeMap<&str, Option<&str>>> = BTreeMap::new();
    for row in midway.iter().filter(|r| r.7 == 0) {
        live.entry(row.6.as_str())
            .or_default()
            .insert(row.4.as_str(), row.5.as_deref());
    }
    let (mut repaired, mut pending) = (0, 0);
    for s in seeded.iter().filter(|s| !s.deleted) {
        let got = live.remove(s.uuid.as_str()).unwrap_or_default();
        let old: BTreeMap<&str, Option<&str>> = s.live.iter().collect();
        let fixed = repair(&s.live, &facts(s), &NovaConfig::default()).system_metadata;
        let new: BTreeMap<&str, Option<&str>> = fixed.iter().collect();
        if got == new {
            repaired += 1;
        } else {
            assert_eq!(got, old, "{} is half repaired", s.uuid);
            pending += 1;
        }
    }
    assert!(
        repaired >= 300 && pending > 0,
        "repaired {repaired}, pending {pending}"
    );

    run_example(&url, &["--apply"]);
    check_repaired(&mut conn, &seeded, &before);
}

/// A small database for the tests below: `n` instances of project `p`
/// (every third of project `q`), each damaged by the pre-fix rebuild (no
/// base image ref) and holding `image_os_type`.
fn small_db(server: &str, name: &str, n: u64) -> (Conn, String) {
    let (mut conn, url) = fresh_db(server, name);
    for i in 0..n {
        let project = if i % 3 == 2 { "q" } else { "p" };
        conn.exec_drop(
            "INSERT INTO instances (created_at, uuid, image_ref, vm_state, project_id, deleted) \
             VALUES (UTC_TIMESTAMP(), ?, ?, 'active', ?, 0)",
            (uuid(i), format!("img-{i}"), project),
        )
        .unwrap();
        conn.exec_drop(
            "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
             VALUES (UTC_TIMESTAMP(), 0, ?, 'image_os_type', 'linux')",
            (uuid(i),),
        )
        .unwrap();
    }
    (conn, url)
}

/// The live rows of one instance, key to value.
fn live_rows(conn: &mut Conn, uuid: &str) -> BTreeMap<String, Option<String>> {
    conn.exec(
        "SELECT `key`, value FROM instance_system_metadata WHERE deleted = 0 AND instance_uuid = ?",
        (uuid,),
    )
    .unwrap()
    .into_iter()
    .collect()
}

/// A new journal's path (each repair writes its own).
fn journal_path(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    common::tmp(&format!("{name}-{n}.jsonl"))
}

#[test]
fn undo_puts_back_every_row_byte_for_byte() {
    let Some((mut conn, url, _seeded, before)) = seeded_db("nova_repair_undo") else {
        return;
    };
    let journal = journal_path("undo");
    let _ = std::fs::remove_file(&journal);
    let (report, code) = run_tool(&url, &["--apply", "--journal", journal.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    let repaired = all_rows(&mut conn);
    assert_ne!(repaired, before);
    // Each inserted row is journalled as the database wrote it, every
    // column (its created_at from the server included).
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut inserts = 0;
    for line in text.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        if line["type"] != "row" || line["op"] != "insert" {
            continue;
        }
        inserts += 1;
        let r = &line["after"];
        let id = r["id"].as_u64().unwrap();
        let row = repaired
            .iter()
            .find(|row| row.0 == id)
            .expect("the inserted row is in the table");
        let journalled: Row = (
            id,
            r["created_at"].as_str().map(str::to_owned),
            r["updated_at"].as_str().map(str::to_owned),
            r["deleted_at"].as_str().map(str::to_owned),
            r["key"].as_str().unwrap().to_owned(),
            r["value"].as_str().map(str::to_owned),
            r["instance_uuid"].as_str().unwrap().to_owned(),
            r["deleted"].as_u64().unwrap(),
        );
        assert_eq!(&journalled, row);
        assert!(row.1.is_some(), "{row:?}");
    }
    let new_rows = repaired
        .iter()
        .filter(|r| !before.iter().any(|b| b.0 == r.0))
        .count();
    assert_eq!(inserts, new_rows, "every inserted row is journalled once");
    assert!(inserts > 0);
    let out = Command::new(example())
        .args(["undo", "--url", &url, "--journal", journal.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        all_rows(&mut conn),
        before,
        "undo did not restore the table exactly"
    );
    // Undo again: nothing left to put back.
    let out = Command::new(example())
        .args(["undo", "--url", &url, "--journal", journal.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(all_rows(&mut conn), before);
}

#[test]
fn selection_flags_choose_what_is_repaired() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_select", 9);
    // A stale shelved key on instance 0, besides its missing base ref.
    conn.exec_drop(
        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
         VALUES (UTC_TIMESTAMP(), 0, ?, 'shelved_at', 't')",
        (uuid(0),),
    )
    .unwrap();
    let journal = journal_path("select");
    let j = journal.to_str().unwrap();
    let journal2 = journal_path("select");
    let j2 = journal2.to_str().unwrap();
    // One kind only: the base ref comes back, the stale key stays.
    run_tool(
        &url,
        &[
            "--apply",
            "--journal",
            j,
            "--only",
            "missing_base_image_ref",
            "--instance",
            &uuid(0),
        ],
    );
    let rows = live_rows(&mut conn, &uuid(0));
    assert_eq!(rows.get("image_base_image_ref"), Some(&Some("img-0".to_owned())));
    assert!(rows.contains_key("shelved_at"), "{rows:?}");
    assert!(
        !live_rows(&mut conn, &uuid(1)).contains_key("image_base_image_ref"),
        "another instance changed"
    );
    // One project.
    run_tool(&url, &["--apply", "--journal", j2, "--project", "q"]);
    for i in 1..9 {
        let fixed = live_rows(&mut conn, &uuid(i)).contains_key("image_base_image_ref");
        assert_eq!(fixed, i % 3 == 2, "instance {i}");
    }
    // An unknown kind is bad input.
    let out = Command::new(example())
        .args(["repair", "--url", &url, "--only", "no_such_kind"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses a bad value");
    // Nothing left for project q.
    let (_, code) = run_tool(&url, &["--project", "q"]);
    assert_eq!(code, 4);
}

#[test]
fn instances_in_a_transition_are_skipped_and_reported() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_transition", 3);
    conn.exec_drop(
        "UPDATE instances SET task_state = 'rebuilding' WHERE uuid = ?",
        (uuid(1),),
    )
    .unwrap();
    let (report, code) = run_tool(
        &url,
        &[
            "--apply",
            "--journal",
            journal_path("transition").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "{report}");
    assert!(report.contains("1 skipped in a transition"), "{report}");
    assert!(!live_rows(&mut conn, &uuid(1)).contains_key("image_base_image_ref"));
    assert!(live_rows(&mut conn, &uuid(0)).contains_key("image_base_image_ref"));
}

#[test]
fn keys_and_values_are_escaped_in_the_report() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_escape", 1);
    let forged = "x\nnova-sysmeta-db audit, cell forged: 0 instances audited\x1b[31m";
    conn.exec_drop(
        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
         VALUES (UTC_TIMESTAMP(), 0, ?, ?, ?)",
        (uuid(0), forged, forged),
    )
    .unwrap();
    let (report, _) = run_tool(&url, &["audit", "--verbose"]);
    assert!(!report.contains('\x1b'), "{report:?}");
    assert!(
        report
            .lines()
            .all(|l| !l.starts_with("nova-sysmeta-db audit, cell forged")),
        "{report}"
    );
    assert!(report.contains("\\n"), "{report}");
}

#[test]
fn a_repair_acts_on_what_novas_writers_committed_meanwhile() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_races", 3);
    // A Nova writer, its transaction open while the repair starts:
    // instance 0 is shelved (vm_state and its shelved_* rows), instance 1
    // rebuilt to another image, instance 2 deleted.
    let mut nova = Conn::new(Opts::from_url(&url).unwrap()).unwrap();
    nova.query_drop("START TRANSACTION").unwrap();
    for key in ["shelved_at", "shelved_image_id", "shelved_host"] {
        nova.exec_drop(
            "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
             VALUES (UTC_TIMESTAMP(), 0, ?, ?, 'v')",
            (uuid(0), key),
        )
        .unwrap();
    }
    nova.exec_drop(
        "UPDATE instances SET vm_state = 'shelved_offloaded' WHERE uuid = ?",
        (uuid(0),),
    )
    .unwrap();
    nova.exec_drop(
        "UPDATE instances SET image_ref = 'img-new' WHERE uuid = ?",
        (uuid(1),),
    )
    .unwrap();
    nova.exec_drop(
        "UPDATE instance_system_metadata SET deleted = id, deleted_at = UTC_TIMESTAMP() WHERE instance_uuid = ?",
        (uuid(2),),
    )
    .unwrap();
    nova.exec_drop(
        "UPDATE instances SET deleted = id, deleted_at = UTC_TIMESTAMP() WHERE uuid = ?",
        (uuid(2),),
    )
    .unwrap();
    let journal = journal_path("races");
    let repair = spawn_repair(&url, &journal, &[], Stdio::piped());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    nova.query_drop("COMMIT").unwrap();
    let out = repair.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shelved = live_rows(&mut conn, &uuid(0));
    assert!(
        ["shelved_at", "shelved_image_id", "shelved_host"]
            .iter()
            .all(|k| shelved.contains_key(*k)),
        "the shelved instance lost its shelved_* rows: {shelved:?}"
    );
    assert_eq!(
        live_rows(&mut conn, &uuid(1)).get("image_base_image_ref"),
        Some(&Some("img-new".to_owned())),
        "the rebuilt instance got its old image as base image ref"
    );
    assert!(
        live_rows(&mut conn, &uuid(2)).is_empty(),
        "the deleted instance got a live row"
    );
}

/// A Nova writer holding instance 0's row: the repair does not wait on
/// it (it skips the instance after `--lock-wait` and goes on), retries it
/// at the end of the cell, and repairs it once the writer commits; held
/// through every retry, it is reported and the exit status says "run
/// again".
#[test]
fn an_instance_nova_holds_locked_is_skipped_and_retried() {
    let Some(server) = server_url() else { return };
    for (hold_ms, want_code, want_skipped) in [(2500u64, 0, 0), (12_000, 3, 1)] {
        let (mut conn, url) = small_db(&server, &format!("nova_repair_locked_{want_code}"), 3);
        let mut nova = Conn::new(Opts::from_url(&url).unwrap()).unwrap();
        nova.query_drop("START TRANSACTION").unwrap();
        nova.exec_drop(
            "UPDATE instances SET vm_state = 'active' WHERE uuid = ?",
            (uuid(0),),
        )
        .unwrap();
        let journal = journal_path(&format!("locked-{want_code}"));
        let started = std::time::Instant::now();
        let repair = spawn_repair(&url, &journal, &["--lock-wait", "1", "-v"], Stdio::piped());
        std::thread::sleep(std::time::Duration::from_millis(hold_ms));
        // Meanwhile the other instances were repaired.
        assert!(live_rows(&mut conn, &uuid(1)).contains_key("image_base_image_ref"));
        nova.query_drop("COMMIT").unwrap();
        let out = repair.wait_with_output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(want_code),
            "{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            report.contains(&format!("{want_skipped} skipped as locked")),
            "{report}"
        );
        assert_eq!(
            report.contains(&format!("{} skipped: Nova held its rows locked", uuid(0))),
            want_skipped == 1,
            "{report}"
        );
        assert_eq!(
            live_rows(&mut conn, &uuid(0)).contains_key("image_base_image_ref"),
            want_skipped == 0,
            "{report} after {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_deadlock_with_a_nova_writer_retries_the_batch() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_deadlock", 2);
    // A heavy Nova writer: it has changed many rows (so InnoDB picks the
    // repair as the deadlock's victim) and holds instance 0's metadata.
    let mut nova = Conn::new(Opts::from_url(&url).unwrap()).unwrap();
    nova.query_drop("START TRANSACTION").unwrap();
    for n in 0..200 {
        nova.exec_drop(
            "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
             VALUES (UTC_TIMESTAMP(), 0, ?, ?, 'v')",
            (uuid(1), format!("clean_attempts_{n}")),
        )
        .unwrap();
    }
    nova.exec_drop(
        "UPDATE instance_system_metadata SET updated_at = UTC_TIMESTAMP() WHERE instance_uuid = ?",
        (uuid(0),),
    )
    .unwrap();
    let journal = journal_path("deadlock");
    let repair = spawn_repair(&url, &journal, &[], Stdio::piped());
    // The repair now holds the instances' rows and waits for instance 0's
    // metadata; the writer's update of instance 0 closes the cycle.
    std::thread::sleep(std::time::Duration::from_millis(800));
    nova.exec_drop(
        "UPDATE instances SET vm_state = 'active' WHERE uuid = ?",
        (uuid(0),),
    )
    .expect("the writer, the heavier transaction, survives the deadlock");
    nova.query_drop("COMMIT").unwrap();
    let out = repair.wait_with_output().unwrap();
    repaired_after_a_retry(&out, &mut conn);
}

/// `kill -9` after 1, 4 and 9 batches, each time followed by a full run:
/// the result is what an uninterrupted run gives (checked row by row).
#[test]
fn killed_at_several_points_then_rerun_equals_an_uninterrupted_run() {
    for (n, stop) in [1usize, 4, 9].into_iter().enumerate() {
        let Some((mut conn, url, seeded, before)) = seeded_db(&format!("nova_repair_kill{n}")) else {
            return;
        };
        let journal = journal_path(&format!("kill{n}"));
        let mut child = spawn_repair(
            &url,
            &journal,
            &["--batch-size", "100", "--batch-delay-ms", "100"],
            Stdio::null(),
        );
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut buf = Vec::new();
        for _ in 0..stop {
            buf.clear();
            assert!(
                stderr.read_until(b'\n', &mut buf).unwrap() > 0,
                "ended before batch {stop}"
            );
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        run_example(&url, &["--apply"]);
        check_repaired(&mut conn, &seeded, &before);
    }
}

/// The TLS files `scripts/mariadb` made for the server it started.
fn tls_dir() -> PathBuf {
    let dir =
        std::env::var_os("NOVA_SYSMETA_MARIADB_DIR").unwrap_or_else(|| "/tmp/nova-sysmeta-mariadb".into());
    let tls = PathBuf::from(dir).join("tls");
    assert!(
        tls.join("ca.pem").is_file(),
        "{} has no ca.pem: start the server with scripts/mariadb",
        tls.display()
    );
    tls
}

#[test]
fn tls_is_set_up_from_novas_ssl_options_as_pymysql_does() {
    let Some(server) = server_url() else {
        return;
    };
    let _one = TLS_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_conn, url) = small_db(&server, "nova_tls", 3);
    let tls = tls_dir();
    let file = |name: &str| tls.join(name).display().to_string().replace(' ', "%20");
    // `url` is mysql://nova:nova@127.0.0.1:PORT/nova_tls; Nova writes mysql+pymysql://.
    let as_user = |user: &str, host: &str, query: &str| {
        url.replacen(
            "mysql://nova:nova@127.0.0.1",
            &format!("mysql+pymysql://{user}:nova@{host}"),
            1,
        ) + "?charset=utf8"
            + query
    };
    let audit = |connection: &str| {
        let out = Command::new(example())
            .args(["audit", "--json", "--url", connection])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.code() {
            Some(0) => {
                assert_eq!(common::cell_reports(&out)["default"]["instances"], 3);
                Ok(())
            }
            code => Err(format!("exit {code:?}: {stderr}")),
        }
    };
    let ca = format!("&ssl_ca={}", file("ca.pem"));
    let other_ca = format!("&ssl_ca={}", file("other-ca.pem"));
    let client = format!(
        "&ssl_cert={}&ssl_key={}",
        file("client.pem"),
        file("client-key.pem")
    );

    // Verified: the certificate chains to ssl_ca and names `localhost`.
    assert_eq!(audit(&as_user("nova_tls", "localhost", &ca)), Ok(()));
    // A user that REQUIRE SSL is refused a plain connection: TLS is really on above.
    let plain = audit(&as_user("nova_tls", "127.0.0.1", ""));
    assert!(
        plain.as_ref().is_err_and(|e| e.contains("Access denied")),
        "{plain:?}"
    );
    // The certificate does not name 127.0.0.1: refused, unless the
    // hostname check is off.
    let ip = audit(&as_user("nova_tls", "127.0.0.1", &ca));
    assert!(
        ip.as_ref().is_err_and(|e| e.contains("not valid for name")),
        "{ip:?}"
    );
    let ip = as_user("nova_tls", "127.0.0.1", &format!("{ca}&ssl_check_hostname=false"));
    assert_eq!(audit(&ip), Ok(()));
    // A CA that did not sign the server's certificate: refused, hostname
    // check or not.
    let other = as_user(
        "nova_tls",
        "localhost",
        &format!("{other_ca}&ssl_check_hostname=false"),
    );
    let other = audit(&other);
    assert!(
        other.as_ref().is_err_and(|e| e.contains("UnknownIssuer")),
        "{other:?}"
    );
    let missing = audit(&as_user("nova_tls", "localhost", "&ssl_ca=/nonexistent/ca.pem"));
    assert!(
        missing
            .as_ref()
            .is_err_and(|e| e.contains("ssl_ca /nonexistent/ca.pem")),
        "{missing:?}"
    );
    // REQUIRE X509: the client certificate is sent; without it, refused.
    assert_eq!(
        audit(&as_user("nova_x509", "localhost", &format!("{ca}{client}"))),
        Ok(())
    );
    let without = audit(&as_user("nova_x509", "localhost", &ca));
    assert!(
        without.as_ref().is_err_and(|e| e.contains("Access denied")),
        "{without:?}"
    );
    // No ssl_ca: encrypted, not verified (PyMySQL's CERT_NONE), so even the
    // other CA's world is accepted.
    assert_eq!(audit(&as_user("nova_x509", "127.0.0.1", &client)), Ok(()));
}

/// The TLS tests one at a time: one of them changes the server's certificate.
static TLS_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The server presents the attacker's certificate (`FLUSH SSL` with its
/// files in place) until dropped.
struct ServerCert {
    tls: PathBuf,
    admin: Conn,
}

impl ServerCert {
    fn present(server: &str, tls: &std::path::Path, name: &str) -> Self {
        for (from, to) in [
            ("server.pem", "server.pem.real"),
            ("server-key.pem", "server-key.pem.real"),
        ] {
            if !tls.join(to).exists() {
                std::fs::copy(tls.join(from), tls.join(to)).unwrap();
            }
        }
        std::fs::copy(tls.join(format!("{name}.pem")), tls.join("server.pem")).unwrap();
        std::fs::copy(tls.join(format!("{name}-key.pem")), tls.join("server-key.pem")).unwrap();
        let mut admin = Conn::new(Opts::from_url(server).unwrap()).unwrap();
        admin.query_drop("FLUSH SSL").unwrap();
        Self {
            tls: tls.to_owned(),
            admin,
        }
    }
}

impl Drop for ServerCert {
    fn drop(&mut self) {
        for (real, to) in [
            ("server.pem.real", "server.pem"),
            ("server-key.pem.real", "server-key.pem"),
        ] {
            let _ = std::fs::copy(self.tls.join(real), self.tls.join(to));
        }
        let _ = self.admin.query_drop("FLUSH SSL");
    }
}

/// The two attacks on a TLS that also trusted the public web roots: a
/// certificate for the database's own names from another CA (standing in
/// for a public one), and, with the host name check off, one for any name
/// at all. With `ssl_ca`, only that CA is trusted: both are refused.
#[test]
fn tls_trusts_only_the_ca_given() {
    let Some(server) = server_url() else { return };
    let _one = TLS_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_conn, url) = small_db(&server, "nova_tls_attacks", 1);
    let tls = tls_dir();
    let file = |name: &str| tls.join(name).display().to_string();
    let nova_url = |host: &str, query: &str| {
        url.replacen(
            "mysql://nova:nova@127.0.0.1",
            &format!("mysql+pymysql://nova_tls:nova@{host}"),
            1,
        ) + "?charset=utf8"
            + query
    };
    let audit = |connection: &str| {
        let out = Command::new(example())
            .args(["audit", "--url", connection])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let ca = format!("&ssl_ca={}", file("ca.pem"));
    {
        let _evil = ServerCert::present(&server, &tls, "evil");
        // The attacker's certificate names the server: refused with ssl_ca.
        let (code, err) = audit(&nova_url("localhost", &ca));
        assert_eq!(code, Some(6), "{err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
        let (code, err) = audit(&nova_url("127.0.0.1", &format!("{ca}&ssl_check_hostname=false")));
        assert_eq!(code, Some(6), "{err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
        let (code, err) = audit(&nova_url("localhost", &format!("{ca}&ssl_verify_cert=true")));
        assert_eq!(code, Some(6), "{err}");
        // Trusting the public roots (no ssl_ca, verified): not theirs either.
        let (code, err) = audit(&nova_url("localhost", "&ssl_verify_cert=true"));
        assert_eq!(code, Some(6), "{err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
        // Its own CA given: accepted (the chain really is what is checked).
        let (code, err) = audit(&nova_url(
            "localhost",
            &format!("&ssl_ca={}", file("other-ca.pem")),
        ));
        assert_eq!(code, Some(0), "{err}");
    }
    {
        let _elsewhere = ServerCert::present(&server, &tls, "elsewhere");
        // A certificate for another name, host name check off: refused.
        let (code, err) = audit(&nova_url("localhost", &format!("{ca}&ssl_check_hostname=false")));
        assert_eq!(code, Some(6), "{err}");
        // With its CA and the check on: the name is wrong.
        let (code, err) = audit(&nova_url(
            "localhost",
            &format!("&ssl_ca={}", file("other-ca.pem")),
        ));
        assert_eq!(code, Some(6), "{err}");
        assert!(err.contains("not valid for name"), "{err}");
    }
    // The real certificate again.
    let (code, err) = audit(&nova_url("localhost", &ca));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn the_release_decides_which_keys_would_leak() {
    let Some(server) = server_url() else { return };
    let (mut conn, url) = small_db(&server, "nova_repair_release", 1);
    // Unprefixed: a snapshot made from an image property of this name
    // keeps it on releases before 21.0.0 (nothing built in), not after.
    conn.exec_drop(
        "INSERT INTO instance_system_metadata (created_at, deleted, instance_uuid, `key`, value) \
         VALUES (UTC_TIMESTAMP(), 0, ?, 'cinder_encryption_key_id', 'k')",
        (uuid(0),),
    )
    .unwrap();
    let leaks = |extra: &[&str]| {
        let mut args = vec!["audit", "--only", "would_leak", "--json"];
        args.extend_from_slice(extra);
        let out = Command::new(example())
            .arg(args[0])
            .args(["--url", &url])
            .args(&args[1..])
            .output()
            .unwrap();
        common::cell_reports(&out)["default"]["findings"]["would_leak"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(leaks(&[]), 0);
    assert_eq!(leaks(&["--release", "21.0.0"]), 0);
    assert_eq!(
        leaks(&["--release", "20.6.1"]),
        1,
        "the Train audit reports the key"
    );
    // The release history explains the missing base image ref.
    let explained = |history: &str| {
        let args = [
            "audit",
            "-v",
            "--only",
            "missing_base_image_ref",
            "--history",
            history,
        ];
        run_tool(&url, &args).0
    };
    let pike = explained("16.1.8");
    assert!(pike.contains("lost by a rebuild before 21.2.1"), "{pike}");
    assert!(pike.contains("Nova 16.1.8"), "{pike}");
    let victoria = explained("22.4.0");
    assert!(victoria.contains("not by a rebuild"), "{victoria}");
    let (plain, _) = run_tool(&url, &["audit", "-v", "--only", "missing_base_image_ref"]);
    assert!(plain.contains("(bug 1893618)"), "{plain}");
    let out = Command::new(example())
        .args(["audit", "--url", &url, "--release", "35.0.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses a release not modelled");
}
