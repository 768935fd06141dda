//! What the plugin tells its client on stdout.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::env::PROTOCOL_VERSION;

/// go-plugin's core protocol version, always 1.
const CORE_PROTOCOL_VERSION: u32 = 1;

/// The single line go-plugin's client reads from our stdout:
/// `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT\n`.
///
/// The certificate is unpadded standard base64 of the DER, or empty without
/// AutoMTLS. No seventh (multiplexing) field: Terraform 1.0 would glue it
/// onto the certificate.
pub(crate) fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der.map_or_else(String::new, |der| STANDARD_NO_PAD.encode(der));
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}\n",
        socket.display()
    )
}

/// The `TF_REATTACH_PROVIDERS` value that points Terraform at a plugin the
/// user started with `--debug`. `Test: true` tells Terraform not to manage
/// (or kill) the process.
pub(crate) fn reattach_json(provider_address: &str, socket: &Path, pid: u32) -> String {
    let mut providers = serde_json::Map::new();
    providers.insert(
        provider_address.to_owned(),
        serde_json::json!({
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.display().to_string() },
        }),
    );
    serde_json::Value::Object(providers).to_string()
}

/// The banner printed for the human in `--debug` mode.
pub(crate) fn debug_banner(provider_address: &str, socket: &Path, pid: u32) -> String {
    format!(
        "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS in the shell \
         where you run terraform:\n\n\tTF_REATTACH_PROVIDERS='{}'\n\n\
         Stop the provider with Ctrl-C.\n",
        reattach_json(provider_address, socket, pid)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn handshake_has_six_fields_and_unpadded_cert() {
        // 4 bytes encode to 6 chars plus "==" padding with the padded engine.
        let line = handshake_line(Path::new("/tmp/plugin1/plugin.sock"), Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|5|unix|/tmp/plugin1/plugin.sock|grpc|AQIDBA\n");
    }

    #[test]
    fn handshake_without_tls_has_empty_cert_field() {
        let line = handshake_line(Path::new("/s"), None);
        assert_eq!(line, "1|5|unix|/s|grpc|\n");
    }

    #[test]
    fn reattach_json_has_terraforms_shape() {
        let json = reattach_json(
            "registry.terraform.io/ns/name",
            Path::new("/tmp/x.sock"),
            42,
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"registry.terraform.io/ns/name": {
                "Protocol": "grpc", "ProtocolVersion": 5, "Pid": 42, "Test": true,
                "Addr": {"Network": "unix", "String": "/tmp/x.sock"}
            }})
        );
        assert!(debug_banner("a/b/c", Path::new("/s"), 1).contains("TF_REATTACH_PROVIDERS='{"));
    }
}
