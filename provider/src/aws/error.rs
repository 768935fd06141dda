//! AWS errors reduced to what users and our logic need: the operation, the service's error
//! code and its message, and where the request went: the HTTP status of the answer and the
//! endpoint, so that a wrong endpoint, region or network path can be recognised as such.

use std::error::Error as _;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::transport::{ENDPOINT_HEADER, Transport};

#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    /// The service error code (`ValidationError`, `InvalidLaunchTemplateName.NotFoundException`),
    /// or what kept the request from an AWS answer: `ConnectTimeout`, `ReadTimeout`, `Timeout`,
    /// `OperationTimeout`, `ConnectionFailed`, `UnrecognizedResponse`, `RequestFailed`.
    pub code: String,
    pub message: String,
    /// HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// Where the request went (scheme, host, port, path), when known.
    pub endpoint: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        // Where the answer came from, unless the message already says it.
        let endpoint = self
            .endpoint
            .as_deref()
            .filter(|e| !self.message.contains(*e));
        match (self.status, endpoint) {
            (Some(status), Some(endpoint)) => write!(f, " (HTTP {status} from {endpoint})")?,
            (Some(status), None) if !self.message.contains("HTTP ") => {
                write!(f, " (HTTP {status})")?;
            }
            (None, Some(endpoint)) => write!(f, " ({endpoint})")?,
            _ => {}
        }
        Ok(())
    }
}

impl AwsError {
    /// An error of our own making (a wait that gave up, a missing value in an answer).
    pub fn other(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            code: code.into(),
            message: message.into(),
            status: None,
            endpoint: None,
        }
    }

    pub fn new<E, R>(operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        let raw = err
            .raw_response()
            .and_then(|r| (r as &dyn std::any::Any).downcast_ref::<Response>());
        let status = raw.map(|r| r.status().as_u16());
        let endpoint = raw.and_then(|r| r.headers().get(ENDPOINT_HEADER).map(str::to_owned));
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                match e.code() {
                    Some(code) => Self {
                        operation,
                        code: code.to_owned(),
                        message: e.message().unwrap_or_default().to_owned(),
                        status,
                        endpoint,
                    },
                    // An answer without an AWS error code: an HTML error page, a proxy's
                    // answer, an emulator that does not know the region or path.
                    None => Self::unrecognized(operation, raw, status, endpoint, e),
                }
            }
            SdkError::ResponseError(_) => Self::unrecognized(operation, raw, status, endpoint, err),
            other => {
                // No answer: a timeout, a refused connection. The transport interceptor
                // wrapped the cause with the endpoint and what timed out.
                let mut source = other.source();
                while let Some(s) = source {
                    if let Some(t) = s.downcast_ref::<Transport>() {
                        return Self {
                            operation,
                            code: t.kind.code().to_owned(),
                            message: t.to_string(),
                            status: None,
                            endpoint: Some(t.endpoint.clone()),
                        };
                    }
                    source = s.source();
                }
                if let SdkError::TimeoutError(_) = other {
                    return Self::other(
                        operation,
                        "OperationTimeout",
                        format!(
                            "no complete answer within the bound for one operation, every \
                             attempt included ({})",
                            chain(other)
                        ),
                    );
                }
                // Unparseable responses, endpoint or credential resolution failures: keep the
                // whole cause chain, it is what the user needs to fix the setup.
                Self::other(operation, "RequestFailed", chain(other))
            }
        }
    }

    fn unrecognized(
        operation: &'static str,
        raw: Option<&Response>,
        status: Option<u16>,
        endpoint: Option<String>,
        sdk: &(dyn std::error::Error + 'static),
    ) -> Self {
        let answer = match (status, &endpoint) {
            (Some(s), Some(e)) => format!("HTTP {s}{} from {e}", reason_phrase(s)),
            (Some(s), None) => format!("HTTP {s}{}", reason_phrase(s)),
            (None, _) => "an answer".to_owned(),
        };
        let body = raw.map(body_excerpt).unwrap_or_default();
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(" Its body: \"{body}\".")
        };
        let hint = match status {
            Some(404 | 405) => {
                " Check the endpoint URL (the provider's endpoints block, AWS_ENDPOINT_URL) and \
                 the region: this address does not serve this API."
            }
            Some(500..) => " The service or whatever answers at this address failed.",
            _ => "",
        };
        Self {
            operation,
            code: "UnrecognizedResponse".to_owned(),
            message: format!(
                "{answer}, which is not an AWS API answer (SDK: {}).{body}{hint}",
                chain(sdk)
            ),
            status,
            endpoint,
        }
    }

    /// What kind of failure this is, for the decisions callers make on it.
    pub fn kind(&self) -> ErrorKind {
        let code = self.code.as_str();
        if matches!(
            code,
            "ConnectTimeout" | "ReadTimeout" | "Timeout" | "OperationTimeout" | "ConnectionFailed"
        ) {
            ErrorKind::Unreachable
        } else if code.contains("NotFound")
            || (code == "ValidationError"
                && (self.message.contains("not found") || self.message.ends_with("- null")))
        {
            ErrorKind::NotFound
        } else if code.contains("AlreadyExists") {
            ErrorKind::AlreadyExists
        } else if THROTTLING_CODES.contains(&code) {
            ErrorKind::Throttled
        } else {
            ErrorKind::Other
        }
    }
}

