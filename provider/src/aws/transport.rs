//! Bounded AWS calls that say where they went: the timeouts every client gets, and an SDK
//! interceptor that records each request's endpoint so that errors can name it.
//!
//! The SDK's defaults leave calls unbounded: an endpoint that accepts connections and never
//! answers (a stuck proxy, a firewall that drops replies, a wrong emulator port held by some
//! other program) hangs a plan at "Refreshing state…" forever. Every client gets [`Timeouts`],
//! and a call that timed out is retried at most [`MAX_TIMEOUT_ATTEMPTS`] times in all, so a
//! black-holed endpoint costs about `3 × read` per call rather than the full retry budget
//! (which exists for throttling).
//!
//! Errors that never got an answer are wrapped in a [`Transport`] that names the endpoint and
//! what timed out; answers carry the endpoint in the [`ENDPOINT_HEADER`] response header.
//! [`super::AwsError::new`] reads both.

use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::timeout::TimeoutConfig;

/// Tuning and testing knob: multiplies every timeout of [`Timeouts::DEFAULT`] (a positive
/// number, e.g. `0.05` in tests that point the provider at an endpoint that never answers).
pub const TIMEOUT_SCALE_ENV: &str = "IMMUTABLE_AWS_TIMEOUT_SCALE";

/// A call that timed out is tried at most this often (first attempt included).
pub const MAX_TIMEOUT_ATTEMPTS: u32 = 3;

/// Response header, added on our side, holding the endpoint the request went to.
pub const ENDPOINT_HEADER: &str = "x-immutable-endpoint";

/// How long one AWS call may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (and TLS) connection establishment.
    pub connect: Duration,
    /// From sending the request to the first byte of the answer.
    pub read: Duration,
    /// One attempt, answer body included.
    pub attempt: Duration,
    /// One operation, every attempt and retry backoff included.
    pub operation: Duration,
}

impl Timeouts {
    /// The defaults, chosen for the AWS control plane as seen from a CI runner:
    ///
    /// - **connect 10 s**: a regional endpoint connects in milliseconds; 10 s covers a slow
    ///   proxy or DNS without letting a dropped SYN (firewall) hang a plan.
    /// - **read 30 s**: Describe and Create calls answer within a second or two even when AWS
    ///   is busy (throttling is an answer, not silence); 30 s of silence means no answer is
    ///   coming.
    /// - **attempt 60 s**: the read bound plus a body that trickles in.
    /// - **operation 5 min**: every attempt and backoff of one call, so throttling with the
    ///   full retry budget still completes while nothing can hang longer; a black-holed
    ///   endpoint fails sooner, after [`MAX_TIMEOUT_ATTEMPTS`] reads (~90 s).
    pub const DEFAULT: Self = Self {
        connect: Duration::from_secs(10),
        read: Duration::from_secs(30),
        attempt: Duration::from_mins(1),
        operation: Duration::from_mins(5),
    };

    /// [`Timeouts::DEFAULT`] scaled by [`TIMEOUT_SCALE_ENV`] when it is set.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(TIMEOUT_SCALE_ENV) {
            Ok(value) => Self::scaled(&value),
            Err(_) => Ok(Self::DEFAULT),
        }
    }

    /// [`Timeouts::DEFAULT`] multiplied by `factor` (text of a positive number, at most 100).
    pub fn scaled(factor: &str) -> Result<Self, String> {
        let scale = factor
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 100.0)
            .ok_or_else(|| {
                format!(
                    "{TIMEOUT_SCALE_ENV}={factor:?} is not a number greater than 0 and at most \
                     100 (it multiplies the AWS call timeouts)."
                )
            })?;
        let d = Self::DEFAULT;
        // Never below 10 ms: a zero timeout would fail every call at once.
        let scale_one = |t: Duration| t.mul_f64(scale).max(Duration::from_millis(10));
        Ok(Self {
            connect: scale_one(d.connect),
            read: scale_one(d.read),
            attempt: scale_one(d.attempt),
            operation: scale_one(d.operation),
        })
    }

    pub fn config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// What kept a request from getting an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// Connected, request sent, no answer within the read timeout.
    ReadTimeout,
    /// The attempt as a whole (answer body included) took longer than its bound.
    AttemptTimeout,
    /// Some other timeout reported by the HTTP client.
    Timeout,
    /// The connection failed (refused, reset, TLS, DNS).
    Connection,
}

impl TransportKind {
    /// The AWS error code used for it in [`super::AwsError`].
    pub fn code(self) -> &'static str {
        match self {
            Self::ConnectTimeout => "ConnectTimeout",
            Self::ReadTimeout => "ReadTimeout",
            Self::AttemptTimeout | Self::Timeout => "Timeout",
            Self::Connection => "ConnectionFailed",
        }
    }

    fn is_timeout(self) -> bool {
        !matches!(self, Self::Connection)
    }
}

