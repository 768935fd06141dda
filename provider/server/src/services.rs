//! go-plugin's helper services that every plugin process serves next to the
//! Provider service.

use futures::StreamExt as _;
use tfplugin_proto::plugin::grpc_broker_server::GrpcBroker;
use tfplugin_proto::plugin::grpc_controller_server::GrpcController;
use tfplugin_proto::plugin::grpc_stdio_server::GrpcStdio;
use tfplugin_proto::plugin::{ConnInfo, Empty, StdioData};
use tokio_util::sync::CancellationToken;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

/// `plugin.GRPCController`: Terraform's way of saying "exit now".
pub(crate) struct Controller {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown received; shutting down");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: we never write to stdout/stderr through it, but the
/// stream stays open (an early end makes newer clients log a warning) until
/// shutdown, when it must end so graceful shutdown is not held up by it.
pub(crate) struct Stdio {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        let shutdown = self.shutdown.clone();
        let silent = futures::stream::once(async move { shutdown.cancelled_owned().await })
            .filter_map(|()| async { None::<Result<StdioData, Status>> });
        Ok(Response::new(Box::pin(silent)))
    }
}

/// `plugin.GRPCBroker`: Terraform opens the stream at connect time but never
/// brokers anything for providers; read and discard until either side ends.
pub(crate) struct Broker {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let shutdown = self.shutdown.clone();
        let mut inbound = request.into_inner();
        let drained = futures::stream::once(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async {
                    while let Some(Ok(info)) = inbound.next().await {
                        tracing::trace!(service_id = info.service_id, "ignoring GRPCBroker message");
                    }
                } => {}
            }
        })
        .filter_map(|()| async { None::<Result<ConnInfo, Status>> });
        Ok(Response::new(Box::pin(drained)))
    }
}
