//! Client of the fault injector that serves moto (`tests/support/fault_proxy.py`).
//!
//! Rules and call counts are scoped by the SigV4 access key id of a request, so each scenario
//! runs Terraform with its own key ([`crate::TerraformWorkdir::with_access_key`]) and sees
//! only its own faults and counts, although every scenario shares moto's one account.
//!
//! With no rule installed the proxy still answers some Auto Scaling calls as AWS does where
//! moto drops what AWS keeps (`docs/moto.md` section 7, `tests/support/aws_model.py`):
//! `MaxInstanceLifetime` and `DefaultInstanceWarmup` of a group, settings changed by
//! UpdateAutoScalingGroup, the lifecycle hooks of CreateAutoScalingGroup, the notification
//! target, role and metadata of a hook, scaling policy names per group (moto: per account),
//! their `PolicyARN` and `Enabled`, hooks and policies deleted with their group, and
//! Enable/DisableMetricsCollection. That is AWS state, shared by every access key like moto's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::http::http_request;

/// An AWS service as named in the SigV4 credential scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ec2,
    AutoScaling,
    /// ELBv2 signs as `elasticloadbalancing`.
    Elbv2,
    /// CloudWatch signs as `monitoring`.
    CloudWatch,
}

impl Service {
    pub fn scope_name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::AutoScaling => "autoscaling",
            Service::Elbv2 => "elasticloadbalancing",
            Service::CloudWatch => "monitoring",
        }
    }
}

/// One fault, built with a constructor and narrowed with the modifiers; added with
/// [`Faults::add`], which sets its scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule(Map<String, Value>);

impl Rule {
    fn kind(kind: &str) -> Self {
        let mut spec = Map::new();
        spec.insert("kind".to_owned(), json!(kind));
        Rule(spec)
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.to_owned(), value);
        self
    }

    /// The service's throttling error: `RequestLimitExceeded`/503 for EC2, `Throttling`/400
    /// for Auto Scaling and ELBv2, in the service's XML error shape.
    pub fn throttle(service: Service) -> Self {
        Rule::kind("error").service(service)
    }

    /// Any error code and HTTP status, in the service's XML error shape.
    pub fn error(service: Service, code: &str, status: u16) -> Self {
        Rule::kind("error")
            .service(service)
            .with("code", json!(code))
            .with("status", json!(status))
    }

    /// Sleeps this long before moto answers.
    pub fn delay_ms(millis: u64) -> Self {
        Rule::kind("delay").with("delay_ms", json!(millis))
    }

    /// Replaces every occurrence of `from` by `to` in moto's answers to `action`.
    pub fn rewrite(action: &str, from: &str, to: &str) -> Self {
        Rule::kind("rewrite").actions(&[action]).with(
            "substitutions",
            json!([{ "pattern": from, "replacement": to }]),
        )
    }

    /// Like [`Rule::rewrite`] with a Python regular expression (`\1` in `to` for groups).
    pub fn rewrite_regex(action: &str, pattern: &str, to: &str) -> Self {
        Rule::kind("rewrite").actions(&[action]).with(
            "substitutions",
            json!([{ "pattern": pattern, "replacement": to, "regex": true }]),
        )
    }

    /// In DescribeTargetHealth, every target whose id is not in `keep` is reported with
    /// `state` and `reason` (e.g. `unhealthy`/`Target.FailedHealthChecks`,
    /// `initial`/`Elb.RegistrationInProgress`) and the description AWS gives that reason.
    pub fn target_health(keep: &[String], state: &str, reason: &str) -> Self {
        let description = match reason {
            "Target.FailedHealthChecks" => "Health checks failed",
            "Target.ResponseCodeMismatch" => "Health checks failed with these codes: [502]",
            "Target.Timeout" => "Request timed out",
            "Elb.RegistrationInProgress" => "Target registration is in progress",
            "Elb.InitialHealthChecking" => "Initial health checks in progress",
            other => other,
        };
        Rule::kind("target_health")
            .service(Service::Elbv2)
            .with("keep", json!(keep))
            .with("state", json!(state))
            .with("reason", json!(reason))
            .with("description", json!(description))
    }

    /// DescribeScalingActivities answers with one `Failed` activity that started now, for the
    /// group asked about, with this status message.
    pub fn failed_scaling_activity(status_message: &str) -> Self {
        Rule::kind("failed_activity")
            .service(Service::AutoScaling)
            .with("status_message", json!(status_message))
    }

    /// For [`Rule::failed_scaling_activity`]: the activity's `StatusCode` instead of `Failed`,
    /// e.g. `Cancelled`, as AWS reports a launch that a lifecycle hook abandoned.
    #[must_use]
    pub fn status_code(self, code: &str) -> Self {
        self.with("status_code", json!(code))
    }

    /// In DescribeAutoScalingGroups, the instances of `group` report `state` as their
    /// `LifecycleState`: e.g. `Pending:Wait` or `Terminating:Wait`, which moto never enters (it
    /// has no lifecycle actions) while a lifecycle hook holds an instance on AWS. Every instance
    /// of the group unless narrowed with [`Rule::instance_count`] or [`Rule::keep_instances`];
    /// for as long as the rule lives: bound it with [`Rule::for_duration`] or [`Rule::count`]
    /// (DescribeAutoScalingGroups calls), or remove it with [`Faults::clear`].
    pub fn lifecycle_state(group: &str, state: &str) -> Self {
        Rule::kind("lifecycle_state")
            .service(Service::AutoScaling)
            .with("group", json!(group))
            .with("state", json!(state))
    }

    /// For [`Rule::lifecycle_state`]: at most this many instances of the group (the first ones
    /// in moto's answer, which lists them in launch order) change state.
    #[must_use]
    pub fn instance_count(self, count: u64) -> Self {
        self.with("instance_count", json!(count))
    }

    /// For [`Rule::lifecycle_state`]: these instances keep moto's state.
    #[must_use]
    pub fn keep_instances(self, ids: &[String]) -> Self {
        self.with("keep", json!(ids))
    }

    /// Only calls of this service.
    #[must_use]
    pub fn service(self, service: Service) -> Self {
        self.with("service", json!(service.scope_name()))
    }

    /// Only these actions (e.g. `DescribeAutoScalingGroups`).
    #[must_use]
    pub fn actions(self, actions: &[&str]) -> Self {
        self.with("actions", json!(actions))
    }

    /// Only calls whose form/query parameter `name` equals `value`.
    #[must_use]
    pub fn param(mut self, name: &str, value: &str) -> Self {
        let params = self
            .0
            .entry("params")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(params) = params {
            params.insert(name.to_owned(), json!(value));
        }
        self
    }

    /// Fires for a matching call with this probability (default 1).
    #[must_use]
    pub fn probability(self, probability: f64) -> Self {
        self.with("probability", json!(probability))
    }

    /// Fires at most this many times (default: unlimited).
    #[must_use]
    pub fn count(self, count: u64) -> Self {
        self.with("count", json!(count))
    }

    /// Fires only during this long after it is added (any kind; default: for as long as it
    /// lives). Combines with [`Rule::count`]: whichever runs out first.
    #[must_use]
    pub fn for_duration(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.with("duration_ms", json!(millis))
    }

    /// The JSON the control API receives.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// Handle on the fault proxy's control API (`/_fault`, `/_calls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    port: u16,
}

