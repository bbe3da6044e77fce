//! Generates the `tessera.v1` types and stubs with a vendored `protoc`: no manual install.

use std::env;
use std::path::PathBuf;

/// Keep in step with the `redacted_debug!` list in src/lib.rs (a missing `Debug` fails the build).
const SECRET_BEARING: [&str; 10] = [
    "RegisterResponse",
    "IssueCodeResponse",
    "ExchangeRequest",
    "ExchangeResponse",
    "IntrospectRequest",
    "RevokeRequest",
    "GetLoginRequestRequest",
    "AcceptLoginRequest",
    "AcceptLoginResponse",
    "RotateClientSecretResponse",
];

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // `env::set_var("PROTOC", ..)` is unsafe in edition 2024 and the workspace forbids unsafe
    // code, so the path goes to prost-build directly.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        // Messages that carry a secret, code or token get a redacting `Debug` in src/lib.rs.
        .skip_debug(
            SECRET_BEARING
                .iter()
                .map(|name| format!(".tessera.v1.{name}")),
        )
        .file_descriptor_set_path(out_dir.join("tessera_descriptor.bin"))
        .compile_with_config(config, &["tessera/v1/tessera.proto"], &["."])?;
    println!("cargo:rerun-if-changed=tessera/v1/tessera.proto");
    Ok(())
}
