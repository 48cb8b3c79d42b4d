//! Prints what serde_json does in this build: the order of a map's keys,
//! what a big integer and an out-of-range number become, and how many of
//! a fixed set of 17-digit decimals parse to another double than the
//! correctly rounded one (serde_json's `float_roundtrip` makes that 0).

use serde_json::{Map, Value};

fn main() {
    let map: Map<String, Value> = serde_json::from_str(r#"{"b": 1, "a": 2, "c": 3}"#).unwrap_or_default();
    println!("map order: {:?}", map.keys().collect::<Vec<_>>());
    println!(
        "big integer: {:?}",
        serde_json::from_str::<Value>("100000000000000000000").map(|v| v.to_string())
    );
    println!(
        "1E400: {:?}",
        serde_json::from_str::<Value>("1E400").map_err(|e| e.to_string())
    );
    println!("value map order: {}", serde_json::json!({"z": 1, "y": 2}));
    // A deterministic walk over doubles, each written with 17 significant
    // digits: how many does serde_json read back differently from std?
    let mut x: u64 = 0x3ff0_0000_0000_0001;
    let mut off = 0;
    for _ in 0..200_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let f = f64::from_bits((x >> 2) | 0x3000_0000_0000_0000);
        if !f.is_finite() {
            continue;
        }
        let text = format!("{f:.16e}");
        let std: f64 = text.parse().unwrap_or(f64::NAN);
        if serde_json::from_str::<f64>(&text).ok() != Some(std) {
            off += 1;
        }
    }
    println!("17-digit decimals read off by one ulp or more: {off}");
    #[cfg(feature = "with-nova-sysmeta")]
    {
        // Use the library, so that it is linked, not only resolved.
        let v = nova_sysmeta::Value::from_json("100000000000000000000").map(|v| v.python_str());
        eprintln!("nova-sysmeta linked: {v:?}");
    }
}