impl Faults {
    pub(crate) fn new(port: u16) -> Self {
        Self { port }
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let payload = body.map(Value::to_string).unwrap_or_default();
        let response = http_request(
            self.port,
            method,
            path,
            &[("Content-Type", "application/json")],
            payload.as_bytes(),
        )
        .unwrap_or_else(|err| panic!("fault proxy {method} {path}: {err}"));
        assert_eq!(
            response.status,
            200,
            "fault proxy {method} {path} {payload}: {}",
            response.text()
        );
        serde_json::from_slice(&response.body).unwrap_or_else(|err| {
            panic!(
                "fault proxy {method} {path}: invalid JSON ({err}): {}",
                response.text()
            )
        })
    }

    /// Adds `rule` for requests signed with `scope` (an access key id); returns its id.
    pub fn add(&self, scope: &str, rule: Rule) -> u64 {
        let spec = rule.with("scope", json!(scope)).to_json();
        let answer = self.request("POST", "/_fault", Some(&spec));
        answer["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("fault proxy gave no rule id: {answer}"))
    }

    /// The rules of `scope` as the proxy reports them (each with `id`, `fired`, `remaining`).
    pub fn rules(&self, scope: &str) -> Vec<Value> {
        match self.request("GET", &format!("/_fault?scope={scope}"), None) {
            Value::Array(rules) => rules,
            other => panic!("fault proxy listed no array: {other}"),
        }
    }

    /// How often the rules of `scope` fired, in total.
    pub fn fired(&self, scope: &str) -> u64 {
        self.rules(scope)
            .iter()
            .filter_map(|rule| rule["fired"].as_u64())
            .sum()
    }

    /// Removes the rule `id` (from [`Faults::add`]); returns the proxy's clock at the removal,
    /// the moment from which the rule no longer fires.
    pub fn remove(&self, id: u64) -> SystemTime {
        let answer = self.request("DELETE", &format!("/_fault?id={id}"), None);
        answer["at"]
            .as_f64()
            .map_or_else(SystemTime::now, unix_time)
    }

    /// Removes the rules of `scope`.
    pub fn clear(&self, scope: &str) {
        self.request("DELETE", &format!("/_fault?scope={scope}"), None);
    }

    /// Calls made with `scope`, by `service:Action` (e.g. `autoscaling:DescribeAutoScalingGroups`),
    /// answered by moto or by a fault alike.
    pub fn calls(&self, scope: &str) -> BTreeMap<String, u64> {
        let answer = self.request("GET", &format!("/_calls?scope={scope}"), None);
        answer[scope]
            .as_object()
            .map(|counts| {
                counts
                    .iter()
                    .filter_map(|(key, count)| count.as_u64().map(|n| (key.clone(), n)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every call made with `scope` since its counts were last reset, in arrival order, with the
    /// proxy's clock: what [`Faults::calls`] counts, one by one (for rates over time).
    pub fn timeline(&self, scope: &str) -> Vec<TimedCall> {
        let answer = self.request("GET", &format!("/_calls?scope={scope}&timeline=1"), None);
        answer[scope]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|call| {
                        Some(TimedCall {
                            at: unix_time(call[0].as_f64()?),
                            action: call[1].as_str()?.to_owned(),
                            faulted: call[2].as_bool().unwrap_or(false),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets the call counts (and the timeline) of `scope`.
    pub fn reset_calls(&self, scope: &str) {
        self.request("DELETE", &format!("/_calls?scope={scope}"), None);
    }

    /// Prints the calls of `scope` as a table (for the benchmark record) and returns them.
    pub fn report_calls(&self, scope: &str, label: &str) -> BTreeMap<String, u64> {
        let calls = self.calls(scope);
        eprintln!("{}", format_calls(label, &calls));
        calls
    }
}

/// One call as the proxy's timeline recorded it ([`Faults::timeline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedCall {
    /// When the proxy received it (its wall clock, which is this machine's).
    pub at: SystemTime,
    /// `service:Action`, as in [`Faults::calls`].
    pub action: String,
    /// Answered by an injected error (e.g. throttling) instead of moto.
    pub faulted: bool,
}

/// Seconds since the Unix epoch (Python's `time.time()`) as a [`SystemTime`].
fn unix_time(seconds: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(seconds.max(0.0))
}

/// A table of API calls, largest first, with a total.
pub fn format_calls(label: &str, calls: &BTreeMap<String, u64>) -> String {
    let mut rows: Vec<(&String, &u64)> = calls.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let mut table = format!("[calls] {label}:");
    for (key, count) in &rows {
        let _ = write!(table, "\n[calls]   {key:<width$} {count:>5}");
    }
    let total: u64 = calls.values().sum();
    let _ = write!(table, "\n[calls]   {:<width$} {total:>5}", "total");
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_serialise_as_the_proxy_expects() {
        let rule = Rule::throttle(Service::Ec2)
            .probability(0.3)
            .count(5)
            .param("AutoScalingGroupName", "g");
        assert_eq!(
            rule.to_json(),
            json!({"kind": "error", "service": "ec2", "probability": 0.3, "count": 5,
                   "params": {"AutoScalingGroupName": "g"}})
        );
        let rule =
            Rule::target_health(&["i-1".to_owned()], "initial", "Elb.RegistrationInProgress");
        assert_eq!(rule.to_json()["keep"], json!(["i-1"]));
        assert_eq!(rule.to_json()["service"], "elasticloadbalancing");
        assert_eq!(
            rule.to_json()["description"],
            "Target registration is in progress"
        );
        let rule = Rule::lifecycle_state("g", "Pending:Wait")
            .instance_count(1)
            .keep_instances(&["i-1".to_owned()])
            .for_duration(Duration::from_secs(30));
        assert_eq!(
            rule.to_json(),
            json!({"kind": "lifecycle_state", "service": "autoscaling", "group": "g",
                   "state": "Pending:Wait", "instance_count": 1, "keep": ["i-1"],
                   "duration_ms": 30000})
        );
    }

    #[test]
    fn formats_calls_largest_first_with_a_total() {
        let calls = BTreeMap::from([
            ("ec2:RunInstances".to_owned(), 2),
            ("autoscaling:X".to_owned(), 7),
        ]);
        let table = format_calls("s", &calls);
        let x = table.find("autoscaling:X").unwrap_or(usize::MAX);
        let run = table.find("ec2:RunInstances").unwrap_or(0);
        assert!(x < run, "{table}");
        assert!(table.ends_with("    9"), "{table}");
    }
}
