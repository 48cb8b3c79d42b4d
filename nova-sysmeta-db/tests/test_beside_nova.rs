//! The tool beside a running Nova: Nova's own objects writing while
//! repairs run (nothing Nova writes is lost, every instance ends
//! repaired, undo takes back only the repair's rows), and Nova's
//! `Instance.create()` and `save()` timed during a repair that meets a
//! slow Nova transaction, against the same calls without the tool (a
//! ratio, printed; the bound is generous: run with the tool's earlier
//! locking read, whose next-key locks held Nova's calls for as long as
//! the slow transaction lasted, the ratios were 290 to 3,000).

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{NovaDb, code, nova_answer, nova_db, text, uuid};
use mysql::prelude::Queryable;
use serde_json::{Value, json};

const BASE: &str = "image_base_image_ref";

/// `n` instances from `first` through Nova's objects, damaged by the
/// pre-fix rebuild when `damaged`.
fn seed(db: &NovaDb, first: u64, n: u64, damaged: bool) -> Vec<String> {
    let instances: Vec<Value> = (first..first + n)
        .map(|i| {
            let history = if damaged {
                json!([{"op": "rebuild_lossy", "image_ref": format!("img-new-{}", i % 9),
                        "image_properties": {"os_type": "linux"}}])
            } else {
                json!([])
            };
            json!({"uuid": uuid(i), "image_ref": "img-old",
                   "system_metadata": {"image_os_type": "windows", BASE: "img-old", "owner_user_name": "alice"},
                   "history": history})
        })
        .collect();
    db.nova("seed", &json!({ "instances": instances }));
    (first..first + n).map(uuid).collect()
}

fn repair(db: &NovaDb, name: &str, extra: &[&str]) -> (std::process::Output, std::path::PathBuf) {
    let journal = common::tmp(&format!("{name}.jsonl"));
    let mut args = vec!["repair", "--apply", "--journal", journal.to_str().unwrap()];
    args.extend_from_slice(extra);
    (db.tool(&args), journal)
}

/// A Nova writer (tests/nova/nova_objects.py writer) started now.
fn writer(db: &NovaDb, prefix: &str, seconds: f64, saves: &[String]) -> std::process::Child {
    db.nova_spawn(
        "writer",
        &json!({"seconds": seconds, "uuid_prefix": prefix, "save_uuids": saves}),
    )
}

fn finished(child: std::process::Child) -> Value {
    nova_answer("writer", &child.wait_with_output().unwrap())
}

#[test]
fn repairs_beside_two_nova_writers_lose_nothing_nova_wrote() {
    let Some(mut db) = nova_db("nova_beside_writers") else {
        return;
    };
    let uuids = seed(&db, 0, 120, true);
    let (first_half, second_half) = uuids.split_at(60);
    let before = db.rows();
    // Two Nova writers: each creates instances and saves a key of its half
    // of the damaged instances, while repairs run in small batches.
    let w1 = writer(&db, "aaaaaaaa-0000-4000-8000", 8.0, first_half);
    let w2 = writer(&db, "bbbbbbbb-0000-4000-8000", 8.0, second_half);
    let mut journals = Vec::new();
    for run in 0..6 {
        let (out, journal) = repair(&db, &format!("writers-{run}"), &["--batch-size", "15"]);
        assert!([0, 3, 4].contains(&code(&out)), "{}", text(&out));
        journals.push(journal);
        std::thread::sleep(Duration::from_millis(300));
    }
    let (a1, a2) = (finished(w1), finished(w2));
    // A save Nova made from a map it read before a repair drops the
    // repaired row again (Nova's save writes the whole map): the next run
    // repairs it, and the one after has nothing to do.
    for run in 6..9 {
        let (out, journal) = repair(&db, &format!("writers-{run}"), &[]);
        journals.push(journal);
        if code(&out) == 4 {
            break;
        }
        assert_eq!(code(&out), 0, "{}", text(&out));
    }
    let (out, _) = repair(&db, "writers-last", &[]);
    assert_eq!(code(&out), 4, "{}", text(&out));

    // Every write of Nova's is there: each instance holds the last counter
    // its writer saved, and every instance a writer created exists.
    let last = |answer: &Value, half: &[String]| -> BTreeMap<String, String> {
        let n = answer["saves"].as_array().unwrap().len();
        (0..n)
            .map(|i| (half[i % half.len()].clone(), i.to_string()))
            .collect()
    };
    let mut expected = last(&a1, first_half);
    expected.extend(last(&a2, second_half));
    assert!(
        expected.len() >= 100,
        "the writers saved too little: {}",
        expected.len()
    );
    let read = db.nova_read(&uuids);
    for u in &uuids {
        let sm = &read[u]["system_metadata"];
        assert_eq!(sm[BASE], read[u]["image_ref"], "{u}: {sm}");
        assert_eq!(sm["image_os_type"], "linux", "{u}: {sm}");
        if let Some(counter) = expected.get(u) {
            assert_eq!(
                sm["nova_writer_counter"],
                counter.as_str(),
                "{u}: Nova's save was lost: {sm}"
            );
        }
    }
    let created = a1["creates"].as_array().unwrap().len() + a2["creates"].as_array().unwrap().len();
    let rows = db.rows();
    assert_eq!(
        rows.instances.len(),
        before.instances.len() + created,
        "an instance Nova created is missing"
    );

    // Undo every journal, newest first: the repair's rows go, Nova's stay.
    for journal in journals.iter().rev() {
        let out = db.tool(&["undo", "--journal", journal.to_str().unwrap()]);
        assert!([0, 4, 5].contains(&code(&out)), "{}", text(&out));
    }
    let read = db.nova_read(&uuids);
    for u in &uuids {
        let sm = &read[u]["system_metadata"];
        assert!(
            sm.get(BASE).is_none(),
            "{u}: the repair's row survived undo: {sm}"
        );
        if let Some(counter) = expected.get(u) {
            assert_eq!(
                sm["nova_writer_counter"],
                counter.as_str(),
                "{u}: undo took Nova's write: {sm}"
            );
        }
    }
    // Rows neither the writers nor the repair touched: exactly as before.
    let after = db.rows();
    let touched: std::collections::BTreeSet<&String> = uuids.iter().collect();
    let untouched = |rows: &common::Rows| -> Vec<(u64, String)> {
        rows.meta
            .iter()
            .filter(|(_, r)| !touched.iter().any(|u| r.starts_with(u.as_str())))
            .filter(|(_, r)| !r.starts_with("aaaaaaaa") && !r.starts_with("bbbbbbbb"))
            .cloned()
            .collect()
    };
    assert_eq!(untouched(&before), untouched(&after));
}