/// A request that got no answer: where it went, what failed, after how many attempts.
#[derive(Debug)]
pub struct Transport {
    pub endpoint: String,
    pub kind: TransportKind,
    /// The attempt that failed (1 = the first).
    pub attempt: u32,
    /// The bound that was hit, for timeouts.
    pub after: Option<Duration>,
    source: BoxError,
}

impl Transport {
    /// The innermost cause, as the HTTP client put it (`Connection refused (os error 111)`).
    pub fn cause(&self) -> String {
        let mut text = self.source.to_string();
        let mut next = self.source.source();
        while let Some(s) = next {
            text = s.to_string();
            next = s.source();
        }
        text
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let after = self
            .after
            .map(|d| format!(" within {}", format_duration(d)))
            .unwrap_or_default();
        let attempts = match self.attempt {
            1 => String::new(),
            n => format!(", {n} attempts"),
        };
        let endpoint = &self.endpoint;
        let (what, bound) = match self.kind {
            TransportKind::ConnectTimeout => (
                format!("could not connect to {endpoint}"),
                "connect timeout",
            ),
            TransportKind::ReadTimeout => (
                format!("connected to {endpoint}, but it sent no answer"),
                "read timeout",
            ),
            TransportKind::AttemptTimeout => (
                format!("the answer from {endpoint} did not complete"),
                "attempt timeout",
            ),
            TransportKind::Timeout => (format!("no answer from {endpoint}"), "timeout"),
            TransportKind::Connection => {
                return write!(
                    f,
                    "the connection to {endpoint} failed: {} (attempt {})",
                    self.cause(),
                    self.attempt
                );
            }
        };
        write!(f, "{what}{after} ({bound}{attempts})")
    }
}

impl std::error::Error for Transport {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// `1m30s`, `10s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else if d.subsec_millis() == 0 {
        format!("{secs}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The endpoint a request of the current operation went to.
#[derive(Debug, Clone)]
struct RequestEndpoint(String);

impl Storable for RequestEndpoint {
    type Storer = StoreReplace<Self>;
}

/// The SDK side of this module: install on every client (see [`super::AwsClients::load`]).
#[derive(Debug, Clone)]
pub struct TransportInterceptor {
    timeouts: Timeouts,
}

impl TransportInterceptor {
    pub fn new(timeouts: Timeouts) -> Self {
        Self { timeouts }
    }

    /// Takes the error out of `slot` as the source of a [`Transport`] of `kind` naming the
    /// request's endpoint. `None`, with `slot` untouched, when it holds no error or the
    /// endpoint is unknown.
    fn take_transport(
        &self,
        slot: &mut Slot,
        cfg: &ConfigBag,
        kind: TransportKind,
    ) -> Option<Transport> {
        let RequestEndpoint(endpoint) = cfg.load::<RequestEndpoint>()?.clone();
        let original = take_error(slot)?;
        let after = match kind {
            TransportKind::ConnectTimeout => Some(self.timeouts.connect),
            TransportKind::ReadTimeout => Some(self.timeouts.read),
            TransportKind::AttemptTimeout => Some(self.timeouts.attempt),
            TransportKind::Timeout | TransportKind::Connection => None,
        };
        Some(Transport {
            endpoint,
            kind,
            attempt: cfg
                .load::<RequestAttempts>()
                .map_or(1, RequestAttempts::attempts),
            after,
            source: Box::new(original),
        })
    }
}

/// The endpoint of a request URI: scheme, authority and path, never the query string.
fn endpoint_of(uri: &str) -> String {
    uri.split(['?', '#']).next().unwrap_or(uri).to_owned()
}

/// Classifies a connector error by the HTTP client's own words.
fn connector_kind(e: &ConnectorError) -> TransportKind {
    if !e.is_timeout() {
        return TransportKind::Connection;
    }
    let mut text = String::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = next {
        text.push_str(&s.to_string());
        text.push(' ');
        next = s.source();
    }
    if text.contains("connect timeout") {
        TransportKind::ConnectTimeout
    } else if text.contains("read timeout") {
        TransportKind::ReadTimeout
    } else {
        TransportKind::Timeout
    }
}

type Slot = Result<aws_smithy_runtime_api::client::interceptors::context::Output, Error>;
type Error = OrchestratorError<aws_smithy_runtime_api::client::interceptors::context::Error>;

/// Takes the error out of `slot` (leaving a placeholder the caller must replace).
fn take_error(slot: &mut Slot) -> Option<Error> {
    if slot.is_ok() {
        return None;
    }
    std::mem::replace(slot, Err(OrchestratorError::other("placeholder"))).err()
}

impl Intercept for TransportInterceptor {
    fn name(&self) -> &'static str {
        "Transport"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let endpoint = endpoint_of(context.request().uri());
        cfg.interceptor_state().store_put(RequestEndpoint(endpoint));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(RequestEndpoint(endpoint)) = cfg.load::<RequestEndpoint>() {
            // An endpoint that is not a valid header value is simply not reported.
            let _ = context
                .response_mut()
                .headers_mut()
                .try_insert(ENDPOINT_HEADER, endpoint.clone());
        }
        Ok(())
    }

    /// Connection failures and connect/read timeouts: wrapped in a [`Transport`] of the same
    /// kind (so the retry classifiers treat them as before), and a timeout on the last allowed
    /// attempt made final.
    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(slot) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Some(connector) = slot
            .as_ref()
            .err()
            .and_then(OrchestratorError::as_connector_error)
        else {
            return Ok(());
        };
        let kind = connector_kind(connector);
        // The wrapper keeps the original's class, so the retry classifiers decide as before.
        let (is_io, is_user, other) =
            (connector.is_io(), connector.is_user(), connector.as_other());
        // Connector errors happen after transmit, so the endpoint is known.
        let Some(transport) = self.take_transport(slot, cfg, kind) else {
            return Ok(());
        };
        let attempt = transport.attempt;
        let source: BoxError = Box::new(transport);
        let error = if kind.is_timeout() && attempt >= MAX_TIMEOUT_ATTEMPTS {
            // Not retryable: an endpoint that was silent this often is not coming back
            // within the operation.
            ConnectorError::other(source, None)
        } else if kind.is_timeout() {
            ConnectorError::timeout(source)
        } else if is_io {
            ConnectorError::io(source)
        } else if is_user {
            ConnectorError::user(source)
        } else {
            ConnectorError::other(source, other)
        };
        *slot = Err(OrchestratorError::connector(error));
        Ok(())
    }

