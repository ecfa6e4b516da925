//! Generates the Pub/Sub API messages and the tonic client (and, with the `server` feature,
//! the server) from `proto/pubsub_api.proto`, with protox (a pure-Rust protoc) so the build
//! needs no protoc binary.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pubsub_api.proto");
    let server = std::env::var_os("CARGO_FEATURE_SERVER").is_some();
    let fds = protox::compile(["pubsub_api.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(server)
        .build_client(true)
        // No `connect(url)` helper: it would need tonic's transport here, and callers build
        // their own Channel (TLS roots, CA file, h2c to loopback).
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
