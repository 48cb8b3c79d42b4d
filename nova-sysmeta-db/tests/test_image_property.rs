//! `nova-sysmeta-db image-property show|set` against Nova's own
//! `nova-manage image_property show|set` (34.0.0): two copies of the same
//! cloud, on Nova's schema from its own migrations, instances created,
//! mapped and given request specs by Nova's objects layer; every command
//! run on one copy by nova-manage and on the other by the tool, then the
//! exit codes, the system-metadata rows, and the request spec's image as
//! Nova's `RequestSpec.get_by_instance_uuid` reads it back compared. Then
//! the tool's `undo` puts both back.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use common::{NovaDb, code, nova_db, text, tmp, uuid};
use serde_json::{Value, json};

fn seed(db: &NovaDb) -> Vec<String> {
    let instances: Vec<Value> = [
        (
            "stopped",
            json!({"image_hw_disk_bus": "virtio", "image_os_type": "linux", "image_min_ram": "512"}),
        ),
        ("active", json!({"image_hw_disk_bus": "virtio"})),
        (
            "shelved_offloaded",
            json!({"image_hw_video_model": "vga", "image_hw_qemu_guest_agent": "yes"}),
        ),
        ("shelved", json!({"image_hw_cpu_policy": "dedicated"})),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (state, sm))| {
        let mut sm = sm;
        sm["image_base_image_ref"] = json!(format!("img-{i}"));
        let mut history = vec![json!({"op": "map"})];
        if i == 0 {
            // Booted typeable; then hand-edited to a bus Nova does not know.
            history.push(json!({"op": "save", "set": {"image_hw_disk_bus": "nvme"}}));
        }
        json!({"uuid": uuid(700 + i as u64), "image_ref": format!("img-{i}"), "vm_state": state,
               "system_metadata": sm, "history": history})
    })
    .collect();
    let answer = db.nova("seed", &json!({ "instances": instances }));
    serde_json::from_value(answer["seeded"].clone()).unwrap()
}

