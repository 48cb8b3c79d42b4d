//! The `json_baseline` tool the batch report uses as its floor.

use std::process::Command;

#[test]
fn the_json_baseline_times_its_three_passes_and_refuses_bad_json() {
    let dir = std::env::temp_dir().join(format!("json_baseline_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let baseline = |text: &[u8]| {
        let path = dir.join("input.jsonl");
        std::fs::write(&path, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_json_baseline"))
            .arg(&path)
            .output()
            .expect("json_baseline runs")
    };

    let out = baseline(b"{\"op\": \"to_glance\", \"image\": {\"properties\": {\"a\": [1, 2.5]}}}\n\n[]\n");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(names, ["scan", "value", "round_trip"], "{text}");
    for line in text.lines() {
        let seconds: f64 = line.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(seconds >= 0.0, "{line}");
    }

    // A file that is not JSON Lines is an error, not a timing.
    let out = baseline(b"{\"op\": 1}\n{not json\n");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}
