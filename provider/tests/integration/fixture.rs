//! One provider server and one moto per test binary; helpers to build requests.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use aws_credential_types::Credentials;
use e2e::Moto;
use terraform_provider_immutable::framework::Resource;
use terraform_provider_immutable::grpc::{ProviderService, decode, encode};
use terraform_provider_immutable::provider::ImmutableProvider;
use terraform_provider_immutable::resources::fleet::Fleet;
use tfplugin_cty::{Type, Value};
use tfplugin_proto::tfplugin5 as pb;
use tfplugin_proto::tfplugin5::provider_client::ProviderClient;
use tfplugin_proto::tfplugin5::provider_server::ProviderServer;
use tokio::runtime::Runtime;
use tonic::transport::Channel;

pub struct Fixture {
    pub runtime: Runtime,
    addr: SocketAddr,
    pub moto: &'static Moto,
    pub subnets: Vec<String>,
    fleet_type: Type,
    provider_type: Type,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// Starts a fresh provider server (its own Stop token) on a loopback port.
pub fn spawn_server(runtime: &Runtime) -> SocketAddr {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let provider = ImmutableProvider::with_credentials(Credentials::new(
        "testing", "testing", None, None, "test",
    ));
    let service = ProviderService::new(Arc::new(provider));
    runtime.spawn(async move {
        tonic::transport::Server::builder()
            .add_service(ProviderServer::new(service))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    addr
}

pub fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let moto = Moto::shared();
        let subnets = moto.aws().default_subnet_ids();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let addr = spawn_server(&runtime);
        let mut fixture = Fixture {
            runtime,
            addr,
            moto,
            subnets,
            fleet_type: Type::Bool,
            provider_type: Type::Bool,
        };
        let schema = fixture
            .call(|mut c| async move { c.get_schema(pb::get_provider_schema::Request {}).await });
        let ty = |s: &pb::Schema| block_type(s.block.as_ref().unwrap());
        fixture.fleet_type = ty(&schema.resource_schemas["immutable_fleet"]);
        fixture.provider_type = ty(schema.provider.as_ref().unwrap());
        fixture.configure(addr);
        fixture
    })
}

