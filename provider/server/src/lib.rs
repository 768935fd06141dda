//! The go-plugin side of a Terraform provider: everything Terraform (or
//! OpenTofu) expects from a plugin process before and around the
//! `tfplugin5.Provider` service, and nothing about resources.
//!
//! - [`check_magic_cookie`]: refuse to run when not started by Terraform.
//! - [`init_logging`]: hclog-shaped JSON lines on stderr.
//! - [`serve`]: protocol negotiation, a Unix socket in a private temp dir,
//!   the handshake line on stdout, AutoMTLS, go-plugin's controller / stdio /
//!   broker / health services, signals, and `--debug` (reattach) mode.
//!
//! stdout carries the handshake line and nothing else (in debug mode: a
//! banner for the human); everything else goes to stderr via `tracing`.

mod conn;
mod env;
mod error;
mod handshake;
mod lifecycle;
mod logging;
mod services;
mod tls;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use tfplugin_proto::plugin::grpc_broker_server::GrpcBrokerServer;
use tfplugin_proto::plugin::grpc_controller_server::GrpcControllerServer;
use tfplugin_proto::plugin::grpc_stdio_server::GrpcStdioServer;
use tfplugin_proto::tfplugin5::provider_server::{Provider, ProviderServer};
use tonic::transport::Server;
use tracing_subscriber::layer::SubscriberExt as _;

pub use error::ServeError;
pub use tokio_util::sync::CancellationToken;

/// Terraform sends whole plans and states in one message (its client allows
/// up to 2 GiB); tonic's 4 MiB default would reject large ones.
const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// After a shutdown request, how long in-flight RPCs may take to finish
/// before we return anyway: Terraform SIGKILLs 2 s after Shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The go-plugin health check service name.
const HEALTH_SERVICE: &str = "plugin";

/// How to run the plugin server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Full source address, e.g. `registry.terraform.io/immutable-infra/immutable`;
    /// used for the `TF_REATTACH_PROVIDERS` line in debug mode.
    pub provider_address: String,
    /// Started by a human with `--debug`: no magic cookie, no TLS, print
    /// reattach instructions, stop on Ctrl-C/SIGTERM.
    pub debug: bool,
    /// Provider version, logged at startup.
    pub version: &'static str,
}

/// Fails with [`ServeError::NotLaunchedByTerraform`], whose message explains
/// to a human what this binary is, unless Terraform's magic cookie is set.
/// Not needed in debug mode.
pub fn check_magic_cookie() -> Result<(), ServeError> {
    env::check_cookie(env::var(env::MAGIC_COOKIE_KEY).as_deref())
}

/// Installs the global `tracing` subscriber: hclog JSON lines on stderr,
/// level from `TF_LOG_PROVIDER`, else `TF_LOG` (unset: INFO), or any
/// `RUST_LOG` directives instead. Does nothing if a global subscriber is
/// already installed. The provider logs its own name and version.
pub fn init_logging() {
    let subscriber = tracing_subscriber::registry()
        .with(logging::env_filter())
        .with(logging::HclogLayer::new(std::io::stderr));
    // An error means a subscriber is already installed, which is fine.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Serves `provider` the way go-plugin's client expects.
///
/// Blocks until Terraform calls `GRPCController.Shutdown`, the process that
/// started us goes away, SIGTERM arrives, or (debug mode only) Ctrl-C. Must
/// run inside a multi-threaded tokio runtime.
pub async fn serve<P: Provider>(provider: P, config: ServeConfig) -> Result<(), ServeError> {
    let shutdown = CancellationToken::new();
    let signals = lifecycle::Signals::install()?;

    let tls = if config.debug {
        // Terraform connects to a reattached provider without TLS.
        None
    } else {
        env::negotiate_protocol(env::var(env::PROTOCOL_VERSIONS_KEY).as_deref())?;
        // Without it, the client has TLS off (TF_DISABLE_PLUGIN_TLS).
        env::var(env::CLIENT_CERT_KEY)
            .map(|pem| tls::server_tls(&pem))
            .transpose()?
    };

    let socket_parent = env::var(env::UNIX_SOCKET_DIR_KEY).map(PathBuf::from);
    let (socket, listener) = conn::PluginSocket::bind(socket_parent.as_deref())?;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status(HEALTH_SERVICE, tonic_health::ServingStatus::Serving)
        .await;

    let router = Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(services::Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(services::Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(services::Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        );

    let incoming = conn::incoming(
        listener,
        tls.as_ref().map(|tls| std::sync::Arc::clone(&tls.config)),
        shutdown.clone(),
    );

    tokio::spawn(signals.watch(shutdown.clone(), config.debug));
    if !config.debug {
        tokio::spawn(lifecycle::watch_parent(shutdown.clone()));
    }

    let announcement = if config.debug {
        handshake::debug_banner(&config.provider_address, &socket.path, std::process::id())
    } else {
        handshake::handshake_line(
            &socket.path,
            tls.as_ref().map(|tls| tls.cert_der.as_slice()),
        )
    };
    write_stdout(&announcement)?;
    tracing::info!(
        version = config.version,
        socket = %socket.path.display(),
        tls = tls.is_some(),
        debug = config.debug,
        "plugin server listening"
    );

    let server = router.serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(server);
    let result = tokio::select! {
        result = &mut server => result.map_err(ServeError::from),
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("in-flight requests did not finish within the shutdown grace period");
            Ok(())
        }
    };
    // Also stops the watchers when the server ended on its own.
    shutdown.cancel();
    tracing::info!("plugin server stopped");
    drop(socket);
    result
}

/// The only place that writes to stdout.
fn write_stdout(text: &str) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(ServeError::Stdout)
}
