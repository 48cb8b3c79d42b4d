//! `nova-sysmeta-db` against Nova itself: Nova 34.0.0's schema from its
//! own migrations, instances written by Nova's own objects layer
//! (`Instance.create()`, `save()` playing the pre-fix rebuild,
//! `destroy()`, rows an old release soft-deleted), and every repair read
//! back through `objects.Instance.get_by_uuid(...,
//! expected_attrs=['system_metadata'])` and Nova's snapshot code.

mod common;

use std::collections::BTreeMap;

use common::{NovaDb, cell_reports, code, nova_db, text, uuid};
use serde_json::{Value, json};

const BASE: &str = "image_base_image_ref";

/// The instances of `nova_reads_back_every_repair`, by what happened to
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    Healthy,
    LossyRebuild,
    /// The old release's rebuild also soft-deleted the old image's rows.
    SoftDeletedOldImage,
    /// And a soft-deleted base image ref naming an older image.
    SoftDeletedBaseRef,
    /// A project name of 140 Cyrillic letters (280 bytes).
    LongProjectName,
    /// A task is running on it.
    InTransition,
    /// A NULL value among its rows.
    NullValue,
    /// Deleted by Nova (destroy) after the damage: never touched.
    Destroyed,
}

const STORIES: [Story; 8] = [
    Story::Healthy,
    Story::LossyRebuild,
    Story::SoftDeletedOldImage,
    Story::SoftDeletedBaseRef,
    Story::LongProjectName,
    Story::InTransition,
    Story::NullValue,
    Story::Destroyed,
];

fn story(i: u64) -> Story {
    STORIES[usize::try_from(i).unwrap() % STORIES.len()]
}

fn cyrillic() -> String {
    "Ж".repeat(140)
}

/// Seeds `n` instances through Nova's objects, each living its story.
fn seed(db: &NovaDb, n: u64, first: u64) -> Vec<String> {
    let instances: Vec<Value> = (first..first + n)
        .map(|i| {
            let s = story(i);
            let old = format!("img-old-{}", i % 5);
            let new = format!("img-new-{}", i % 7);
            let project_name = if s == Story::LongProjectName { cyrillic() } else { "demo".to_owned() };
            let mut sm = json!({
                "image_os_type": "windows", "image_hw_disk_bus": "ide", "image_hw_qemu_guest_agent": "no",
                "image_min_disk": "20", "image_disk_format": "qcow2", BASE: old,
                "owner_user_name": "alice", "owner_project_name": project_name,
            });
            if s == Story::NullValue {
                sm["image_null_prop"] = Value::Null;
            }
            let rebuild = json!({"op": "rebuild_lossy", "image_ref": new,
                                 "image_properties": {"os_type": "linux", "min_disk": "20"}});
            let mut history = Vec::new();
            if s != Story::Healthy {
                history.push(rebuild);
            }
            match s {
                Story::SoftDeletedOldImage => history.push(json!({"op": "soft_delete_rows", "rows": {
                    "image_os_type": "windows", "image_hw_disk_bus": "ide", "image_hw_qemu_guest_agent": "no"}})),
                Story::SoftDeletedBaseRef => history.push(json!({"op": "soft_delete_rows", "rows": {BASE: "img-ancient"}})),
                Story::InTransition => history.push(json!({"op": "save", "set": {}, "task_state": "rebuilding"})),
                Story::NullValue => history.push(json!({"op": "save", "set": {"image_null_prop": null}})),
                Story::Destroyed => history.push(json!({"op": "destroy"})),
                _ => {}
            }
            json!({"uuid": uuid(i), "project_id": format!("p{}", i % 3), "image_ref": old,
                   "system_metadata": sm, "history": history})
        })
        .collect();
    db.nova("seed", &json!({ "instances": instances }));
    (first..first + n).map(uuid).collect()
}

/// The instances whose story leaves them live and damaged.
fn live(i: u64) -> bool {
    story(i) != Story::Destroyed
}

