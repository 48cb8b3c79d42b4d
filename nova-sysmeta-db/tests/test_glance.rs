//! `nova-sysmeta-db images audit|repair|undo` against a real Keystone and
//! a real Glance (scripts/openstack: keystone 30.0.0 and glance 33.0.0 from
//! PyPI, Glance behind keystonemiddleware) and Nova 34.0.0's schema and
//! objects layer (the instances and their rebuild actions). The images are
//! made, read back and changed behind the tool's back through Glance's own
//! v2 API (tests/glance/glance_seed.py), as two projects' users and the
//! admin.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{code, json_lines, nova_db, text, tmp, tool, uuid};
use serde_json::{Value, json};

/// Keystone's URL and the OpenStack venv, set by scripts/test.
fn openstack() -> Option<(String, PathBuf)> {
    let keystone = common::setting(
        "NOVA_SYSMETA_KEYSTONE_URL",
        "scripts/openstack starts Keystone and Glance",
    )?;
    let venv = common::setting("NOVA_SYSMETA_OPENSTACK_VENV", "scripts/openstack makes it")?;
    Some((keystone, PathBuf::from(venv)))
}

/// The OS_* variables of `user` (`admin`, or a project's user).
fn credentials(keystone: &str, project: &str) -> Vec<(&'static str, String)> {
    let (user, password, project) = if project == "admin" {
        ("admin".to_owned(), "admin-pw".to_owned(), "admin".to_owned())
    } else {
        (
            format!("user-{project}"),
            format!("pw-{project}"),
            project.to_owned(),
        )
    };
    vec![
        ("OS_AUTH_URL", keystone.to_owned()),
        ("OS_USERNAME", user),
        ("OS_PASSWORD", password),
        ("OS_PROJECT_NAME", project),
        ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
        ("OS_REGION_NAME", "RegionOne".to_owned()),
    ]
}

/// A command with no OS_* variable of the test's own environment.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("NOVA_DB_URL");
    cmd
}

