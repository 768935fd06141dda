//! Configuration mode (`immutable-lint DIR`): the Terraform configuration itself, read without
//! a plan, a Terraform binary or credentials.
//!
//! [`load`] reads every `*.tf` and `*.tf.json` file of a root module, follows module calls
//! (local sources, and the modules `terraform init` downloaded, through
//! `.terraform/modules/modules.json`) and turns each `resource` block into a
//! [`ConfigResource`]: its arguments as a JSON value shaped like a plan's planned values
//! (nested blocks are lists of objects), so the rules read both modes with the same code. Only
//! what the configuration says literally is known ([`eval`]); everything else is recorded as
//! unknown with the reason, and a rule that would need it does not fire.

mod decl;
pub mod eval;
mod files;
mod hcl;
mod json;
/// [`crate::config_resource`] under its former path.
pub use crate::config_resource as resource;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::Span as _;
use serde_json::Value;

pub use crate::config_resource::{ConfigResource, UnknownValue};
use crate::position::LineIndex;
use crate::source::{
    SourceError, SourceMap, block_location, normalize, parse_error, read_manifest,
};
use decl::{ArgDef, MAX_MODULE_DEPTH, ModuleCall};
use eval::{Eval, LocalDef, Scope, Unknown};
use files::{FileKind, ParsedFile, Syntax, file_kind, list_files, parse_all};
use hcl::{hcl_declarations, hcl_resource};

/// A loaded configuration tree.
#[derive(Debug)]
pub struct Configuration {
    /// Locations and inline ignores, as `--source` builds them for plans.
    pub source: SourceMap,
    pub resources: Vec<ConfigResource>,
    /// Files that could not be read or parsed; the rest was linted.
    pub errors: Vec<SourceError>,
    /// `.tf`/`.tf.json` files read (each once, however often its module is called).
    pub files: usize,
}

/// Reads the configuration rooted at `root`; `var_files` are `--var-file` tfvars, applied
/// after `terraform.tfvars` and `*.auto.tfvars` as Terraform does. Fails only when `root`
/// cannot be listed or holds no Terraform file; a file that does not parse is recorded in
/// [`Configuration::errors`] and the others are still read.
pub fn load(root: &Path, var_files: &[PathBuf]) -> Result<Configuration, SourceError> {
    let mut loader = Loader {
        manifest: read_manifest(root),
        ..Loader::default()
    };
    let root_files = list_files(root)?;
    if !root_files
        .iter()
        .any(|f| matches!(file_kind(f), Some(FileKind::Hcl | FileKind::Json)))
    {
        return Err(SourceError::NoTerraformFiles {
            path: root.to_owned(),
        });
    }
    let inputs = loader.tfvars(&root_files, var_files);
    let mut stack = HashSet::new();
    loader.module(root, "", "", &inputs, &mut stack, 0);
    Ok(Configuration {
        source: loader.source,
        resources: loader.resources,
        errors: loader.errors,
        files: loader.parsed.values().map(|files| files.len()).sum(),
    })
}

#[derive(Default)]
struct Loader {
    source: SourceMap,
    resources: Vec<ConfigResource>,
    errors: Vec<SourceError>,
    manifest: HashMap<String, PathBuf>,
    /// Parsed files by module directory: a module called twice is parsed once.
    parsed: HashMap<PathBuf, Arc<Vec<ParsedFile>>>,
}

