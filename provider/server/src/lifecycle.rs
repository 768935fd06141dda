//! When the plugin process stops: signals and the parent going away.

use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::ServeError;

/// Signal streams, created before the handshake is printed so there is no
/// moment in which Ctrl-C still has its default (fatal) action.
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    pub(crate) fn install() -> Result<Self, ServeError> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).map_err(ServeError::Signal)?,
            terminate: signal(SignalKind::terminate()).map_err(ServeError::Signal)?,
        })
    }

    /// Cancels `shutdown` on SIGTERM, and on SIGINT only in debug mode.
    ///
    /// Under Terraform, Ctrl-C reaches the whole process group, but
    /// Terraform answers it by calling the provider's Stop RPC and later
    /// Shutdown; dying on SIGINT would fail the in-flight apply instead of
    /// letting it wind down. The handler stays installed after this returns,
    /// so SIGINT remains ignored until exit.
    pub(crate) async fn watch(mut self, shutdown: CancellationToken, debug: bool) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = self.terminate.recv() => {
                    tracing::info!("SIGTERM received; shutting down");
                    shutdown.cancel();
                    return;
                }
                _ = self.interrupt.recv() => {
                    if debug {
                        tracing::info!("interrupted; shutting down");
                        shutdown.cancel();
                        return;
                    }
                    tracing::debug!("ignoring SIGINT: Terraform sends Stop instead");
                }
            }
        }
    }
}

/// Cancels `shutdown` when the process that started us exits (e.g.
/// Terraform was SIGKILLed and will never call Shutdown): we are then
/// re-parented, so our parent pid changes.
pub(crate) async fn watch_parent(shutdown: CancellationToken) {
    let original = std::os::unix::process::parent_id();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                if std::os::unix::process::parent_id() != original {
                    tracing::warn!("the Terraform process that started this plugin is gone; shutting down");
                    shutdown.cancel();
                    return;
                }
            }
        }
    }
}