/// Rebuilds the object type from the wire schema (what Terraform does).
pub fn block_type(block: &pb::schema::Block) -> Type {
    use pb::schema::nested_block::NestingMode;
    let mut attrs: Vec<(String, Type)> = block
        .attributes
        .iter()
        .map(|a| {
            let json: serde_json::Value = serde_json::from_slice(&a.r#type).unwrap();
            (a.name.clone(), Type::from_json(&json).unwrap())
        })
        .collect();
    for nested in &block.block_types {
        let inner = block_type(nested.block.as_ref().unwrap());
        let ty = match NestingMode::try_from(nested.nesting).unwrap() {
            NestingMode::List => Type::list(inner),
            NestingMode::Set => Type::set(inner),
            NestingMode::Map => Type::map(inner),
            _ => inner,
        };
        attrs.push((nested.type_name.clone(), ty));
    }
    Type::object(attrs)
}

impl Fixture {
    pub fn configure(&self, addr: SocketAddr) {
        let config = self.provider_config();
        let configured = self.call_at(addr, |mut c| async move {
            c.configure(pb::configure::Request {
                terraform_version: "1.0.3".into(),
                config: Some(config),
                client_capabilities: None,
            })
            .await
        });
        assert!(
            configured.diagnostics.is_empty(),
            "{:?}",
            configured.diagnostics
        );
    }

    pub fn call<F, Fut, T>(&self, f: F) -> T
    where
        F: FnOnce(ProviderClient<Channel>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call_at(self.addr, f)
    }

    pub fn call_at<F, Fut, T>(&self, addr: SocketAddr, f: F) -> T
    where
        F: FnOnce(ProviderClient<Channel>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.runtime.block_on(async move {
            let client = ProviderClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
            f(client).await.unwrap().into_inner()
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    pub fn provider_config(&self) -> pb::DynamicValue {
        let endpoint = self.moto.endpoint().to_owned();
        let endpoints = Value::object([
            ("ec2", Value::string(&endpoint)),
            ("autoscaling", Value::string(&endpoint)),
            ("elbv2", Value::string(&endpoint)),
        ]);
        let config = Value::object([
            ("region", Value::string("us-east-1")),
            ("endpoints", endpoints),
        ]);
        encode(&config, &self.provider_type).unwrap()
    }

    pub fn fleet_type(&self) -> &Type {
        &self.fleet_type
    }

    pub fn dv(&self, value: &Value) -> pb::DynamicValue {
        encode(value, &self.fleet_type).unwrap()
    }

    pub fn value(&self, dv: Option<&pb::DynamicValue>) -> Value {
        decode(dv, &self.fleet_type, "test value").unwrap()
    }

    /// A fleet configuration as Terraform would send it: every attribute present, computed
    /// ones null.
    pub fn fleet_config(&self, name: &str, overrides: &[(&str, Value)]) -> Value {
        let mut attrs: std::collections::BTreeMap<String, Value> = self
            .fleet_type
            .attribute_types()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect();
        attrs.insert("name".into(), Value::string(name));
        attrs.insert("image_id".into(), Value::string(e2e::MOTO_AMI));
        attrs.insert("instance_type".into(), Value::string("t3.micro"));
        attrs.insert(
            "subnet_ids".into(),
            Value::set(self.subnets.iter().take(2).map(Value::string).collect()),
        );
        attrs.insert("min_size".into(), Value::number(1));
        attrs.insert("max_size".into(), Value::number(4));
        attrs.insert("desired_capacity".into(), Value::number(2));
        for (k, v) in overrides {
            attrs.insert((*k).to_owned(), v.clone());
        }
        // As Terraform sends it: a repeatable block left out is an empty collection.
        let mut config = Value::Object(attrs);
        Fleet.schema().block.fill_absent_blocks(&mut config);
        config
    }

    pub fn health_check(&self, overrides: &[(&str, Value)]) -> Value {
        let mut block = std::collections::BTreeMap::new();
        for name in [
            "type",
            "grace_period",
            "timeout",
            "healthy_for",
            "min_healthy_percent",
        ] {
            block.insert(name.to_owned(), Value::Null);
        }
        for (k, v) in overrides {
            block.insert((*k).to_owned(), v.clone());
        }
        Value::Object(block)
    }

    pub fn plan(
        &self,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> pb::plan_resource_change::Response {
        let request = pb::plan_resource_change::Request {
            type_name: "immutable_fleet".into(),
            prior_state: Some(self.dv(prior)),
            proposed_new_state: Some(self.dv(proposed)),
            config: Some(self.dv(config)),
            ..Default::default()
        };
        self.call(|mut c| async move { c.plan_resource_change(request).await })
    }

    pub fn apply(
        &self,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> pb::apply_resource_change::Response {
        let request = pb::apply_resource_change::Request {
            type_name: "immutable_fleet".into(),
            prior_state: Some(self.dv(prior)),
            planned_state: Some(self.dv(planned)),
            config: Some(self.dv(config)),
            ..Default::default()
        };
        self.call(|mut c| async move { c.apply_resource_change(request).await })
    }

    pub fn read(&self, state: &Value) -> pb::read_resource::Response {
        let request = pb::read_resource::Request {
            type_name: "immutable_fleet".into(),
            current_state: Some(self.dv(state)),
            ..Default::default()
        };
        self.call(|mut c| async move { c.read_resource(request).await })
    }

    /// Plans and applies `config`, asserting no diagnostics, and returns the new state.
    pub fn create(&self, config: &Value) -> Value {
        let plan = self.plan(&Value::Null, config, config);
        assert_no_errors(&plan.diagnostics);
        let planned = self.value(plan.planned_state.as_ref());
        let applied = self.apply(&Value::Null, &planned, config);
        assert_no_errors(&applied.diagnostics);
        self.value(applied.new_state.as_ref())
    }
}

impl Fixture {
    /// Applies a destroy of `state` (Terraform sends a null planned state), asserting no errors.
    pub fn destroy(&self, state: &Value) {
        assert_no_errors(&self.apply(state, &Value::Null, &Value::Null).diagnostics);
    }
}

pub fn assert_no_errors(diagnostics: &[pb::Diagnostic]) {
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect();
    assert!(
        errors.is_empty(),
        "unexpected error diagnostics: {errors:#?}"
    );
}

/// The attribute path of a diagnostic as `a.b`, for assertions.
pub fn diagnostic_path(d: &pb::Diagnostic) -> String {
    use pb::attribute_path::step::Selector;
    d.attribute
        .as_ref()
        .map(|p| {
            p.steps
                .iter()
                .map(|s| match s.selector.as_ref().unwrap() {
                    Selector::AttributeName(n) => n.clone(),
                    Selector::ElementKeyString(k) => format!("[{k:?}]"),
                    Selector::ElementKeyInt(i) => format!("[{i}]"),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

/// Replaces attribute values of an object.
pub fn with(value: &Value, overrides: &[(&str, Value)]) -> Value {
    let mut v = value.clone();
    if let Value::Object(attrs) = &mut v {
        for (k, val) in overrides {
            attrs.insert((*k).to_owned(), val.clone());
        }
    }
    v
}

/// Terraform's ProposedNewState for an update: configuration values, prior values for
/// computed attributes the configuration leaves null.
pub fn proposed(prior: &Value, config: &Value, computed: &[&str]) -> Value {
    let mut v = config.clone();
    if let (Value::Object(attrs), Some(p)) = (&mut v, prior.get("id").map(|_| prior)) {
        for name in computed {
            if attrs.get(*name).is_none_or(Value::is_null) {
                attrs.insert(
                    (*name).to_owned(),
                    p.get(name).cloned().unwrap_or(Value::Null),
                );
            }
        }
        // Nested optional+computed attributes merge the same way.
        if let (Some(Value::Object(cfg)), Some(Value::Object(pr))) =
            (attrs.get("health_check").cloned(), p.get("health_check"))
        {
            let merged: std::collections::BTreeMap<String, Value> = cfg
                .iter()
                .map(|(k, v)| {
                    let v = if v.is_null() {
                        pr.get(k).cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect();
            attrs.insert("health_check".into(), Value::Object(merged));
        }
    }
    v
}

pub const COMPUTED: &[&str] = &[
    "id",
    "generation",
    "autoscaling_group_name",
    "launch_template_id",
    "desired_capacity",
    "leftovers",
];
