//! The Unix socket and the connections tonic serves on it.

use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use crate::ServeError;

/// A TLS handshake that takes longer than this is from a stuck or hostile
/// peer; Terraform completes it in milliseconds.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A Unix socket inside a private temporary directory that is removed
/// (socket included) when this is dropped.
pub(crate) struct PluginSocket {
    pub(crate) path: PathBuf,
    _dir: tempfile::TempDir,
}

impl PluginSocket {
    /// Binds `plugin.sock` in a fresh directory under `parent` (or the
    /// system temp dir). The directory is mode 0700, so only our user can
    /// connect.
    pub(crate) fn bind(parent: Option<&Path>) -> Result<(Self, UnixListener), ServeError> {
        let mut builder = tempfile::Builder::new();
        builder
            .prefix("plugin")
            .permissions(std::fs::Permissions::from_mode(0o700));
        let dir = match parent {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(ServeError::SocketDir)?;
        let path = dir.path().join("plugin.sock");
        let listener = UnixListener::bind(&path).map_err(|source| ServeError::Bind {
            path: path.clone(),
            source,
        })?;
        Ok((Self { path, _dir: dir }, listener))
    }
}

/// One accepted connection, plaintext or TLS.
pub(crate) enum PluginStream {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl Connected for PluginStream {
    // Peer details are meaningless on a private Unix socket.
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Self::Tls(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(stream) => stream.is_write_vectored(),
            Self::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

/// Accepts connections until `shutdown` fires or tonic stops listening,
/// running TLS handshakes concurrently so one slow peer cannot block others.
/// Failed handshakes (e.g. a wrong client certificate) are logged and
/// dropped; they never reach tonic.
pub(crate) fn incoming(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<io::Result<PluginStream>> {
    let (sender, receiver) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                () = sender.closed() => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // E.g. EMFILE: back off instead of spinning.
                    tracing::warn!(error = %err, "accepting a plugin connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(acceptor) = acceptor.clone() else {
                if sender.send(Ok(PluginStream::Plain(stream))).await.is_err() {
                    break;
                }
                continue;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        // A closed channel means the server is shutting down.
                        let _ = sender.send(Ok(PluginStream::Tls(Box::new(tls)))).await;
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "TLS handshake with a plugin client failed");
                    }
                    Err(_) => tracing::warn!("TLS handshake with a plugin client timed out"),
                }
            });
        }
        tracing::debug!("stopped accepting plugin connections");
    });
    ReceiverStream::new(receiver)
}