impl Loader {
    /// Root variables from `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars`
    /// (and `.json`) in name order, then `var_files`: later files win, as in Terraform.
    fn tfvars(&mut self, root_files: &[PathBuf], var_files: &[PathBuf]) -> HashMap<String, Eval> {
        let name = |p: &PathBuf| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        let named = |wanted: &'static str| move |p: &&PathBuf| name(p).as_deref() == Some(wanted);
        let auto = root_files.iter().filter(|p| {
            name(p).is_some_and(|n| n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json"))
        });
        let order = root_files
            .iter()
            .filter(named("terraform.tfvars"))
            .chain(root_files.iter().filter(named("terraform.tfvars.json")))
            .chain(auto)
            .chain(var_files);
        let mut values = HashMap::new();
        for path in order {
            match read_tfvars(path) {
                Ok(file_values) => {
                    tracing::info!("{}: {} variable values", path.display(), file_values.len());
                    values.extend(file_values);
                }
                Err(e) => self.errors.push(e),
            }
        }
        values
    }

    /// Loads the module in `dir`, called as `prefix` (`module.a.module.b`, empty for the
    /// root) with manifest key `key` (`a.b`) and input variable values `inputs`.
    fn module(
        &mut self,
        dir: &Path,
        prefix: &str,
        key: &str,
        inputs: &HashMap<String, Eval>,
        stack: &mut HashSet<PathBuf>,
        depth: usize,
    ) {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        if depth > MAX_MODULE_DEPTH || !stack.insert(canonical.clone()) {
            tracing::info!("module {prefix} calls itself or is nested too deeply; not followed");
            return;
        }
        let files = self.parse_dir(dir, &canonical);
        // Index for locations and inline ignores, and collect declarations.
        let mut variables: HashMap<String, (Option<ArgDef<'_>>, bool)> = HashMap::new();
        let mut locals: HashMap<String, LocalDef<'_>> = HashMap::new();
        let mut calls: Vec<ModuleCall<'_>> = Vec::new();
        for file in files.iter() {
            match &file.syntax {
                Syntax::Hcl(body) => {
                    self.source
                        .add_hcl_file(&file.path, Arc::clone(&file.text), body, prefix);
                    hcl_declarations(body, &mut variables, &mut locals, &mut calls);
                }
                Syntax::Json(value) => {
                    self.source
                        .add_file_text(&file.path, Arc::clone(&file.text));
                    json::declarations(value, &mut variables, &mut locals, &mut calls);
                }
            }
        }
        let vars = resolve_variables(variables, inputs, prefix);
        let scope = Scope::new(vars, locals);
        for file in files.iter() {
            match &file.syntax {
                Syntax::Hcl(body) => {
                    let lines = LineIndex::new(&file.text);
                    for block in body.blocks().filter(|b| b.ident.as_str() == "resource") {
                        let start = block.span().map_or(0, |s| s.start);
                        let location = block_location(&lines, &file.path, &file.text, start);
                        let resource = hcl_resource(&scope, location, block, prefix);
                        self.push_resource(resource);
                    }
                }
                Syntax::Json(value) => {
                    for (resource, location) in
                        json::resources(&scope, &file.path, &file.text, value, prefix)
                    {
                        if let Some(resource) = &resource {
                            self.source
                                .add_json_resource(resource.address.clone(), location);
                        }
                        self.push_resource(resource);
                    }
                }
            }
        }
        self.follow_calls(calls, &scope, dir, prefix, key, stack, depth);
        stack.remove(&canonical);
    }

    /// Loads the modules called from the module in `dir`, with the arguments evaluated in its
    /// `scope`.
    #[allow(clippy::too_many_arguments)] // the walk's state, passed down one level
    fn follow_calls(
        &mut self,
        calls: Vec<ModuleCall<'_>>,
        scope: &Scope<'_>,
        dir: &Path,
        prefix: &str,
        key: &str,
        stack: &mut HashSet<PathBuf>,
        depth: usize,
    ) {
        for call in calls {
            let child_prefix = if prefix.is_empty() {
                format!("module.{}", call.name)
            } else {
                format!("{prefix}.module.{}", call.name)
            };
            let child_key = if key.is_empty() {
                call.name.clone()
            } else {
                format!("{key}.{}", call.name)
            };
            let Some(source) = call.source else {
                tracing::info!(
                    "{child_prefix}: the module source is not a literal string; not followed"
                );
                continue;
            };
            let local = source.starts_with("./") || source.starts_with("../");
            let child_dir = if local {
                Some(normalize(&dir.join(&source)))
            } else {
                self.manifest.get(&child_key).map(|d| normalize(d))
            };
            let Some(child_dir) = child_dir.filter(|d| d.is_dir()) else {
                tracing::info!(
                    "{child_prefix}: module {source} is not on disk (run `terraform init` to download it); its resources are not checked"
                );
                continue;
            };
            let child_inputs: HashMap<String, Eval> = call
                .args
                .iter()
                .map(|(name, def)| {
                    let value = match def {
                        ArgDef::Hcl(expr) => scope.eval(expr),
                        ArgDef::Json(value) => scope.json(value, 0),
                    };
                    (name.clone(), value)
                })
                .collect();
            self.module(
                &child_dir,
                &child_prefix,
                &child_key,
                &child_inputs,
                stack,
                depth + 1,
            );
        }
    }

    fn push_resource(&mut self, resource: Option<ConfigResource>) {
        if let Some(resource) = resource {
            self.resources.push(resource);
        }
    }

    fn parse_dir(&mut self, dir: &Path, canonical: &Path) -> Arc<Vec<ParsedFile>> {
        if let Some(files) = self.parsed.get(canonical) {
            return Arc::clone(files);
        }
        let listed = match list_files(dir) {
            Ok(files) => files,
            Err(e) => {
                self.errors.push(e);
                Vec::new()
            }
        };
        let mut wanted = Vec::new();
        for path in listed {
            match file_kind(&path) {
                Some(FileKind::Override) => tracing::info!(
                    "{}: override files are not merged in configuration mode; skipped",
                    path.display()
                ),
                Some(kind) => wanted.push((path, kind)),
                None => {}
            }
        }
        let mut files = Vec::new();
        for parsed in parse_all(&wanted) {
            match parsed {
                Ok(file) => files.push(file),
                Err(e) => self.errors.push(e),
            }
        }
        let files = Arc::new(files);
        self.parsed.insert(canonical.to_owned(), Arc::clone(&files));
        files
    }
}

/// Each variable's value in a module: a sensitive one is unknown (so never printed), then
/// the module argument or tfvars value, then the literal default.
fn resolve_variables(
    variables: HashMap<String, (Option<ArgDef<'_>>, bool)>,
    inputs: &HashMap<String, Eval>,
    prefix: &str,
) -> HashMap<String, Eval> {
    let literal = Scope::empty();
    let unset = if prefix.is_empty() {
        " in a tfvars file"
    } else {
        " in the module call"
    };
    variables
        .into_iter()
        .map(|(name, (default, sensitive))| {
            let value = if sensitive {
                Err(Unknown(format!("var.{name} is sensitive")))
            } else if let Some(value) = inputs.get(&name) {
                value.clone()
            } else {
                match default {
                    Some(ArgDef::Hcl(expr)) => literal.eval(expr),
                    Some(ArgDef::Json(value)) => literal.json(value, 0),
                    None => Err(Unknown(format!(
                        "var.{name} has no default and no literal value{unset}"
                    ))),
                }
            };
            (name, value)
        })
        .collect()
}

fn read_tfvars(path: &Path) -> Result<HashMap<String, Eval>, SourceError> {
    let text = std::fs::read_to_string(path).map_err(|source| SourceError::Read {
        path: path.to_owned(),
        source,
    })?;
    let literal = Scope::empty();
    if path.extension().is_some_and(|e| e == "json") {
        let value = json::parse(path, &text)?;
        let Value::Object(map) = value else {
            return Ok(HashMap::new());
        };
        return Ok(map
            .iter()
            .map(|(k, v)| (k.clone(), literal.json(v, 0)))
            .collect());
    }
    let body = hcl_edit::parser::parse_body(&text).map_err(|e| parse_error(path, &text, &e))?;
    Ok(body
        .attributes()
        .map(|a| (a.key.as_str().to_owned(), literal.eval(&a.value)))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    #[test]
    fn values_modules_and_unknowns() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "main.tf",
                    r#"
variable "port" { default = 22 }
variable "cidr" {}
locals { world = "0.0.0.0/0" }
resource "aws_security_group_rule" "ssh" {
  count       = 2
  from_port   = var.port
  to_port     = var.port
  cidr_blocks = [local.world]
  description = "from ${var.cidr}"
  tags        = { Name = "x", Owner = var.cidr }
  dynamic "thing" {
    for_each = []
    content {}
  }
}
resource "aws_instance" "off" { count = 0 }
module "app" {
  source = "./modules/app"
  image  = "nginx"
}
"#,
                ),
                (
                    "modules/app/main.tf",
                    "variable \"image\" {}\nresource \"docker_container\" \"c\" {\n  image = var.image\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n",
                ),
                ("prod.tfvars", "cidr = \"10.0.0.0/8\"\n"),
            ],
        );
        let config = load(dir.path(), &[]).unwrap();
        assert!(config.errors.is_empty());
        assert_eq!(config.resources.len(), 2);
        let rule = &config.resources[0];
        assert_eq!(rule.address, "aws_security_group_rule.ssh");
        assert_eq!(rule.repeated_by, Some("count"));
        assert_eq!(rule.value["from_port"], json!(22));
        assert_eq!(rule.value["cidr_blocks"], json!(["0.0.0.0/0"]));
        assert_eq!(rule.value["tags"], json!({"Name": "x"}));
        assert!(rule.unknown_at("description").is_some());
        assert!(rule.unknown_at("tags.Owner").is_some());
        assert!(rule.unknown_at("thing").is_some());
        assert_eq!((rule.location.line, rule.location.column), (5, 1));
        let container = &config.resources[1];
        assert_eq!(container.address, "module.app.docker_container.c");
        assert_eq!(container.value["image"], json!("nginx"));
        assert_eq!(container.create_before_destroy, Ok(true));

        let with_vars = load(dir.path(), &[dir.path().join("prod.tfvars")]).unwrap();
        assert_eq!(
            with_vars.resources[0].value["description"],
            json!("from 10.0.0.0/8")
        );
    }