/// Percentile `p` (0 to 1) of `values`, in seconds.
fn percentile(values: &[Value], p: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
    v.sort_by(f64::total_cmp);
    assert!(!v.is_empty());
    let at = ((v.len() - 1) as f64 * p).round() as usize;
    v[at]
}

#[test]
fn novas_create_and_save_are_not_stalled_by_a_repair() {
    let Some(db) = nova_db("nova_beside_latency") else {
        return;
    };
    // Instances to repair (fewer than a batch, so that the batch's read
    // reaches the end of the table) and instances Nova saves meanwhile.
    let damaged = seed(&db, 0, 300, true);
    let saved = seed(&db, 1000, 10, false);
    let measure = |prefix: &str| {
        let w = writer(&db, prefix, 4.0, &saved);
        finished(w)
    };
    let baseline = measure("cccccccc-0000-4000-8000");

    // A slow Nova transaction (a save of a damaged instance, its metadata
    // rows updated and not yet committed) holds that instance's rows; the
    // repair's batch of 500 (the whole table) meets it.
    let mut slow = common::connect(&db.url);
    slow.query_drop("START TRANSACTION").unwrap();
    slow.exec_drop(
        "UPDATE instance_system_metadata SET updated_at = UTC_TIMESTAMP() WHERE instance_uuid = ?",
        (damaged[250].as_str(),),
    )
    .unwrap();
    let journal = common::tmp("latency.jsonl");
    let repair = Command::new(common::tool())
        .args([
            "repair",
            "--apply",
            "--batch-size",
            "500",
            "--lock-wait",
            "1",
            "--url",
            &db.url,
            "--journal",
        ])
        .arg(&journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let during = measure("dddddddd-0000-4000-8000");
    std::thread::sleep(Duration::from_secs(2));
    slow.query_drop("COMMIT").unwrap();
    let out = repair.wait_with_output().unwrap();
    assert_eq!(
        code(&out),
        0,
        "the held instance is repaired once Nova lets go: {}",
        text(&out)
    );

    let mut report = String::new();
    let mut worst: f64 = 0.0;
    for call in ["creates", "saves"] {
        let (b, d) = (
            baseline[call].as_array().unwrap(),
            during[call].as_array().unwrap(),
        );
        for p in [0.5, 0.95, 1.0] {
            let ratio = percentile(d, p) / percentile(b, p);
            worst = worst.max(ratio);
            report.push_str(&format!(
                "{call} p{:.0}: {:.1} ms without the tool, {:.1} ms during the repair: x{ratio:.2}\n",
                p * 100.0,
                percentile(b, p) * 1000.0,
                percentile(d, p) * 1000.0
            ));
        }
        report.push_str(&format!(
            "{call}: {} calls without, {} during\n",
            b.len(),
            d.len()
        ));
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\n{report}").as_bytes());
    assert!(worst < 20.0, "Nova's calls stalled during the repair:\n{report}");
}
