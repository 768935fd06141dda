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

pub mod eval;
mod json;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use serde_json::{Map, Value};

use crate::finding::SourceLocation;
use crate::rules::RuleInfo;
use crate::source::{Lines, SourceError, SourceMap, normalize, parse_error, read_manifest};
use eval::{Eval, LocalDef, Scope, Unknown};

const MAX_MODULE_DEPTH: usize = 32;

/// Arguments of a resource block that are Terraform's, not the provider's.
const RESOURCE_META: &[&str] = &["count", "for_each", "depends_on", "provider"];
/// Arguments of a module block that are not input variables.
const MODULE_META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// An argument the configuration sets to something configuration mode cannot evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// `ingress[0].cidr_blocks`, `tags.Name`, or a block name for a `dynamic` block.
    pub path: String,
    pub reason: String,
}

/// A `resource` block as configuration mode sees it.
#[derive(Debug, Clone)]
pub struct ConfigResource {
    /// Configuration address, module calls included (`module.app.aws_instance.web`), without
    /// count/for_each keys: a repeated resource is one block, reported once.
    pub address: String,
    pub type_name: String,
    pub location: SourceLocation,
    /// The known arguments, nested blocks as lists of objects (as in a plan's values).
    pub value: Value,
    /// Arguments that are set but not known.
    pub unknown: Vec<UnknownValue>,
    /// `lifecycle { create_before_destroy }`: `Ok(false)` when not set.
    pub create_before_destroy: Result<bool, Unknown>,
    /// Provisioner types, in order.
    pub provisioners: Vec<String>,
    /// `count` or `for_each`, when the block has one.
    pub repeated_by: Option<&'static str>,
}

