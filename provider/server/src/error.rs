use std::path::PathBuf;

/// Why the plugin could not start or keep serving.
///
/// `Display` texts are meant for the human reading stderr, so `main` can
/// print them as they are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Started without Terraform's magic cookie, i.e. by hand.
    #[error(
        "This binary is a plugin for Terraform and OpenTofu. These are not meant to be \
         executed directly: Terraform or OpenTofu starts the plugin itself when a \
         configuration uses this provider.\n\n\
         To debug the provider, run it with --debug instead: it then prints a \
         TF_REATTACH_PROVIDERS value to export in the shell where you run terraform."
    )]
    NotLaunchedByTerraform,

    /// `PLUGIN_PROTOCOL_VERSIONS` does not offer protocol 5.
    #[error(
        "Terraform offered plugin protocol version(s) \"{offered}\", but this provider \
         speaks only protocol 5. Use Terraform 0.12 or later, or OpenTofu."
    )]
    UnsupportedProtocol {
        /// The raw value of `PLUGIN_PROTOCOL_VERSIONS`.
        offered: String,
    },

    /// `PLUGIN_CLIENT_CERT` is set but holds no usable PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate: {reason}")]
    InvalidClientCert {
        /// What was wrong with it.
        reason: String,
    },

    /// Generating the server's self-signed certificate failed.
    #[error("generating the plugin's TLS certificate failed: {0}")]
    CertificateGeneration(#[from] rcgen::Error),

    /// The TLS configuration was rejected by rustls.
    #[error("building the TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),

    /// The temporary directory for the socket could not be created.
    #[error("creating a temporary directory for the plugin socket failed: {0}")]
    SocketDir(#[source] std::io::Error),

    /// Binding the Unix socket failed.
    #[error("listening on {path} failed: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// Writing the handshake (or the debug banner) to stdout failed.
    #[error("writing the plugin handshake to stdout failed: {0}")]
    Stdout(#[source] std::io::Error),

    /// Installing a signal handler failed.
    #[error("installing a signal handler failed: {0}")]
    Signal(#[source] std::io::Error),

    /// The gRPC server stopped with an error.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}