    #[test]
    fn a_broken_file_does_not_hide_the_others() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("a.tf", "resource \"aws_instance\" \"a\" {\n"),
                ("b.tf", "resource \"aws_instance\" \"b\" {}\n"),
            ],
        );
        let config = load(dir.path(), &[]).unwrap();
        assert_eq!(config.errors.len(), 1);
        assert_eq!(config.resources.len(), 1);
        assert!(matches!(
            load(&dir.path().join("nope"), &[]),
            Err(SourceError::Read { .. })
        ));
    }

    #[test]
    fn tfvars_files_apply_in_terraforms_order() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "main.tf",
                    "variable \"x\" {}\nresource \"docker_container\" \"c\" {\n  image = var.x\n}\n",
                ),
                ("terraform.tfvars", "x = \"from-terraform-tfvars\"\n"),
                ("a.auto.tfvars", "x = \"from-auto\"\n"),
                ("extra.tfvars", "x = \"from-var-file\"\n"),
            ],
        );
        let image = |var_files: &[PathBuf]| {
            load(dir.path(), var_files).unwrap().resources[0].value["image"].clone()
        };
        assert_eq!(image(&[]), json!("from-auto"));
        assert_eq!(
            image(&[dir.path().join("extra.tfvars")]),
            json!("from-var-file")
        );
    }
}