/// tests/glance/glance_seed.py COMMAND as the admin.
fn glance(keystone: &str, venv: &std::path::Path, command: &str, request: &Value) -> Value {
    use std::io::Write;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/glance/glance_seed.py");
    let mut child = clean(venv.join("bin/python"))
        .arg(script)
        .arg(command)
        .envs(credentials(keystone, "admin"))
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
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "glance_seed {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The tool with `env` for OS_*.
fn run(env: &[(&'static str, String)], args: &[&str]) -> Output {
    clean(tool())
        .envs(env.iter().cloned())
        .args(args)
        .output()
        .unwrap()
}

/// Each image's body through Glance, as the admin.
fn show(keystone: &str, venv: &std::path::Path, ids: &[&String]) -> BTreeMap<String, Value> {
    let answer = glance(keystone, venv, "show", &json!({ "ids": ids }));
    serde_json::from_value(answer["images"].clone()).unwrap()
}

/// A body without what any write moves (`updated_at`) and without `key`.
fn without(body: &Value, key: &str) -> Value {
    let mut body = body.clone();
    let map = body.as_object_mut().unwrap();
    map.remove("updated_at");
    map.remove(key);
    body
}

#[test]
fn images_repair_and_undo_through_keystone_and_glance() {
    let Some((keystone, venv)) = openstack() else {
        return;
    };
    let Some(db) = nova_db("glance_repair") else {
        return;
    };
    let run_id = std::process::id();
    let (p1, p2) = (format!("gr1-{run_id}"), format!("gr2-{run_id}"));
    let projects = glance(&keystone, &venv, "setup", &json!({"projects": [p1, p2]}));
    let p1_id = projects["projects"][&p1].as_str().unwrap().to_owned();

    // The images the instances were built from, then (a second later, as
    // Glance's created_at counts seconds) their snapshots.
    let make = |who: &str, images: Value| -> Vec<String> {
        let answer = glance(&keystone, &venv, "create", &json!({"as": who, "images": images}));
        serde_json::from_value(answer["ids"].clone()).unwrap()
    };
    // Public images are the admin's to make (Glance's policy), owned by p1.
    let base_a = make(
        "admin",
        json!([{"name": "base-a", "visibility": "public", "owner": p1_id, "os_distro": "debian"}]),
    )
    .remove(0);
    let base_b = make(&p1, json!([{"name": "base-b", "os_distro": "fedora"}])).remove(0);
    let base_c = make(&p2, json!([{"name": "base-c", "os_distro": "arch"}])).remove(0);
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let (vm_a, vm_b, vm_c, vm_d) = (uuid(11), uuid(12), uuid(13), uuid(14));
    let snap = |vm: &str, distro: &str, extra: Value| {
        let mut body =
            json!({"image_type": "snapshot", "instance_uuid": vm, "os_distro": distro, "user_id": "u"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let snaps = make(
        &p1,
        json!([
            snap(&vm_a, "debian", json!({"name": "snap-a"})),
            snap(&vm_b, "fedora", json!({"name": "snap-b"})),
            snap(
                &vm_a,
                "debian",
                json!({"name": "snap-ok", "base_image_ref": base_a})
            ),
        ]),
    );
    let public = make(
        "admin",
        json!([snap(
            &vm_a,
            "debian",
            json!({"name": "snap-public", "visibility": "public", "owner": p1_id})
        )]),
    );
    let (snap_a, snap_b, snap_ok, snap_public) = (&snaps[0], &snaps[1], &snaps[2], &public[0]);
    let snap_d = make(
        &p1,
        json!([snap(
            &vm_d,
            "debian",
            json!({"name": "snap-d", "base_image_ref": snap_a})
        )]),
    )
    .remove(0);
    let snap_c = make(&p2, json!([snap(&vm_c, "arch", json!({"name": "snap-c"}))])).remove(0);

    // Nova's side, by Nova's objects: rebuilt before the snapshots, and
    // vm_b again after them (a time after Glance's created_at).
    let rebuild = |at: &str| json!({"op": "action", "action": "rebuild", "at": at});
    db.nova(
        "seed",
        &json!({"instances": [
            {"uuid": vm_a, "image_ref": base_a, "project_id": p1_id, "history": [rebuild("2026-02-01T00:00:00Z")]},
            {"uuid": vm_b, "image_ref": base_b, "project_id": p1_id,
             "history": [rebuild("2026-02-01T00:00:00Z"), rebuild("2099-01-01T00:00:00Z")]},
            {"uuid": vm_c, "image_ref": base_c, "history": [rebuild("2026-02-01T00:00:00Z")]},
            {"uuid": vm_d, "image_ref": snap_a},
        ]}),
    );
    let all: Vec<&String> = [
        &base_a,
        &base_b,
        &base_c,
        snap_a,
        snap_b,
        snap_public,
        snap_ok,
        &snap_d,
        &snap_c,
    ]
    .into();
    let before = show(&keystone, &venv, &all);

    // Project 2's user: its own snapshot is repaired; project 1's public
    // snapshot is visible to it but not writable: refused (403), reported,
    // and the run goes on.
    let env_p2 = credentials(&keystone, &p2);
    let journal_p2 = tmp("images-journal-p2.jsonl");
    let _ = std::fs::remove_file(&journal_p2);
    let out = run(
        &env_p2,
        &[
            "images",
            "repair",
            "--url",
            &db.url,
            "--apply",
            "--json",
            "--journal",
            &journal_p2.display().to_string(),
        ],
    );
    let lines = json_lines(&out);
    let write = |lines: &[Value], id: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "write" && l["image_id"] == id)
            .cloned()
    };
    assert_eq!(
        write(&lines, &snap_c).unwrap()["result"],
        "written",
        "{}",
        text(&out)
    );
    let refused = write(&lines, snap_public).unwrap();
    assert_eq!(
        (refused["result"].as_str(), refused["status"].as_u64()),
        (Some("refused"), Some(403)),
        "{refused}"
    );
    assert!(
        write(&lines, snap_a).is_none(),
        "project 2 cannot see project 1's private snapshot"
    );
    assert_eq!(
        code(&out),
        3,
        "a refused write makes the run exit 3: {}",
        text(&out)
    );

    // Admin, project 1's images: the audit's plan.
    let env_admin = credentials(&keystone, "admin");
    let out = run(
        &env_admin,
        &["images", "audit", "--url", &db.url, "--json", "--project", &p1_id],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let lines = json_lines(&out);
    let verdict = |id: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "image" && l["image_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(verdict(snap_a)["base_image_ref"], base_a.as_str());
    assert_eq!(verdict(snap_public)["base_image_ref"], base_a.as_str());
    assert_eq!(verdict(snap_b)["action"], "undecidable");
    let candidates = verdict(snap_b)["candidates"].clone();
    assert!(
        candidates.as_array().unwrap().contains(&json!(base_b)),
        "{candidates}"
    );
    assert_eq!(verdict(&snap_d)["action"], "propagated");
    assert_eq!(verdict(&snap_d)["origin"], base_a.as_str());
    assert_eq!(verdict(snap_ok)["reason"], "has_base_image_ref");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "instance" && l["instance_uuid"] == vm_d.as_str())
    );

    // A dry run writes nothing.
    let out = run(
        &env_admin,
        &[
            "images",
            "repair",
            "--url",
            &db.url,
            "--json",
            "--project",
            &p1_id,
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let dry: Vec<Value> = json_lines(&out)
        .into_iter()
        .filter(|l| l["type"] == "write")
        .collect();
    assert!(
        dry.iter().all(|w| w["result"] == "would_write") && dry.len() == 2,
        "{dry:?}"
    );
    let after_dry = show(&keystone, &venv, &[snap_a, snap_public]);
    assert!(after_dry.values().all(|b| b.get("base_image_ref").is_none()));

    // The admin writes project 1's repairs.
    let journal_p1 = tmp("images-journal-p1.jsonl");
    let _ = std::fs::remove_file(&journal_p1);
    let j1 = journal_p1.display().to_string();
    let out = run(
        &env_admin,
        &[
            "images",
            "repair",
            "--url",
            &db.url,
            "--apply",
            "--json",
            "--project",
            &p1_id,
            "--journal",
            &j1,
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let run_line = json_lines(&out).into_iter().last().unwrap();
    assert_eq!(
        (run_line["to_repair"].as_u64(), run_line["refused"].as_u64()),
        (Some(2), Some(0)),
        "{run_line}"
    );

    // Through Glance: the planned property is there, nothing else changed.
    let after = show(&keystone, &venv, &all);
    let expected: BTreeMap<&String, &str> = [
        (snap_a, base_a.as_str()),
        (snap_public, base_a.as_str()),
        (&snap_c, base_c.as_str()),
    ]
    .into();
    for id in &all {
        let (b, a) = (&before[id.as_str()], &after[id.as_str()]);
        match expected.get(id) {
            Some(base) => {
                assert_eq!(a["base_image_ref"], *base, "{id}");
                assert_eq!(without(b, "base_image_ref"), without(a, "base_image_ref"), "{id}");
            }
            None => assert_eq!(
                without(b, "updated_at"),
                without(a, "updated_at"),
                "{id} must not change"
            ),
        }
    }

    // A second repair finds nothing to do.
    let out = run(
        &env_admin,
        &[
            "images",
            "repair",
            "--url",
            &db.url,
            "--apply",
            "--project",
            &p1_id,
            "--journal",
            &tmp("images-journal-again.jsonl").display().to_string(),
        ],
    );
    assert_eq!(code(&out), 4, "{}", text(&out));

    // Someone sets the public snapshot's base after the repair: undo
    // leaves it (a conflict, exit 5) and removes the other.
    glance(
        &keystone,
        &venv,
        "set",
        &json!({"image": snap_public, "properties": {"base_image_ref": "set-by-someone"}}),
    );
    let out = run(&env_admin, &["images", "undo", "--journal", &j1, "--json"]);
    assert_eq!(code(&out), 5, "{}", text(&out));
    let undone = show(&keystone, &venv, &[snap_a, snap_public]);
    assert!(
        undone[snap_a.as_str()].get("base_image_ref").is_none(),
        "undo removes what it wrote"
    );
    assert_eq!(
        undone[snap_public.as_str()]["base_image_ref"],
        "set-by-someone",
        "undo leaves what someone set"
    );
    assert_eq!(
        without(&undone[snap_a.as_str()], "updated_at"),
        without(&before[snap_a.as_str()], "updated_at")
    );

    // Project 2's journal, undone by its own user: snap-c as it was.
    let out = run(
        &env_p2,
        &["images", "undo", "--journal", &journal_p2.display().to_string()],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let c = show(&keystone, &venv, &[&snap_c]);
    assert!(c[snap_c.as_str()].get("base_image_ref").is_none());

    // A journal edited by hand is refused, and nothing is undone.
    let edited = tmp("images-journal-edited.jsonl");
    std::fs::write(
        &edited,
        std::fs::read_to_string(&journal_p1)
            .unwrap()
            .replace(&base_a, "img-forged"),
    )
    .unwrap();
    let out = run(
        &env_admin,
        &["images", "undo", "--journal", &edited.display().to_string()],
    );
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("checksum"), "{}", text(&out));
    // A database journal is not an images journal.
    let out = run(
        &env_admin,
        &["images", "undo", "--journal", &db.conf.display().to_string()],
    );
    assert_eq!(code(&out), 127, "{}", text(&out));
}

/// The credentials operators hold work: clouds.yaml with `--os-cloud`
/// and with `OS_CLOUD`, and an application credential. Credentials that
/// cannot work give a clear error and change nothing.
#[test]
fn credentials_as_operators_hold_them_and_bad_ones_refused_clearly() {
    let Some((keystone, venv)) = openstack() else {
        return;
    };
    let Some(db) = nova_db("glance_credentials") else {
        return;
    };
    let dir = tmp("clouds");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  test-cloud:\n    region_name: RegionOne\n    auth:\n      auth_url: {keystone}\n      \
             username: admin\n      password: admin-pw\n      project_name: admin\n      \
             user_domain_name: Default\n      project_domain_name: Default\n"
        ),
    )
    .unwrap();
    let clouds = vec![(
        "OS_CLIENT_CONFIG_PATH",
        dir.join("clouds.yaml").display().to_string(),
    )];
    let out = run(
        &clouds,
        &[
            "images",
            "audit",
            "--url",
            &db.url,
            "--os-cloud",
            "test-cloud",
            "--json",
        ],
    );
    assert!(
        [0, 4].contains(&code(&out)),
        "clouds.yaml and --os-cloud: {}",
        text(&out)
    );
    let mut by_env = clouds.clone();
    by_env.push(("OS_CLOUD", "test-cloud".to_owned()));
    let out = run(&by_env, &["images", "audit", "--url", &db.url]);
    assert!([0, 4].contains(&code(&out)), "OS_CLOUD: {}", text(&out));
    let out = run(
        &clouds,
        &["images", "audit", "--url", &db.url, "--os-cloud", "no-such-cloud"],
    );
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("no-such-cloud"), "{}", text(&out));

    let cred = glance(
        &keystone,
        &venv,
        "application_credential",
        &json!({"name": format!("ac-{}", std::process::id())}),
    );
    let app = vec![
        ("OS_AUTH_URL", keystone.clone()),
        ("OS_AUTH_TYPE", "v3applicationcredential".to_owned()),
        (
            "OS_APPLICATION_CREDENTIAL_ID",
            cred["id"].as_str().unwrap().to_owned(),
        ),
        (
            "OS_APPLICATION_CREDENTIAL_SECRET",
            cred["secret"].as_str().unwrap().to_owned(),
        ),
        ("OS_REGION_NAME", "RegionOne".to_owned()),
    ];
    let out = run(&app, &["images", "audit", "--url", &db.url]);
    assert!(
        [0, 4].contains(&code(&out)),
        "an application credential: {}",
        text(&out)
    );

    let mut wrong = credentials(&keystone, "admin");
    wrong.retain(|(k, _)| *k != "OS_PASSWORD");
    wrong.push(("OS_PASSWORD", "not-the-password".to_owned()));
    let out = run(&wrong, &["images", "audit", "--url", &db.url]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("Keystone"), "{}", text(&out));

    let mut nowhere = credentials(&keystone, "admin");
    nowhere.retain(|(k, _)| *k != "OS_REGION_NAME");
    nowhere.push(("OS_REGION_NAME", "Nowhere".to_owned()));
    let out = run(&nowhere, &["images", "audit", "--url", &db.url]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("image endpoint"), "{}", text(&out));

    let token = vec![
        ("OS_AUTH_URL", keystone.clone()),
        ("OS_AUTH_TYPE", "v3token".to_owned()),
        ("OS_TOKEN", "gAAAAABexpired-or-forged-token".to_owned()),
        ("OS_PROJECT_NAME", "admin".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
    ];
    let out = run(&token, &["images", "audit", "--url", &db.url]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(
        text(&out).contains("Keystone") && !text(&out).contains("not a supported type"),
        "Keystone refuses the token itself: {}",
        text(&out)
    );

    // A token Keystone issued and revoked: as an expired one, refused.
    let revoked = glance(&keystone, &venv, "revoked_token", &json!({}))["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = vec![
        ("OS_AUTH_URL", keystone.clone()),
        ("OS_AUTH_TYPE", "v3token".to_owned()),
        ("OS_TOKEN", revoked),
        ("OS_PROJECT_NAME", "admin".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
    ];
    let out = run(&token, &["images", "audit", "--url", &db.url]);
    assert_eq!(code(&out), 127, "a revoked token: {}", text(&out));
    assert!(text(&out).contains("Keystone"), "{}", text(&out));

    let out = run(&[], &["images", "audit", "--url", &db.url]);
    assert_eq!(code(&out), 127, "{}", text(&out));
    assert!(text(&out).contains("no credentials"), "{}", text(&out));
}

/// A TCP relay to Glance that forwards the first `patches` JSON Patch
/// requests and then goes down: the next PATCH is never delivered, its
/// connection and every later one are closed. Returns its port.
fn relay_that_dies(glance: std::net::SocketAddr, patches: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            if down.load(Ordering::SeqCst) {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            let Ok(server) = TcpStream::connect(glance) else {
                continue;
            };
            let (seen, down) = (seen.clone(), down.clone());
            let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let mut tail: Vec<u8> = Vec::new();
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    tail.extend_from_slice(&buf[..n]);
                    let found = tail.windows(7).filter(|w| w == b"PATCH /").count();
                    tail.drain(..tail.len().saturating_sub(6));
                    if found > 0 && seen.fetch_add(found, Ordering::SeqCst) + found > patches {
                        down.store(true, Ordering::SeqCst);
                        let _ = c_read.shutdown(Shutdown::Both);
                        let _ = s_write.shutdown(Shutdown::Both);
                        return;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

/// Glance goes down in the middle of a repair: the journal says exactly
/// what was written (the written lines are in Glance, the one write that
/// got no answer is an intent), the run says so, and undo, once Glance is
/// reachable, restores every image.
#[test]
fn glance_going_down_midway_leaves_a_journal_that_says_what_was_written() {
    let Some((keystone, venv)) = openstack() else {
        return;
    };
    let Some(db) = nova_db("glance_down") else {
        return;
    };
    let project = format!("gd-{}", std::process::id());
    let projects = glance(&keystone, &venv, "setup", &json!({"projects": [project]}));
    let project_id = projects["projects"][&project].as_str().unwrap().to_owned();
    let base = glance(
        &keystone,
        &venv,
        "create",
        &json!({"as": project, "images": [{"name": "gd-base"}]}),
    )["ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let vm = uuid(21);
    let snaps: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("gd-snap-{i}"), "image_type": "snapshot", "instance_uuid": vm}))
        .collect();
    let ids: Vec<String> = serde_json::from_value(
        glance(
            &keystone,
            &venv,
            "create",
            &json!({"as": project, "images": snaps}),
        )["ids"]
            .clone(),
    )
    .unwrap();
    db.nova(
        "seed",
        &json!({"instances": [{"uuid": vm, "image_ref": base, "project_id": project_id,
            "history": [{"op": "action", "action": "rebuild", "at": "2026-02-01T00:00:00Z"}]}]}),
    );

    // Glance's port, from the catalog scripts/openstack made; a region
    // whose image endpoint is the relay.
    let glance_port: u16 = std::fs::read_to_string(
        PathBuf::from(
            std::env::var("NOVA_SYSMETA_OPENSTACK_DIR").unwrap_or("/tmp/nova-sysmeta-openstack".into()),
        )
        .join("glance.port"),
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let relay = relay_that_dies(([127, 0, 0, 1], glance_port).into(), 2);
    let region = format!("Relay{}", std::process::id());
    glance(
        &keystone,
        &venv,
        "endpoint",
        &json!({"region": region, "url": format!("http://127.0.0.1:{relay}")}),
    );

    let mut env = credentials(&keystone, &project);
    env.retain(|(k, _)| *k != "OS_REGION_NAME");
    env.push(("OS_REGION_NAME", region));
    let journal = tmp("images-journal-down.jsonl");
    let _ = std::fs::remove_file(&journal);
    let j = journal.display().to_string();
    let out = run(
        &env,
        &[
            "images",
            "repair",
            "--url",
            &db.url,
            "--apply",
            "--json",
            "--concurrency",
            "1",
            "--journal",
            &j,
        ],
    );
    assert_eq!(code(&out), 3, "writes not made: exit 3: {}", text(&out));
    let results: BTreeMap<String, String> = json_lines(&out)
        .into_iter()
        .filter(|l| l["type"] == "write")
        .map(|l| {
            (
                l["image_id"].as_str().unwrap().to_owned(),
                l["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let count = |r: &str| results.values().filter(|v| *v == r).count();
    assert_eq!((count("written"), count("unknown")), (2, 1), "{results:?}");

    // The journal against Glance itself.
    let text_of_journal = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<Value> = text_of_journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |kind: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["type"] == kind)
            .map(|l| l["image"].as_str().unwrap().to_owned())
            .collect()
    };
    let (intents, written) = (of("intent"), of("written"));
    assert_eq!((intents.len(), written.len()), (3, 2), "{text_of_journal}");
    let refs: Vec<&String> = ids.iter().collect();
    let now = show(&keystone, &venv, &refs);
    for id in &ids {
        let has = now[id.as_str()].get("base_image_ref").is_some();
        if written.contains(id) {
            assert_eq!(
                now[id.as_str()]["base_image_ref"],
                base.as_str(),
                "{id}: journalled as written"
            );
        } else if !intents.contains(id) {
            assert!(!has, "{id}: not in the journal, so not written");
        }
        assert_eq!(
            results.get(id).is_some_and(|r| r == "written"),
            written.contains(id),
            "{id}"
        );
    }

    // Glance reachable again (the catalog's own region): undo restores all.
    let out = run(
        &credentials(&keystone, &project),
        &["images", "undo", "--journal", &j, "--json"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let after = show(&keystone, &venv, &refs);
    assert!(
        ids.iter()
            .all(|id| after[id.as_str()].get("base_image_ref").is_none()),
        "{after:?}"
    );
}
