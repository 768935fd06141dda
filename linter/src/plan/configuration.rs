//! The `configuration` part of a plan: resource blocks, provisioners and module calls.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::address;

/// The `configuration` subset the rules read: resources (with provisioners) and module calls.
#[derive(Debug, Default, Deserialize)]
pub struct Configuration<'a> {
    #[serde(borrow, default)]
    pub root_module: ConfigModule<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfigModule<'a> {
    #[serde(borrow, default)]
    pub resources: Vec<ConfigResource<'a>>,
    #[serde(borrow, default)]
    pub module_calls: BTreeMap<Cow<'a, str>, ModuleCall<'a>>,
}

/// A resource block of the configuration. `address`, `type` and `name` may each be missing
/// (the others then supply it, see [`Configuration::fill_missing`]).
#[derive(Debug, Deserialize)]
pub struct ConfigResource<'a> {
    /// Address within its module (`aws_instance.web`).
    #[serde(borrow, default)]
    pub address: Cow<'a, str>,
    #[serde(borrow, default)]
    pub mode: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    pub type_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub provisioners: Vec<Provisioner<'a>>,
    /// The block's arguments: `{"constant_value": …}` or `{"references": […]}` per
    /// attribute, nested blocks as lists. Parsed only by the rules that follow references.
    #[serde(borrow, default)]
    pub expressions: Option<&'a RawValue>,
}

impl Configuration<'_> {
    /// Builds each resource's missing `address` from its mode, type and name, and missing
    /// `type`/`name` from its address.
    pub fn fill_missing(&mut self) {
        fn fill(module: &mut ConfigModule<'_>) {
            for r in &mut module.resources {
                let data = r.mode.as_deref() == Some("data");
                if r.address.is_empty() && !r.type_name.is_empty() && !r.name.is_empty() {
                    let prefix = if data { "data." } else { "" };
                    r.address = Cow::Owned(format!("{prefix}{}.{}", r.type_name, r.name));
                } else if (r.type_name.is_empty() || r.name.is_empty())
                    && let Some(parts) = address::split(&r.address)
                {
                    let (t, n) = (parts.type_name.to_owned(), parts.name.to_owned());
                    if r.type_name.is_empty() {
                        r.type_name = Cow::Owned(t);
                    }
                    if r.name.is_empty() {
                        r.name = Cow::Owned(n);
                    }
                }
            }
            for call in module.module_calls.values_mut() {
                fill(&mut call.module);
            }
        }
        fill(&mut self.root_module);
    }
}

#[derive(Debug, Deserialize)]
pub struct Provisioner<'a> {
    #[serde(rename = "type", borrow, default)]
    pub type_name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct ModuleCall<'a> {
    #[serde(borrow, default)]
    pub source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub module: ConfigModule<'a>,
}

impl<'a> ConfigModule<'a> {
    /// Visits every resource with its module path (`module.a.module.b`, empty at the root).
    pub fn walk(&self, prefix: &str, visit: &mut dyn FnMut(&str, &ConfigResource<'a>)) {
        for resource in &self.resources {
            visit(prefix, resource);
        }
        for (name, call) in &self.module_calls {
            let path = if prefix.is_empty() {
                format!("module.{name}")
            } else {
                format!("{prefix}.module.{name}")
            };
            call.module.walk(&path, visit);
        }
    }
}
