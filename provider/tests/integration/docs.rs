//! The committed registry docs (`docs/index.md`, `docs/resources/*.md`) are what the schema,
//! `templates/` and `examples/` render to now; a schema change without `scripts/gen-docs.sh`
//! fails here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use terraform_provider_immutable::docs::{self, Page};
use terraform_provider_immutable::framework::{
    Context, Diagnostics, Provider, ProviderData, Resource, Schema,
};
use terraform_provider_immutable::provider::ImmutableProvider;
use tfplugin_cty::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("provider/ has a parent")
        .to_path_buf()
}

#[test]
fn committed_docs_match_the_schema() {
    let root = repo_root();
    let pages = docs::pages(&ImmutableProvider::default(), &root).unwrap();
    let paths: Vec<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["docs/index.md", "docs/resources/fleet.md"]);
    let stale = docs::stale(&root, &pages);
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// The provider with one attribute description of `immutable_fleet` changed.
struct Edited {
    inner: ImmutableProvider,
}

struct EditedFleet {
    inner: Arc<dyn Resource>,
}

#[async_trait::async_trait]
impl Resource for EditedFleet {
    fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }
    fn schema(&self) -> Schema {
        let mut schema = self.inner.schema();
        for a in &mut schema.block.attributes {
            if a.name == "image_id" {
                a.description.push_str(" Edited.");
            }
        }
        schema
    }
    async fn create(&self, _: &Context, _: &Value, _: &mut Diagnostics) -> Value {
        Value::Null
    }
    async fn read(&self, _: &Context, _: &Value, _: &mut Diagnostics) -> Value {
        Value::Null
    }
    async fn update(&self, _: &Context, _: &Value, _: &Value, _: &mut Diagnostics) -> Value {
        Value::Null
    }
    async fn delete(&self, _: &Context, _: &Value, _: &mut Diagnostics) {}
}

#[async_trait::async_trait]
impl Provider for Edited {
    fn schema(&self) -> Schema {
        self.inner.schema()
    }
    async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<ProviderData> {
        None
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        self.inner
            .resources()
            .into_iter()
            .map(|inner| Arc::new(EditedFleet { inner }) as Arc<dyn Resource>)
            .collect()
    }
}

#[test]
fn an_edited_description_makes_the_resource_page_stale() {
    let root = repo_root();
    let edited = Edited {
        inner: ImmutableProvider::default(),
    };
    let pages: Vec<Page> = docs::pages(&edited, &root).unwrap();
    let fleet = pages
        .iter()
        .find(|p| p.path == "docs/resources/fleet.md")
        .unwrap();
    assert!(
        fleet.content.contains("hex digits. Edited."),
        "the edit is rendered"
    );
    assert_eq!(
        docs::stale(&root, &pages),
        ["docs/resources/fleet.md is stale: run scripts/gen-docs.sh"]
    );
}