impl ConfigResource {
    /// Why the argument at `path`, or a block or object around it, is unknown (indexes in
    /// `path` and in the recorded paths are ignored, so `ingress.cidr_blocks` asks about every
    /// ingress block, and a `dynamic "health_check"` makes `health_check.x` unknown).
    pub fn unknown_at(&self, path: &str) -> Option<&UnknownValue> {
        let wanted = strip_indexes(path);
        self.unknown.iter().find(|u| {
            let recorded = strip_indexes(&u.path);
            wanted == recorded
                || wanted
                    .strip_prefix(recorded.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// Says on `--verbose` that `rule` did not check this block because `path` is unknown.
    pub fn log_skip(&self, rule: &RuleInfo, path: &str, why: &str) {
        tracing::info!(
            "{}: {} not checked: {path} is not known without a plan ({why})",
            self.address,
            rule.code
        );
    }

    /// [`Self::log_skip`] when `path` is unknown; whether it is.
    pub fn skips_on(&self, rule: &RuleInfo, path: &str) -> bool {
        match self.unknown_at(path) {
            Some(u) => {
                self.log_skip(rule, &u.path, &u.reason);
                true
            }
            None => false,
        }
    }

    /// Whether the argument at a top-level `name` is set, to a known non-null value or to an
    /// unknown one. `None`: set to something unknown (it may be null).
    pub fn is_set(&self, name: &str) -> Option<bool> {
        match self.value.get(name) {
            Some(Value::Null) | None if self.unknown_at(name).is_some() => None,
            Some(Value::Null) | None => Some(false),
            Some(_) => Some(true),
        }
    }
}

/// `a[0].b[12]` → `a.b`.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Hcl,
    Json,
    /// `override.tf`, `*_override.tf`: merged into other blocks by Terraform, which this
    /// reader does not do.
    Override,
}

fn file_kind(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let (stem, kind) = if let Some(stem) = name.strip_suffix(".tf.json") {
        (stem, FileKind::Json)
    } else if let Some(stem) = name.strip_suffix(".tf") {
        (stem, FileKind::Hcl)
    } else {
        return None;
    };
    if stem == "override" || stem.ends_with("_override") {
        Some(FileKind::Override)
    } else {
        Some(kind)
    }
}

fn list_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// One parsed file.
#[derive(Debug)]
struct ParsedFile {
    path: PathBuf,
    text: Arc<String>,
    syntax: Syntax,
}

#[derive(Debug)]
enum Syntax {
    Hcl(Body),
    Json(Value),
}

fn parse_file(path: &Path, kind: FileKind) -> Result<ParsedFile, SourceError> {
    let bytes = std::fs::read(path).map_err(|source| SourceError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| SourceError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })?;
    let syntax = match kind {
        FileKind::Json => Syntax::Json(json::parse(path, &text)?),
        _ => Syntax::Hcl(
            hcl_edit::parser::parse_body(&text).map_err(|e| parse_error(path, &text, &e))?,
        ),
    };
    Ok(ParsedFile {
        path: path.to_owned(),
        text: Arc::new(text),
        syntax,
    })
}

/// Parses `paths` on every core: parsing is nearly all of configuration mode's time.
fn parse_all(paths: &[(PathBuf, FileKind)]) -> Vec<Result<ParsedFile, SourceError>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if cores < 2 || paths.len() < 4 {
        return paths.iter().map(|(p, k)| parse_file(p, *k)).collect();
    }
    let chunk = paths.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(p, k)| parse_file(p, *k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(parsed) => parsed,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
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

/// A module call found in a file.
struct ModuleCall<'a> {
    name: String,
    source: Option<String>,
    args: Vec<(String, ArgDef<'a>)>,
}

#[derive(Clone, Copy)]
enum ArgDef<'a> {
    Hcl(&'a Expression),
    Json(&'a Value),
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
                    let lines = Lines::new(&file.text);
                    for block in body.blocks().filter(|b| b.ident.as_str() == "resource") {
                        let start = block.span().map_or(0, |s| s.start);
                        let location = lines.location(&file.path, &file.text, start);
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

fn hcl_declarations<'a>(
    body: &'a Body,
    variables: &mut HashMap<String, (Option<ArgDef<'a>>, bool)>,
    locals: &mut HashMap<String, LocalDef<'a>>,
    calls: &mut Vec<ModuleCall<'a>>,
) {
    for block in body.blocks() {
        let labels: Vec<&str> = block
            .labels
            .iter()
            .map(hcl_edit::structure::BlockLabel::as_str)
            .collect();
        match (block.ident.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                let default = block
                    .body
                    .get_attribute("default")
                    .map(|a| ArgDef::Hcl(&a.value));
                let sensitive = block
                    .body
                    .get_attribute("sensitive")
                    .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if *b.value()));
                variables.insert((*name).to_owned(), (default, sensitive));
            }
            ("locals", []) => {
                for a in block.body.attributes() {
                    locals.insert(a.key.as_str().to_owned(), LocalDef::Hcl(&a.value));
                }
            }
            ("module", [name]) => calls.push(ModuleCall {
                name: (*name).to_owned(),
                source: block
                    .body
                    .get_attribute("source")
                    .and_then(|a| a.value.as_str())
                    .map(str::to_owned),
                args: block
                    .body
                    .attributes()
                    .filter(|a| !MODULE_META.contains(&a.key.as_str()))
                    .map(|a| (a.key.as_str().to_owned(), ArgDef::Hcl(&a.value)))
                    .collect(),
            }),
            _ => {}
        }
    }
}

/// The address of `type.name` in the module at `prefix`.
fn address(prefix: &str, type_name: &str, name: &str) -> String {
    if prefix.is_empty() {
        format!("{type_name}.{name}")
    } else {
        format!("{prefix}.{type_name}.{name}")
    }
}

/// Whether `count`/`for_each` evaluates to no instance at all (`count = 0`, an empty map).
fn no_instances(repeat: &Eval) -> bool {
    matches!(
        repeat,
        Ok(Value::Number(n)) if n.as_f64() == Some(0.0)
    ) || matches!(repeat, Ok(Value::Array(a)) if a.is_empty())
        || matches!(repeat, Ok(Value::Object(o)) if o.is_empty())
}

fn hcl_resource(
    scope: &Scope<'_>,
    location: SourceLocation,
    block: &Block,
    prefix: &str,
) -> Option<ConfigResource> {
    let [type_name, name] = block.labels.as_slice() else {
        return None;
    };
    let (type_name, name) = (type_name.as_str(), name.as_str());
    let address = address(prefix, type_name, name);
    let mut repeated_by = None;
    for meta in ["count", "for_each"] {
        if let Some(attr) = block.body.get_attribute(meta) {
            repeated_by = Some(if meta == "count" { "count" } else { "for_each" });
            if no_instances(&scope.eval(&attr.value)) {
                tracing::info!("{address}: {meta} makes no instance; not checked");
                return None;
            }
        }
    }
    let mut value = Map::new();
    let mut unknown = Vec::new();
    hcl_body(scope, &block.body, "", &mut value, &mut unknown, 0);
    let mut create_before_destroy = Ok(false);
    let mut provisioners = Vec::new();
    for inner in block.body.blocks() {
        match inner.ident.as_str() {
            "lifecycle" => {
                if let Some(attr) = inner.body.get_attribute("create_before_destroy") {
                    create_before_destroy = match scope.eval(&attr.value) {
                        Ok(Value::Bool(b)) => Ok(b),
                        Ok(_) => Err(Unknown("create_before_destroy is not a boolean".to_owned())),
                        Err(e) => Err(e),
                    };
                }
            }
            "provisioner" => {
                if let Some(kind) = inner.labels.first() {
                    provisioners.push(kind.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    Some(ConfigResource {
        location,
        address,
        type_name: type_name.to_owned(),
        value: Value::Object(value),
        unknown,
        create_before_destroy,
        provisioners,
        repeated_by,
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The arguments and nested blocks of `body` into `out`, unknowns into `unknown`.
fn hcl_body(
    scope: &Scope<'_>,
    body: &Body,
    path: &str,
    out: &mut Map<String, Value>,
    unknown: &mut Vec<UnknownValue>,
    depth: usize,
) {
    if depth > MAX_MODULE_DEPTH {
        unknown.push(UnknownValue {
            path: path.to_owned(),
            reason: "blocks nested too deeply".to_owned(),
        });
        return;
    }
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str();
                if depth == 0 && RESOURCE_META.contains(&key) {
                    continue;
                }
                argument(scope, &attr.value, &join(path, key), key, out, unknown);
            }
            Structure::Block(block) => {
                let ident = block.ident.as_str();
                if depth == 0 && matches!(ident, "lifecycle" | "provisioner" | "connection") {
                    continue;
                }
                if ident == "dynamic" {
                    let name = block.labels.first().map_or("", |l| l.as_str());
                    unknown.push(UnknownValue {
                        path: join(path, name),
                        reason: "a dynamic block".to_owned(),
                    });
                    continue;
                }
                let list = out
                    .entry(ident.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else {
                    continue;
                };
                let index = list.len();
                let mut inner = Map::new();
                hcl_body(
                    scope,
                    &block.body,
                    &format!("{}[{index}]", join(path, ident)),
                    &mut inner,
                    unknown,
                    depth + 1,
                );
                if let Some(Value::Array(list)) = out.get_mut(ident) {
                    list.push(Value::Object(inner));
                }
            }
        }
    }
}

/// One argument: a literal object is read member by member, so that `tags = { Name =
/// var.x }` leaves the other members known; any other expression is known or not as a whole.
fn argument(
    scope: &Scope<'_>,
    expr: &Expression,
    path: &str,
    key: &str,
    out: &mut Map<String, Value>,
    unknown: &mut Vec<UnknownValue>,
) {
    if let Expression::Object(object) = expr {
        let mut map = Map::new();
        for (k, v) in object {
            let member = match k {
                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_owned(),
                hcl_edit::expr::ObjectKey::Expression(e) => match scope.eval(e) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_string(),
                    Err(Unknown(reason)) => {
                        unknown.push(UnknownValue {
                            path: format!("{path}.*"),
                            reason,
                        });
                        continue;
                    }
                },
            };
            match scope.eval(v.expr()) {
                Ok(value) => {
                    map.insert(member, value);
                }
                Err(Unknown(reason)) => unknown.push(UnknownValue {
                    path: join(path, &member),
                    reason,
                }),
            }
        }
        out.insert(key.to_owned(), Value::Object(map));
        return;
    }
    match scope.eval(expr) {
        Ok(value) => {
            out.insert(key.to_owned(), value);
        }
        Err(Unknown(reason)) => unknown.push(UnknownValue {
            path: path.to_owned(),
            reason,
        }),
    }
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

    #[test]
    fn indexes_are_ignored_in_unknown_paths() {
        assert_eq!(
            strip_indexes("ingress[0].cidr_blocks[12]"),
            "ingress.cidr_blocks"
        );
    }
}