fn nova_manage(db: &NovaDb, args: &[&str]) -> Output {
    Command::new(db.venv.join("bin/nova-manage"))
        .arg("--config-file")
        .arg(&db.conf)
        .arg("image_property")
        .args(args)
        .env("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
        .output()
        .unwrap()
}

fn tool(db: &NovaDb, sub: &str, args: &[&str]) -> Output {
    let conf = db.conf.display().to_string();
    let mut all = vec!["image-property", sub, "--config-file", conf.as_str()];
    all.extend_from_slice(args);
    db.tool(&all)
}

/// Every instance's live rows and its request spec's image as Nova reads them.
fn state(db: &mut NovaDb, uuids: &[String]) -> (BTreeMap<String, BTreeMap<String, Option<String>>>, Value) {
    let rows = uuids.iter().map(|u| (u.clone(), db.live(u))).collect();
    let specs = db.nova("spec_images", &json!({ "uuids": uuids }));
    (rows, specs)
}

#[test]
fn set_and_show_match_nova_manage_on_the_same_cloud() {
    let (Some(mut nova), Some(mut ours)) = (nova_db("improp_nova"), nova_db("improp_tool")) else {
        return;
    };
    let uuids = seed(&nova);
    assert_eq!(seed(&ours), uuids);
    let before = state(&mut ours, &uuids);
    assert_eq!(state(&mut nova, &uuids), before, "the two copies start the same");
    let unknown = uuid(799);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            uuids[0].clone(),
            vec![
                "--property",
                "hw_disk_bus=virtio",
                "--property",
                "hw_cdrom_bus=sata",
            ],
        ),
        (uuids[1].clone(), vec!["--property", "hw_disk_bus=scsi"]),
        (uuids[0].clone(), vec!["--property", "hw_disk_bus"]),
        (uuids[0].clone(), vec!["--property", "hw_disk_buss=virtio"]),
        (uuids[0].clone(), vec!["--property", "hw_disk_bus=nvme"]),
        (uuids[0].clone(), vec!["--property", "hw_disk_bus=a=b"]),
        (unknown.clone(), vec!["--property", "hw_disk_bus=virtio"]),
        (
            uuids[2].clone(),
            vec![
                "--property",
                "trait:CUSTOM_GPU=required",
                "--property",
                "hw_video_model=bochs",
            ],
        ),
        (
            uuids[3].clone(),
            vec![
                "--property",
                "hw_cpu_policy=mixed",
                "--property",
                "hw_cpu_policy=shared",
            ],
        ),
        (uuids[3].clone(), vec!["--property", "hw_numa_cpus.0=0-3"]),
    ];
    let mut codes = Vec::new();
    for (instance, props) in &cases {
        let mut args = vec![instance.as_str()];
        args.extend(props.iter().copied());
        let theirs = nova_manage(&nova, &[&["set"], args.as_slice()].concat());
        // Each run its own journal, as each run of the tool makes one.
        let journal = tmp(&format!("improp-{}.journal", codes.len()));
        let _ = std::fs::remove_file(&journal);
        let journal = journal.display().to_string();
        args.extend(["--apply", "--journal", journal.as_str()]);
        let mine = tool(&ours, "set", &args);
        assert_eq!(
            code(&mine),
            code(&theirs),
            "set {props:?} on {instance}: nova-manage said {}, the tool {}",
            text(&theirs),
            text(&mine)
        );
        codes.push(code(&theirs));
        assert_eq!(
            state(&mut ours, &uuids),
            state(&mut nova, &uuids),
            "after set {props:?} on {instance}"
        );
    }
    assert_eq!(
        codes,
        [0, 3, 4, 5, 6, 6, 2, 0, 0, 5],
        "nova-manage's own exit codes"
    );
    let after = state(&mut ours, &uuids);
    assert_eq!(after.0[&uuids[0]]["image_hw_disk_bus"].as_deref(), Some("virtio"));
    assert_eq!(
        after.1[&uuids[0]]["properties"]["hw_cdrom_bus"], "sata",
        "Nova reads the new image back from the request spec"
    );
    assert_eq!(
        after.1[&uuids[2]]["properties"]["traits_required"],
        json!(["CUSTOM_GPU"])
    );
    assert_eq!(after.1[&uuids[3]]["properties"]["hw_cpu_policy"], "shared");

    // show: the same output and exit codes as nova-manage's.
    for (instance, property) in [
        (&uuids[0], "hw_disk_bus"),
        (&uuids[0], "hw_rng_model"),
        (&unknown, "os_type"),
    ] {
        let theirs = nova_manage(&nova, &["show", instance, property]);
        let mine = tool(&ours, "show", &[instance, property]);
        assert_eq!(
            code(&mine),
            code(&theirs),
            "show {property}: {} / {}",
            text(&theirs),
            text(&mine)
        );
        assert_eq!(
            String::from_utf8_lossy(&mine.stdout),
            String::from_utf8_lossy(&theirs.stdout)
        );
    }

    // A dry run writes nothing.
    let dry = tool(&ours, "set", &[&uuids[0], "--property", "hw_disk_bus=ide"]);
    assert_eq!(code(&dry), 0, "{}", text(&dry));
    assert!(text(&dry).contains("dry run"));
    assert_eq!(state(&mut ours, &uuids), after);

    // undo, newest journal first, puts the rows and request specs back.
    let mut journals: Vec<String> = (0..cases.len())
        .map(|i| tmp(&format!("improp-{i}.journal")).display().to_string())
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    journals.reverse();
    assert_eq!(journals.len(), 3, "a journal for each set that wrote");
    let conf = ours.conf.display().to_string();
    for j in &journals {
        let out = ours.tool(&["undo", "--config-file", &conf, "--journal", j]);
        assert_eq!(code(&out), 0, "undo {j}: {}", text(&out));
    }
    let undone = state(&mut ours, &uuids);
    assert_eq!(undone.0, before.0, "every system-metadata row as before");
    assert_eq!(undone.1, before.1, "every request spec's image as before");

    // --release: the release's own fields and values, and whether it
    // writes the request spec (28.3.1, 29.2.1, 30.0.0 on).
    let older = tool(
        &ours,
        "set",
        &[
            &uuids[3],
            "--property",
            "hw_cpu_policy=mixed",
            "--release",
            "21.2.4",
            "--apply",
        ],
    );
    assert_eq!(
        code(&older),
        6,
        "mixed is no CPU policy before 22.0.0: {}",
        text(&older)
    );
    let j = tmp("improp-release.journal");
    let _ = std::fs::remove_file(&j);
    let j = j.display().to_string();
    let unfixed = tool(
        &ours,
        "set",
        &[
            &uuids[3],
            "--property",
            "hw_cpu_policy=mixed",
            "--release",
            "28.3.0",
            "--apply",
            "--journal",
            &j,
        ],
    );
    assert_eq!(code(&unfixed), 0, "{}", text(&unfixed));
    let now = state(&mut ours, &uuids);
    assert_eq!(now.0[&uuids[3]]["image_hw_cpu_policy"].as_deref(), Some("mixed"));
    assert_eq!(now.1, before.1, "28.3.0's command leaves the request spec alone");
}
