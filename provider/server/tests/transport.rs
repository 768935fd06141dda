//! End-to-end tests of the plugin transport, driving a real plugin process
//! the way go-plugin's client (Terraform) does.
//!
//! This binary has its own `main` (`harness = false`): run normally it is the
//! test driver; re-executed with `TFPLUGIN_TEST_CHILD=1` it is the plugin
//! under test, a tiny provider served by `tfplugin_server::serve`. libtest
//! cannot be used for the child because it prints to stdout, and stdout is
//! exactly the channel under test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hyper_util::rt::TokioIo;
use rcgen::{CertificateParams, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tfplugin_proto::plugin::grpc_broker_client::GrpcBrokerClient;
use tfplugin_proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin_proto::plugin::grpc_stdio_client::GrpcStdioClient;
use tfplugin_proto::plugin::{ConnInfo, Empty};
use tfplugin_proto::tfplugin5::provider_client::ProviderClient;
use tfplugin_proto::tfplugin5::provider_server::Provider;
use tfplugin_proto::tfplugin5::{
    DynamicValue, Schema, configure as Configure, get_provider_schema as GetProviderSchema,
    prepare_provider_config as PrepareProviderConfig, read_resource as ReadResource,
};
use tfplugin_server::{ServeConfig, check_magic_cookie, init_logging, serve};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, ChildStdout, Command};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

const CHILD_ENV: &str = "TFPLUGIN_TEST_CHILD";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const ADDRESS: &str = "registry.terraform.io/immutable-infra/immutable";
const TEST_VERSION: &str = "0.0.0-transport-test";
const MIB: usize = 1024 * 1024;
/// Upper bound for anything that should be near-instant, so a broken server
/// fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- the child

/// Implements GetSchema, PrepareProviderConfig (echo, for the size test)
/// and Configure (never returns, for the shutdown-deadline test); every
/// other RPC keeps the generated Unimplemented default.
struct TestProvider;

#[tonic::async_trait]
impl Provider for TestProvider {
    async fn get_schema(
        &self,
        _request: Request<GetProviderSchema::Request>,
    ) -> Result<Response<GetProviderSchema::Response>, Status> {
        Ok(Response::new(GetProviderSchema::Response {
            provider: Some(Schema {
                version: 0,
                block: Some(tfplugin_proto::tfplugin5::schema::Block::default()),
            }),
            ..Default::default()
        }))
    }

    async fn prepare_provider_config(
        &self,
        request: Request<PrepareProviderConfig::Request>,
    ) -> Result<Response<PrepareProviderConfig::Response>, Status> {
        Ok(Response::new(PrepareProviderConfig::Response {
            prepared_config: request.into_inner().config,
            diagnostics: Vec::new(),
        }))
    }

    async fn configure(
        &self,
        _request: Request<Configure::Request>,
    ) -> Result<Response<Configure::Response>, Status> {
        std::future::pending().await
    }
}

/// What `provider/src/main.rs` does, around the test provider.
fn child_main() -> ExitCode {
    let debug = std::env::args().any(|arg| arg == "--debug");
    if !debug && let Err(err) = check_magic_cookie() {
        eprintln!("{err}");
        return ExitCode::FAILURE;
    }
    init_logging();
    tracing::info!(version = TEST_VERSION, "transport test provider starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = ServeConfig {
        provider_address: ADDRESS.to_owned(),
        debug,
        version: TEST_VERSION,
    };
    let result = runtime.block_on(serve(TestProvider, config));
    // As in provider/src/main.rs.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------- the driver

type TestFn = fn() -> Pin<Box<dyn Future<Output = ()>>>;

/// `(name, test)` rows for `main`'s table, so a test is listed by its
/// function name alone and the name printed is always the function's.
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        [$((stringify!($test), || Box::pin($test()))),*]
    };
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_main();
    }
    let tests: &[(&str, TestFn)] = &tests![
        handshake_line_has_go_plugin_format,
        pinned_client_cert_connects_and_others_are_rejected,
        missing_rpc_is_unimplemented,
        ten_mib_messages_pass_both_ways,
        health_reports_plugin_serving,
        shutdown_rpc_ends_the_process_with_streams_open,
        shutdown_does_not_wait_for_a_stuck_rpc,
        sigint_is_ignored_and_sigterm_stops,
        stderr_is_hclog_json_lines,
        plaintext_without_client_cert,
        missing_cookie_exits_1_with_message,
        protocol_without_5_exits_1_with_message,
        debug_mode_prints_reattach_and_stops_on_ctrl_c,
    ];

    // Like libtest: positional arguments filter by substring, flags ignored.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let selected: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();

    let total = selected.len();
    println!("\nrunning {total} tests");
    let mut failed = Vec::new();
    for (name, test) in selected {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let outcome = std::panic::catch_unwind(|| runtime.block_on(test()));
        runtime.shutdown_timeout(Duration::from_secs(1));
        if outcome.is_ok() {
            println!("test {name} ... ok");
        } else {
            println!("test {name} ... FAILED");
            failed.push(*name);
        }
    }
    if failed.is_empty() {
        println!("\ntest result: ok. {total} passed");
        ExitCode::SUCCESS
    } else {
        println!("\nfailures: {failed:?}\ntest result: FAILED");
        ExitCode::FAILURE
    }
}

