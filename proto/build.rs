//! Generates the `tessera.v1` types and stubs with a vendored `protoc`: no manual install.

use std::env;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // `env::set_var("PROTOC", ..)` is unsafe in edition 2024 and the workspace forbids unsafe
    // code, so the path goes to prost-build directly.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("tessera_descriptor.bin"))
        .compile_with_config(config, &["tessera/v1/tessera.proto"], &["."])?;
    println!("cargo:rerun-if-changed=tessera/v1/tessera.proto");
    Ok(())
}