/// What callers decide on; the code and message stay in [`AwsError`] for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object the call addressed does not exist (any of the services' spellings).
    NotFound,
    /// An object of that name exists already.
    AlreadyExists,
    /// The account's request rate was exceeded, and the SDK's retries ran out.
    Throttled,
    /// The request got no answer at all (the endpoint did not connect or stayed silent):
    /// another call to the same endpoint would only wait as long again.
    Unreachable,
    Other,
}

/// The services' throttling codes (the same list the SDK's retry classifier uses).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// The error and its causes, `: `-separated.
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// " Not Found" for 404: the common phrases, for readability only.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        405 => " Method Not Allowed",
        500 => " Internal Server Error",
        501 => " Not Implemented",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    }
}

/// The first 200 characters of a body's text, markup removed and whitespace collapsed.
fn body_excerpt(response: &Response) -> String {
    let Some(bytes) = response.body().bytes() else {
        return String::new();
    };
    let text = String::from_utf8_lossy(bytes);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                plain.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let mut excerpt = String::new();
    for word in words {
        if excerpt.chars().count() + word.chars().count() > 200 {
            excerpt.push('…');
            break;
        }
        if !excerpt.is_empty() {
            excerpt.push(' ');
        }
        excerpt.push_str(word);
    }
    excerpt
}

/// `.map_err(aws_err("CreateLaunchTemplate"))` on SDK results.
pub fn aws_err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    move |err| AwsError::new(operation, &err)
}

/// A call's result with "the object does not exist" as `Ok(None)`: for calls that remove or
/// look up something that may be gone already.
pub fn absent_is_none<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_followed_by_its_status_and_endpoint_once() {
        let mut e = AwsError::other("CreateAutoScalingGroup", "ValidationError", "Max < Min");
        e.status = Some(400);
        e.endpoint = Some("https://autoscaling.us-east-1.amazonaws.com/".to_owned());
        assert_eq!(
            e.to_string(),
            "CreateAutoScalingGroup failed: ValidationError: Max < Min \
             (HTTP 400 from https://autoscaling.us-east-1.amazonaws.com/)"
        );
        // A message that already names the endpoint does not get it twice.
        let mut t = AwsError::other(
            "DescribeInstances",
            "ReadTimeout",
            "connected to http://127.0.0.1:9/, but it sent no answer within 30s (read timeout)",
        );
        t.endpoint = Some("http://127.0.0.1:9/".to_owned());
        assert_eq!(
            t.to_string(),
            "DescribeInstances failed: ReadTimeout: connected to http://127.0.0.1:9/, but it \
             sent no answer within 30s (read timeout)"
        );
        assert_eq!(t.kind(), ErrorKind::Unreachable);
    }
}