// ---------------------------------------------------------------- helpers

/// A self-signed ECDSA P-521 / SHA-512 certificate, like the one Terraform
/// generates for AutoMTLS.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn terraform_like_client_cert() -> ClientIdentity {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// A running plugin child process.
struct Plugin {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
    stderr_drain: tokio::task::JoinHandle<()>,
    /// The first stdout line (handshake) or the whole debug banner.
    announcement: String,
}

#[derive(Default)]
struct Launch<'a> {
    client_cert_pem: Option<&'a str>,
    cookie: bool,
    protocol_versions: Option<&'a str>,
    tf_log: Option<&'a str>,
    debug: bool,
}

fn command(launch: &Launch<'_>) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env(CHILD_ENV, "1")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("PLUGIN_PROTOCOL_VERSIONS")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if launch.cookie {
        command.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE);
    }
    if let Some(pem) = launch.client_cert_pem {
        command.env("PLUGIN_CLIENT_CERT", pem);
    }
    if let Some(versions) = launch.protocol_versions {
        command.env("PLUGIN_PROTOCOL_VERSIONS", versions);
    }
    if let Some(level) = launch.tf_log {
        command.env("TF_LOG", level);
    }
    if launch.debug {
        command.arg("--debug");
    }
    command
}

/// Starts the plugin and waits for its handshake line (or debug banner).
async fn launch(launch: Launch<'_>) -> Plugin {
    let debug = launch.debug;
    let mut child = command(&launch).spawn().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut stderr_pipe = child.stderr.take().unwrap();
    let collected = Arc::clone(&stderr);
    // Drain stderr continuously so the child never blocks on a full pipe.
    let stderr_drain = tokio::spawn(async move {
        let mut buf = [0_u8; 4096];
        while let Ok(n @ 1..) = stderr_pipe.read(&mut buf).await {
            collected
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The handshake is one line; the debug banner ends with the reattach line.
    let mut announcement = String::new();
    loop {
        let read = tokio::time::timeout(PATIENCE, stdout.read_line(&mut announcement))
            .await
            .expect("plugin did not announce itself in time")
            .unwrap();
        if read == 0 || !debug || announcement.contains("TF_REATTACH_PROVIDERS='") {
            break;
        }
    }
    assert!(
        !announcement.is_empty(),
        "no handshake; stderr: {}",
        stderr.lock().unwrap()
    );
    Plugin {
        child,
        stdout,
        stderr,
        stderr_drain,
        announcement,
    }
}

impl Plugin {
    fn fields(&self) -> Vec<&str> {
        self.announcement
            .trim_end_matches('\n')
            .split('|')
            .collect()
    }

    fn socket(&self) -> PathBuf {
        PathBuf::from(self.fields()[3])
    }

    fn server_cert(&self) -> CertificateDer<'static> {
        CertificateDer::from(STANDARD_NO_PAD.decode(self.fields()[5]).unwrap())
    }

    /// Waits for exit; returns the exit code, everything still unread on
    /// stdout, and all of stderr.
    async fn wait(mut self) -> (Option<i32>, String, String) {
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("plugin did not exit in time")
            .unwrap();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).await.unwrap();
        tokio::time::timeout(PATIENCE, self.stderr_drain)
            .await
            .unwrap()
            .unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        (status.code(), rest, stderr)
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Trusts exactly the certificate from the handshake line (as go-plugin's
/// client does) and checks the server's handshake signatures.
#[derive(Debug)]
struct PinnedServer {
    der: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("unexpected server cert".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A gRPC channel over the plugin's Unix socket, with TLS when `server_cert`
/// is given, presenting `identity` as client certificate when given.
async fn channel(
    socket: &Path,
    server_cert: Option<CertificateDer<'static>>,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, BoxError> {
    // The URI is required but unused: the connector ignores it.
    let endpoint = Endpoint::try_from("http://localhost")?.connect_timeout(PATIENCE);
    let socket = socket.to_owned();
    let Some(server_cert) = server_cert else {
        let connector = tower::service_fn(move |_| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        });
        return Ok(endpoint.connect_with_connector(connector).await?);
    };

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: server_cert,
            algorithms: provider.signature_verification_algorithms,
        }));
    let mut config = match identity {
        Some(identity) => {
            builder.with_client_auth_cert(vec![identity.der.clone()], identity.key.clone_key())?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let connector = tower::service_fn(move |_| {
        let socket = socket.clone();
        let connector = connector.clone();
        async move {
            let stream = UnixStream::connect(socket).await?;
            let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
            let tls = connector.connect(name, stream).await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    Ok(endpoint.connect_with_connector(connector).await?)
}

async fn get_schema(channel: Channel) -> Result<GetProviderSchema::Response, Status> {
    let mut client = ProviderClient::new(channel);
    tokio::time::timeout(PATIENCE, client.get_schema(GetProviderSchema::Request {}))
        .await
        .map_err(|_| Status::deadline_exceeded("test timeout"))?
        .map(Response::into_inner)
}

/// Connects (TLS when `server_cert` is given) and calls GetSchema: for
/// attempts that are expected to fail, at whichever of the two steps.
async fn connect_and_get_schema(
    socket: &Path,
    server_cert: Option<CertificateDer<'static>>,
    identity: Option<&ClientIdentity>,
) -> Result<GetProviderSchema::Response, BoxError> {
    let channel = channel(socket, server_cert, identity).await?;
    Ok(get_schema(channel).await?)
}

/// Sends Shutdown (as Terraform does when done) and waits for the plugin to
/// exit; returns what [`Plugin::wait`] does, for the test to check.
async fn shutdown_and_wait(plugin: Plugin, channel: Channel) -> (Option<i32>, String, String) {
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    plugin.wait().await
}

/// A plugin started as Terraform starts it, with AutoMTLS, and the client
/// identity whose certificate it was given.
async fn launch_tls(protocol_versions: &str, tf_log: Option<&str>) -> (Plugin, ClientIdentity) {
    let identity = terraform_like_client_cert();
    let plugin = launch(Launch {
        client_cert_pem: Some(&identity.pem),
        cookie: true,
        protocol_versions: Some(protocol_versions),
        tf_log,
        ..Launch::default()
    })
    .await;
    (plugin, identity)
}

/// A TLS channel to `plugin`, presenting `identity`.
async fn connect_tls(plugin: &Plugin, identity: &ClientIdentity) -> Channel {
    channel(&plugin.socket(), Some(plugin.server_cert()), Some(identity))
        .await
        .unwrap()
}

/// A TLS plugin as Terraform starts it, plus a connected channel.
async fn tls_plugin() -> (Plugin, Channel) {
    let (plugin, identity) = launch_tls("6,5", None).await;
    let channel = connect_tls(&plugin, &identity).await;
    (plugin, channel)
}

/// Terraform SIGKILLs a provider 2 s after asking it to shut down.
#[track_caller]
fn assert_stopped_before_sigkill(started: std::time::Instant) {
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "Terraform SIGKILLs after 2 s; took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------- the tests

async fn handshake_line_has_go_plugin_format() {
    let (plugin, channel) = tls_plugin().await;
    assert!(plugin.announcement.ends_with('\n'));
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "{}", plugin.announcement);
    assert_eq!(&fields[..3], ["1", "5", "unix"]);
    assert_eq!(fields[4], "grpc");
    let socket = plugin.socket();
    assert!(socket.is_absolute());
    {
        use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
        assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
        let dir_mode = std::fs::metadata(socket.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            dir_mode & 0o777,
            0o700,
            "only our user may reach the socket"
        );
    }
    let cert = fields[5];
    assert!(cert.len() > 50 && !cert.contains('='), "{cert}");
    let der = STANDARD_NO_PAD.decode(cert).unwrap();
    assert_eq!(der[0], 0x30, "DER starts with a SEQUENCE");

    let (code, rest, _) = shutdown_and_wait(plugin, channel).await;
    assert_eq!(code, Some(0));
    assert_eq!(rest, "", "nothing but the handshake may reach stdout");
    assert!(
        !socket.parent().unwrap().exists(),
        "socket directory is removed on exit"
    );
}

async fn pinned_client_cert_connects_and_others_are_rejected() {
    let (plugin, identity) = launch_tls("5,6", None).await;
    let stranger = terraform_like_client_cert();
    let socket = plugin.socket();

    // A different certificate: TLS 1.3 clients learn of the rejection only
    // when they read, so the failure may surface on connect or on the RPC.
    assert!(
        connect_and_get_schema(&socket, Some(plugin.server_cert()), Some(&stranger))
            .await
            .is_err(),
        "a foreign client cert must be rejected"
    );
    assert!(
        connect_and_get_schema(&socket, Some(plugin.server_cert()), None)
            .await
            .is_err(),
        "a client without cert must be rejected"
    );
    assert!(
        connect_and_get_schema(&socket, None, None).await.is_err(),
        "plaintext must be rejected when TLS is on"
    );

    // The right certificate still works after the failed attempts.
    let channel = connect_tls(&plugin, &identity).await;
    let schema = get_schema(channel.clone()).await.unwrap();
    assert!(schema.provider.is_some());
    let stderr = plugin.stderr();
    assert!(
        stderr.contains("not PLUGIN_CLIENT_CERT"),
        "rejection is logged: {stderr}"
    );

    assert_eq!(shutdown_and_wait(plugin, channel).await.0, Some(0));
}

async fn missing_rpc_is_unimplemented() {
    let (plugin, channel) = tls_plugin().await;
    let status = ProviderClient::new(channel.clone())
        .read_resource(ReadResource::Request::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(shutdown_and_wait(plugin, channel).await.0, Some(0));
}

async fn ten_mib_messages_pass_both_ways() {
    let (plugin, channel) = tls_plugin().await;
    let payload: Vec<u8> = (0..10 * MIB)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let mut client = ProviderClient::new(channel.clone())
        .max_decoding_message_size(64 * MIB)
        .max_encoding_message_size(64 * MIB);
    let response = client
        .prepare_provider_config(PrepareProviderConfig::Request {
            config: Some(DynamicValue {
                msgpack: payload.clone(),
                json: Vec::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let echoed = response.prepared_config.unwrap().msgpack;
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "payload survives the round trip");
    assert_eq!(shutdown_and_wait(plugin, channel).await.0, Some(0));
}

async fn health_reports_plugin_serving() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let (plugin, channel) = tls_plugin().await;
    let response = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status(), ServingStatus::Serving);
    assert_eq!(shutdown_and_wait(plugin, channel).await.0, Some(0));
}

async fn shutdown_rpc_ends_the_process_with_streams_open() {
    let (plugin, channel) = tls_plugin().await;
    // go-plugin's client opens both streams right after connecting; they
    // must not hold up the shutdown.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (broker_tx, broker_rx) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx))
        .await
        .unwrap()
        .into_inner();
    broker_tx
        .send(ConnInfo {
            service_id: 1,
            network: "unix".to_owned(),
            address: "/nowhere".to_owned(),
            knock: None,
        })
        .await
        .unwrap();
    // The stdio stream stays open and silent while serving.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stdio.message())
            .await
            .is_err(),
        "stdio stream must neither send nor end while serving"
    );

    let started = std::time::Instant::now();
    let (code, _, stderr) = shutdown_and_wait(plugin, channel).await;
    assert_eq!(code, Some(0));
    assert!(
        !stderr.contains("did not finish within the shutdown grace"),
        "open streams must end on shutdown, not be cut off: {stderr}"
    );
    assert_stopped_before_sigkill(started);
    // Both streams ended cleanly or with the connection; neither carried data.
    assert!(!matches!(stdio.message().await, Ok(Some(_))));
    assert!(!matches!(broker.message().await, Ok(Some(_))));
    drop(broker_tx);
}

async fn shutdown_does_not_wait_for_a_stuck_rpc() {
    let (plugin, channel) = tls_plugin().await;
    let mut stuck_client = ProviderClient::new(channel.clone());
    let stuck =
        tokio::spawn(async move { stuck_client.configure(Configure::Request::default()).await });
    // Let the Configure call reach the provider.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    let (code, _, stderr) = shutdown_and_wait(plugin, channel).await;
    assert_eq!(code, Some(0));
    assert_stopped_before_sigkill(started);
    assert!(
        stderr.contains("did not finish within the shutdown grace"),
        "{stderr}"
    );
    assert!(
        stuck.await.unwrap().is_err(),
        "the stuck call fails once we exit"
    );
}

async fn sigint_is_ignored_and_sigterm_stops() {
    let (mut plugin, channel) = tls_plugin().await;
    plugin.signal("INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "SIGINT must not stop the plugin"
    );
    assert!(
        get_schema(channel).await.is_ok(),
        "still serving after SIGINT"
    );
    plugin.signal("TERM");
    assert_eq!(plugin.wait().await.0, Some(0));
}

async fn stderr_is_hclog_json_lines() {
    let (plugin, identity) = launch_tls("5", Some("TRACE")).await;
    let channel = connect_tls(&plugin, &identity).await;
    get_schema(channel.clone()).await.unwrap();
    let (code, _, stderr) = shutdown_and_wait(plugin, channel).await;
    assert_eq!(code, Some(0));

    let timestamp =
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")
            .unwrap();
    let levels = ["trace", "debug", "info", "warn", "error"];
    let mut lines = 0;
    let mut saw_version = false;
    for line in stderr.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
        assert!(
            levels.contains(&entry["@level"].as_str().unwrap()),
            "{line}"
        );
        assert!(entry["@message"].is_string(), "{line}");
        assert!(
            entry["@module"].as_str().unwrap().starts_with("provider."),
            "{line}"
        );
        assert!(
            timestamp.is_match(entry["@timestamp"].as_str().unwrap()),
            "{line}"
        );
        saw_version |= entry["version"] == TEST_VERSION;
        lines += 1;
    }
    assert!(lines >= 2, "expected startup logs, got: {stderr}");
    assert!(saw_version, "the provider version is logged: {stderr}");
}

async fn plaintext_without_client_cert() {
    let plugin = launch(Launch {
        cookie: true,
        protocol_versions: Some("5,6"),
        ..Launch::default()
    })
    .await;
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6);
    assert_eq!(fields[5], "", "no certificate without AutoMTLS");
    let channel = channel(&plugin.socket(), None, None).await.unwrap();
    assert!(get_schema(channel.clone()).await.is_ok());
    assert_eq!(shutdown_and_wait(plugin, channel).await.0, Some(0));
}

async fn missing_cookie_exits_1_with_message() {
    let output = command(&Launch::default()).output().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no handshake without the cookie");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("plugin for Terraform"), "{stderr}");
    assert!(stderr.contains("--debug"), "{stderr}");
}

async fn protocol_without_5_exits_1_with_message() {
    let output = command(&Launch {
        cookie: true,
        protocol_versions: Some("6,7"),
        ..Launch::default()
    })
    .output()
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("speaks only protocol 5"), "{stderr}");
}

async fn debug_mode_prints_reattach_and_stops_on_ctrl_c() {
    let plugin = launch(Launch {
        debug: true,
        ..Launch::default()
    })
    .await;
    let banner = plugin.announcement.clone();
    let json = banner
        .split("TF_REATTACH_PROVIDERS='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no reattach line in {banner:?}"));
    let reattach: serde_json::Value = serde_json::from_str(json).unwrap();
    let entry = &reattach[ADDRESS];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 5);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], plugin.child.id().unwrap());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().unwrap());

    // Reattached providers are plaintext.
    let channel = channel(&socket, None, None).await.unwrap();
    assert!(get_schema(channel).await.is_ok());

    plugin.signal("INT");
    assert_eq!(plugin.wait().await.0, Some(0));
    assert!(!socket.exists());
}