/// Checks every instance as Nova reads it after a repair: the base image
/// ref is the instance's image, the next snapshot carries it, nothing of
/// the old image comes back from a soft-deleted row, and a value Nova
/// keeps is kept.
fn check_as_nova_reads(db: &NovaDb, uuids: &[String], first: u64, pending: &[Story]) {
    let read = db.nova_read(uuids);
    for (n, u) in uuids.iter().enumerate() {
        let i = first + n as u64;
        let s = story(i);
        let got = &read[u];
        if s == Story::Destroyed {
            assert_eq!(got["error"], "InstanceNotFound", "{u}: {got}");
            continue;
        }
        let image_ref = got["image_ref"].as_str().unwrap();
        let sm = &got["system_metadata"];
        let props = &got["snapshot_properties"];
        if pending.contains(&s) {
            assert!(
                sm.get(BASE).is_none(),
                "{u} ({s:?}) should still be damaged: {sm}"
            );
            continue;
        }
        assert_eq!(sm[BASE], image_ref, "{u} ({s:?}): Nova reads {sm}");
        assert_eq!(
            props["base_image_ref"], image_ref,
            "{u} ({s:?}): the next snapshot gets {props}"
        );
        if s != Story::Healthy {
            for old in ["hw_disk_bus", "hw_qemu_guest_agent"] {
                assert!(
                    props.get(old).is_none(),
                    "{u} ({s:?}): the snapshot carries the old image's {old}: {props}"
                );
            }
            assert_eq!(props["os_type"], "linux", "{u} ({s:?}): {props}");
        }
        let project = if s == Story::LongProjectName {
            cyrillic()
        } else {
            "demo".to_owned()
        };
        assert_eq!(
            sm["owner_project_name"],
            project.as_str(),
            "{u} ({s:?}): Nova's value changed"
        );
    }
}

