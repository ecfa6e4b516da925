//! Generates the Pub/Sub API messages and the tonic server and client from
//! `proto/pubsub_api.proto`, with protox (a pure-Rust protoc) so the build needs no protoc
//! binary.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pubsub_api.proto");
    let fds = protox::compile(["pubsub_api.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        // The client serves sfsim's own tests (and any Rust caller of the simulator).
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
