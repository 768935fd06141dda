//! Logs as go-hclog JSON lines on stderr, which is what go-plugin's client
//! parses: Terraform re-logs each line under `provider.<binary>` with the
//! line's own level, message and fields, and applies its TF_LOG filtering.

use std::fmt;
use std::io::Write as _;

use serde_json::{Map, Value};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, filter::LevelFilter};

/// Go's `2006-01-02T15:04:05.000000Z07:00`: go-plugin accepts a line as JSON
/// only if `@timestamp` parses with exactly this layout (6 fractional digits).
/// We always log UTC, which that layout writes as `Z`.
const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Crates whose debug/trace output is transport noise (HTTP/2 frames, TLS
/// records); they log at most INFO unless RUST_LOG says otherwise.
const NOISY_TARGETS: [&str; 7] = [
    "h2",
    "hyper",
    "hyper_util",
    "tower",
    "tonic",
    "rustls",
    "tokio_util",
];

/// AWS SDK crates log whole requests at TRACE, bodies included (a launch template's user
/// data, which is sensitive); they log at most DEBUG unless RUST_LOG says otherwise.
const AWS_SDK_TARGETS: [&str; 7] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_sdk_ec2",
    "aws_sdk_autoscaling",
    "aws_sdk_elasticloadbalancingv2",
    "aws_config",
];

/// The level Terraform asked for.
///
/// `TF_LOG_PROVIDER` wins over `TF_LOG` (as in Terraform). Unset means INFO:
/// Terraform discards what it does not want, and a human running `--debug`
/// sees lifecycle messages. An unrecognised value means TRACE, mirroring
/// Terraform's own fallback for a bad TF_LOG.
pub(crate) fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let Some(value) = tf_log_provider.or(tf_log) else {
        return LevelFilter::INFO;
    };
    match value.trim().to_ascii_uppercase().as_str() {
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        // "TRACE", "JSON" (trace in JSON form) and anything unknown.
        _ => LevelFilter::TRACE,
    }
}

/// Filter directives for `level`; `RUST_LOG`, when set, replaces them all.
pub(crate) fn filter_directives(level: LevelFilter, rust_log: Option<&str>) -> String {
    if let Some(rust_log) = rust_log {
        return rust_log.to_owned();
    }
    let noisy = level.min(LevelFilter::INFO);
    let aws = level.min(LevelFilter::DEBUG);
    std::iter::once(level.to_string())
        .chain(NOISY_TARGETS.map(|target| format!("{target}={noisy}")))
        .chain(AWS_SDK_TARGETS.map(|target| format!("{target}={aws}")))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn env_filter() -> EnvFilter {
    let var = |key: &str| std::env::var(key).ok().filter(|value| !value.is_empty());
    let level = level_from_env(var("TF_LOG_PROVIDER").as_deref(), var("TF_LOG").as_deref());
    EnvFilter::builder().parse_lossy(filter_directives(level, var("RUST_LOG").as_deref()))
}

/// A `tracing` layer writing one hclog-shaped JSON object per event:
/// `@level`, `@message`, `@module` (`provider.` + the event's target),
/// `@timestamp`, then the fields of the enclosing spans and of the event.
pub(crate) struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W> {
    pub(crate) fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Span fields, kept in the span's extensions until its events are logged.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Map::new();
        attrs.record(&mut JsonFields(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut JsonFields(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        // Outermost span first, so inner spans and the event override.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        event.record(&mut JsonFields(&mut fields));
        let message = match fields.remove("message") {
            Some(Value::String(message)) => message,
            Some(other) => other.to_string(),
            None => String::new(),
        };

        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert("@level".into(), hclog_level(*metadata.level()).into());
        line.insert("@message".into(), message.into());
        line.insert(
            "@module".into(),
            format!("provider.{}", metadata.target().replace("::", ".")).into(),
        );
        line.insert("@timestamp".into(), timestamp_now().into());
        for (key, value) in fields {
            // Keys starting with '@' belong to hclog; keep ours apart.
            let key = if key.starts_with('@') {
                format!("_{key}")
            } else {
                key
            };
            line.insert(key, value);
        }

        let Ok(mut bytes) = serde_json::to_vec(&Value::Object(line)) else {
            return;
        };
        bytes.push(b'\n');
        // One write per line so concurrent events never interleave mid-line.
        // A failed stderr write has nowhere to be reported.
        let _ = self.make_writer.make_writer().write_all(&bytes);
    }
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

pub(crate) fn timestamp_now() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

fn format_timestamp(at: time::OffsetDateTime) -> String {
    // Formatting a UTC date with these components cannot fail for years
    // 0..=9999; fall back to an empty string rather than panic.
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .unwrap_or_default()
}

/// Records `tracing` fields as JSON values, keeping numbers and booleans typed.
struct JsonFields<'a>(&'a mut Map<String, Value>);

impl JsonFields<'_> {
    fn insert(&mut self, field: &Field, value: Value) {
        // tracing-log's bridge metadata duplicates what we already emit.
        if !field.name().starts_with("log.") {
            self.0.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for JsonFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(HclogLayer::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn event_becomes_one_hclog_json_line() {
        let lines = capture(|| {
            let span = tracing::info_span!("rpc", type_name = "immutable_fleet");
            let _entered = span.enter();
            tracing::warn!(target: "my_crate::fleet", attempts = 3_u64, ok = false, "gate failed");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["@level"], "warn");
        assert_eq!(line["@message"], "gate failed");
        assert_eq!(line["@module"], "provider.my_crate.fleet");
        assert_eq!(line["attempts"], 3);
        assert_eq!(line["ok"], false);
        assert_eq!(line["type_name"], "immutable_fleet");
        let timestamp = line["@timestamp"].as_str().unwrap();
        let pattern =
            regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")
                .unwrap();
        assert!(pattern.is_match(timestamp), "{timestamp}");
    }

    #[test]
    fn reserved_keys_are_not_overwritten() {
        let lines = capture(|| tracing::error!("@level" = "info", "boom"));
        assert_eq!(lines[0]["@level"], "error");
        assert_eq!(lines[0]["_@level"], "info");
    }

    #[test]
    fn timestamp_has_exactly_six_fraction_digits() {
        let at = time::macros::datetime!(2024-02-29 23:59:58.000_001_999 UTC);
        assert_eq!(format_timestamp(at), "2024-02-29T23:59:58.000001Z");
    }

    #[test]
    fn levels_follow_terraforms_variables() {
        assert_eq!(level_from_env(None, None), LevelFilter::INFO);
        assert_eq!(level_from_env(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(
            level_from_env(Some("WARN"), Some("TRACE")),
            LevelFilter::WARN
        );
        assert_eq!(level_from_env(None, Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some("OFF"), None), LevelFilter::OFF);
        assert_eq!(level_from_env(None, Some("bogus")), LevelFilter::TRACE);
    }

    #[test]
    fn transport_noise_is_capped_and_rust_log_wins() {
        let directives = filter_directives(LevelFilter::TRACE, None);
        assert!(directives.starts_with("trace,"), "{directives}");
        assert!(directives.contains("h2=info"), "{directives}");
        assert!(filter_directives(LevelFilter::WARN, None).contains("h2=warn"));
        assert!(
            directives.contains("aws_smithy_runtime=debug"),
            "{directives}"
        );
        assert_eq!(
            filter_directives(LevelFilter::INFO, Some("h2=trace")),
            "h2=trace"
        );
    }
}