    /// Attempt timeouts are set by the orchestrator after the attempt; name their endpoint
    /// once all attempts are done.
    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(slot) = context.output_or_error_mut() else {
            return Ok(());
        };
        if !slot
            .as_ref()
            .err()
            .is_some_and(OrchestratorError::is_timeout_error)
        {
            return Ok(());
        }
        let Some(transport) = self.take_transport(slot, cfg, TransportKind::AttemptTimeout) else {
            return Ok(());
        };
        *slot = Err(OrchestratorError::timeout(Box::new(transport)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]

    use super::*;

    #[test]
    fn the_scale_multiplies_every_timeout_and_rejects_nonsense() {
        let t = Timeouts::scaled("0.1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.connect, Duration::from_secs(1));
        assert_eq!(t.read, Duration::from_secs(3));
        assert_eq!(t.attempt, Duration::from_secs(6));
        assert_eq!(t.operation, Duration::from_secs(30));
        for bad in ["0", "-1", "abc", "NaN", "inf", "1000", ""] {
            let e = Timeouts::scaled(bad).err().unwrap_or_default();
            assert!(e.contains(TIMEOUT_SCALE_ENV), "{bad:?}: {e}");
        }
    }

    #[test]
    fn endpoints_never_carry_the_query_string() {
        assert_eq!(
            endpoint_of("http://127.0.0.1:5000/?Action=DescribeInstances&X-Amz-Credential=AKIA"),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            endpoint_of("https://ec2.us-east-1.amazonaws.com/"),
            "https://ec2.us-east-1.amazonaws.com/"
        );
    }

    #[test]
    fn connect_and_read_timeouts_are_told_apart_by_the_http_clients_words() {
        let timeout = |text: &str| ConnectorError::timeout(text.to_owned().into());
        assert_eq!(
            connector_kind(&timeout("HTTP connect timeout occurred after 10s")),
            TransportKind::ConnectTimeout
        );
        assert_eq!(
            connector_kind(&timeout("HTTP read timeout occurred after 30s")),
            TransportKind::ReadTimeout
        );
        assert_eq!(
            connector_kind(&timeout("something else")),
            TransportKind::Timeout
        );
        let refused = ConnectorError::io("Connection refused (os error 111)".into());
        assert_eq!(connector_kind(&refused), TransportKind::Connection);
    }

    #[test]
    fn messages_name_the_endpoint_the_bound_and_the_attempts() {
        let message = |kind, attempt, after| {
            Transport {
                endpoint: "http://127.0.0.1:9/".to_owned(),
                kind,
                attempt,
                after,
                source: "Connection refused (os error 111)".into(),
            }
            .to_string()
        };
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            message(TransportKind::ConnectTimeout, 3, secs(10)),
            "could not connect to http://127.0.0.1:9/ within 10s (connect timeout, 3 attempts)"
        );
        assert_eq!(
            message(TransportKind::ReadTimeout, 1, secs(30)),
            "connected to http://127.0.0.1:9/, but it sent no answer within 30s (read timeout)"
        );
        assert_eq!(
            message(TransportKind::AttemptTimeout, 2, secs(60)),
            "the answer from http://127.0.0.1:9/ did not complete within 1m \
             (attempt timeout, 2 attempts)"
        );
        assert_eq!(
            message(TransportKind::Timeout, 1, None),
            "no answer from http://127.0.0.1:9/ (timeout)"
        );
        assert_eq!(
            message(TransportKind::Connection, 2, None),
            "the connection to http://127.0.0.1:9/ failed: Connection refused (os error 111) \
             (attempt 2)"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_mins(5)), "5m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
    }
}