#[test]
fn nova_reads_back_every_repair() {
    let Some(mut db) = nova_db("nova_readback") else {
        return;
    };
    let n = 48;
    let uuids = seed(&db, n, 0);

    // The damage, as Nova itself sees it before any repair.
    let read = db.nova_read(&uuids);
    for (i, u) in uuids.iter().enumerate() {
        let props = &read[u]["snapshot_properties"];
        match story(i as u64) {
            Story::LossyRebuild => assert!(props.get("base_image_ref").is_none(), "{props}"),
            Story::SoftDeletedOldImage => {
                assert_eq!(
                    props["hw_disk_bus"], "ide",
                    "Nova reads the soft-deleted rows: {props}"
                );
            }
            Story::SoftDeletedBaseRef => assert_eq!(props["base_image_ref"], "img-ancient", "{props}"),
            _ => {}
        }
    }

    let before = db.rows();
    let out = db.tool(&["audit", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let cell = &cell_reports(&out)["default"];
    let damaged = (0..n).filter(|&i| live(i) && story(i) != Story::Healthy).count() as u64;
    assert_eq!(cell["to_repair"], damaged, "{cell}");
    assert_eq!(cell["findings"]["soft_deleted_row"], 6 * 3 + 6, "{cell}");
    assert!(
        cell["findings"].get("value_too_long").is_none(),
        "Nova's values are not too long: {cell}"
    );
    assert_eq!(db.rows(), before, "an audit writes nothing");

    let out = db.tool(&["repair", "--json"]);
    assert_eq!(
        code(&out),
        3,
        "a dry run that would skip instances in a transition: {}",
        text(&out)
    );
    assert_eq!(db.rows(), before, "a dry run writes nothing");

    let journal = common::tmp("readback.jsonl");
    let out = db.tool(&[
        "repair",
        "--apply",
        "--journal",
        journal.to_str().unwrap(),
        "--json",
        "--batch-size",
        "7",
    ]);
    assert_eq!(code(&out), 3, "{}", text(&out));
    let cell = &cell_reports(&out)["default"];
    assert_eq!(cell["skipped_in_transition"], 6, "{cell}");
    assert_eq!(cell["repaired"], damaged - 6, "{cell}");
    check_as_nova_reads(&db, &uuids, 0, &[Story::InTransition]);

    // Nova's save() moves updated_at: so did the repair, for exactly the
    // repaired instances; deleted instances' rows are as they were.
    let after = db.rows();
    let moved: Vec<u64> = before
        .instances
        .iter()
        .zip(&after.instances)
        .filter(|(b, a)| b.2 != a.2)
        .map(|(b, _)| b.0)
        .collect();
    assert_eq!(moved.len() as u64, damaged - 6, "{moved:?}");
    let destroyed: Vec<&String> = uuids
        .iter()
        .enumerate()
        .filter(|(i, _)| !live(*i as u64))
        .map(|(_, u)| u)
        .collect();
    let of = |rows: &common::Rows, u: &str| -> Vec<(u64, String)> {
        rows.meta
            .iter()
            .filter(|(_, r)| r.starts_with(u))
            .cloned()
            .collect()
    };
    for u in &destroyed {
        assert_eq!(of(&before, u), of(&after, u), "a deleted instance's rows changed");
    }

    // The task ends (Nova's save clears it); the next run repairs the
    // rest, and the one after has nothing to do.
    for (i, u) in uuids.iter().enumerate() {
        if story(i as u64) == Story::InTransition {
            db.nova("save", &json!({"uuid": u, "set": {}, "task_state": null}));
        }
    }
    let journal2 = common::tmp("readback-2.jsonl");
    let out = db.tool(&["repair", "--apply", "--journal", journal2.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    check_as_nova_reads(&db, &uuids, 0, &[]);
    let journal3 = common::tmp("readback-3.jsonl");
    let out = db.tool(&["repair", "--apply", "--journal", journal3.to_str().unwrap()]);
    assert_eq!(
        code(&out),
        4,
        "nothing left to repair, tasks or not: {}",
        text(&out)
    );
    let out = db.tool(&["audit"]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    // A task on an instance that needs nothing changes nothing: still 4.
    db.nova(
        "save",
        &json!({"uuid": uuids[0], "set": {}, "task_state": "image_snapshot"}),
    );
    let journal4 = common::tmp("readback-4.jsonl");
    let out = db.tool(&["repair", "--apply", "--journal", journal4.to_str().unwrap()]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    db.nova("save", &json!({"uuid": uuids[0], "set": {}, "task_state": null}));

    // Undo, newest first: every metadata row as it was before the repairs.
    let repaired = db.rows();
    for j in [&journal2, &journal] {
        let out = db.tool(&["undo", "--journal", j.to_str().unwrap()]);
        assert_eq!(code(&out), 0, "{}", text(&out));
    }
    let undone = db.rows();
    assert_eq!(undone.meta, before.meta, "undo put every row back");
    assert_ne!(undone.meta, repaired.meta);
    let out = db.tool(&["undo", "--journal", journal.to_str().unwrap()]);
    assert_eq!(code(&out), 4, "a second undo has nothing to do: {}", text(&out));
    assert_eq!(db.rows().meta, before.meta);
}

/// The live rows of each instance, key to value.
fn live_rows(db: &mut NovaDb, uuids: &[String]) -> BTreeMap<String, BTreeMap<String, Option<String>>> {
    uuids.iter().map(|u| (u.clone(), db.live(u))).collect()
}

#[test]
fn undo_leaves_alone_what_nova_wrote_since() {
    let Some(mut db) = nova_db("nova_undo_conflicts") else {
        return;
    };
    // Five damaged instances (pre-fix rebuild), the second also with
    // stale shelved keys (it is active).
    let instances: Vec<Value> = (0..5)
        .map(|i| {
            let mut sm = json!({"image_os_type": "linux", BASE: "img-a", "owner_user_name": "alice"});
            if i == 1 {
                sm["shelved_at"] = json!("2026-01-01T00:00:00.000000");
                sm["shelved_image_id"] = json!("img-shelved");
                sm["shelved_host"] = json!("compute-1");
            }
            json!({"uuid": uuid(i), "image_ref": "img-a", "system_metadata": sm, "history": [
                {"op": "rebuild_lossy", "image_ref": "img-b", "image_properties": {"os_type": "linux"}}]})
        })
        .collect();
    db.nova("seed", &json!({ "instances": instances }));
    let uuids: Vec<String> = (0..5).map(uuid).collect();
    let before = live_rows(&mut db, &uuids);
    let journal = common::tmp("conflicts.jsonl");
    let out = db.tool(&["repair", "--apply", "--journal", journal.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out));

    // Nova, after the repair: 0 is rebuilt by the fixed rebuild (its new
    // image id in the repaired row), 1 is shelved again, 2 is deleted.
    db.nova(
        "save",
        &json!({"uuid": uuid(0), "set": {BASE: "img-c"}, "image_ref": "img-c"}),
    );
    db.nova(
        "save",
        &json!({"uuid": uuid(1), "vm_state": "shelved_offloaded",
                "set": {"shelved_at": "2026-12-01T00:00:00.000000", "shelved_image_id": "img-s2", "shelved_host": "compute-2"}}),
    );
    db.nova("destroy", &json!({"uuid": uuid(2)}));
    let deleted_rows_before: Vec<(u64, String)> = db
        .rows()
        .meta
        .into_iter()
        .filter(|(_, r)| r.starts_with(&uuid(2)))
        .collect();

    let out = db.tool(&["undo", "--journal", journal.to_str().unwrap(), "--json"]);
    assert_eq!(
        code(&out),
        5,
        "conflicts make the exit status say so: {}",
        text(&out)
    );
    let report = common::json_lines(&out)
        .into_iter()
        .find(|v| v["cell"] == "default")
        .unwrap();
    let conflicts = report["conflicts"].as_array().unwrap();
    let of = |i: u64| conflicts.iter().filter(|c| c["instance_uuid"] == uuid(i)).count();
    assert_eq!(of(0), 1, "the fixed rebuild's base image ref: {report}");
    assert_eq!(of(1), 3, "the re-shelved instance's three shelved keys: {report}");
    assert!(of(2) >= 1, "the deleted instance: {report}");
    assert_eq!(of(3) + of(4), 0, "{report}");

    let now = live_rows(&mut db, &uuids);
    assert_eq!(
        now[&uuid(0)][BASE].as_deref(),
        Some("img-c"),
        "Nova's rebuild was undone"
    );
    assert_eq!(
        now[&uuid(1)]["shelved_at"].as_deref(),
        Some("2026-12-01T00:00:00.000000")
    );
    let shelved_at_rows = db
        .rows()
        .meta
        .iter()
        .filter(|(_, r)| r.starts_with(&format!("{} shelved_at ", uuid(1))) && r.contains(" '0' "))
        .count();
    assert_eq!(
        shelved_at_rows, 1,
        "two live shelved_at rows: a state Nova never makes"
    );
    for i in [3, 4] {
        assert_eq!(now[&uuid(i)], before[&uuid(i)], "instance {i} was not put back");
    }
    let deleted_rows_after: Vec<(u64, String)> = db
        .rows()
        .meta
        .into_iter()
        .filter(|(_, r)| r.starts_with(&uuid(2)))
        .collect();
    assert_eq!(
        deleted_rows_before, deleted_rows_after,
        "rows of a deleted instance were touched"
    );
    // Nova reads every live instance back.
    let read = db.nova_read(&uuids);
    assert_eq!(read[&uuid(0)]["snapshot_properties"]["base_image_ref"], "img-c");
    assert_eq!(read[&uuid(1)]["vm_state"], "shelved_offloaded");

    // Again: the conflicts stay, nothing else changes.
    let rows = db.rows();
    let out = db.tool(&["undo", "--journal", journal.to_str().unwrap()]);
    assert_eq!(code(&out), 5, "{}", text(&out));
    assert_eq!(db.rows().meta, rows.meta);
}
