//! The built-in rule pack: every file of `crates/detections/rules/`, compiled in by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));
