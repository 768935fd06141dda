//! AWS errors reduced to what users and our logic need: the operation, the service's error
//! code and its message.

use std::error::Error as _;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    /// The service error code (`ValidationError`, `InvalidLaunchTemplateName.NotFoundException`),
    /// or a transport description when the request never got an answer.
    pub code: String,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl AwsError {
    pub fn new<E, R>(operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                Self {
                    operation,
                    code: e.code().unwrap_or("UnknownError").to_owned(),
                    message: e.message().unwrap_or_default().to_owned(),
                }
            }
            other => {
                // Timeouts, connection refusals and unparseable responses: keep the whole
                // cause chain, it is what the user needs to fix an endpoint or network setup.
                let mut message = other.to_string();
                let mut source = other.source();
                while let Some(s) = source {
                    message.push_str(": ");
                    message.push_str(&s.to_string());
                    source = s.source();
                }
                Self {
                    operation,
                    code: "RequestFailed".to_owned(),
                    message,
                }
            }
        }
    }

    /// The object the call addressed does not exist (any of the services' spellings).
    pub fn is_not_found(&self) -> bool {
        self.code.contains("NotFound")
            || (self.code == "ValidationError"
                && (self.message.contains("not found") || self.message.ends_with("- null")))
    }
}

/// `.map_err(aws_err("CreateLaunchTemplate"))` on SDK results.
pub fn aws_err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    move |err| AwsError::new(operation, &err)
}
