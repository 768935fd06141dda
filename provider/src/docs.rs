//! Registry documentation generated from the schema.
//!
//! The pages follow the layout the public registries read (`docs/index.md`,
//! `docs/resources/<name>.md`): YAML front matter, a title, hand-written prose from a template
//! under `templates/`, and a `## Schema` section rendered from the same descriptions that
//! Terraform gets through GetProviderSchema, so the two never disagree. `scripts/gen-docs.sh`
//! writes the pages; a test fails when the committed ones are stale.
//!
//! Templates are Markdown with a handful of placeholders (see `templates/README.md`):
//! `{{ .Name }}`, `{{ .Description }}`, `{{ .FrontMatterDescription }}`,
//! `{{ .SchemaMarkdown }}`, `{{ tffile "path" }}` and `{{ codefile "lang" "path" }}`, where
//! paths are relative to the repository root.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use tfplugin_cty::{Type, Value};

use crate::framework::{Attribute, Block, NestedBlock, Nesting, PlanModifier, Provider, Schema};

/// The command that regenerates the pages, named in every staleness message.
pub const REGENERATE: &str = "scripts/gen-docs.sh";

/// The provider's local name: resource type names start with `immutable_`.
const PROVIDER_NAME: &str = "immutable";

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("{path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{template}: {message}")]
    Template { template: String, message: String },
}

/// One generated file, `path` relative to the repository root (`docs/index.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub content: String,
}

/// What a template may refer to besides files.
#[derive(Debug, Clone)]
pub struct PageVars<'a> {
    /// `immutable` for the provider page, the resource type name otherwise.
    pub name: &'a str,
    pub description: &'a str,
    pub schema: &'a Block,
    pub notes: ChangeNotes,
}

/// Whether attribute lines end with what a change does (resources) or not (the provider's
/// configuration, which is not planned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeNotes {
    Resource,
    None,
}

/// Every page of `provider`, rendered from its schemas and the templates and examples under
/// `root` (the repository root).
pub fn pages(provider: &dyn Provider, root: &Path) -> Result<Vec<Page>, DocsError> {
    let mut pages = Vec::new();
    let schema = provider.schema();
    pages.push(page(
        root,
        "templates/index.md.tmpl",
        "docs/index.md",
        &PageVars {
            name: PROVIDER_NAME,
            description: &schema.block.description,
            schema: &schema.block,
            notes: ChangeNotes::None,
        },
    )?);
    for resource in provider.resources() {
        let type_name = resource.type_name();
        let short = type_name
            .strip_prefix(&format!("{PROVIDER_NAME}_"))
            .unwrap_or(type_name);
        let Schema { block, .. } = resource.schema();
        pages.push(page(
            root,
            &format!("templates/resources/{short}.md.tmpl"),
            &format!("docs/resources/{short}.md"),
            &PageVars {
                name: type_name,
                description: &block.description,
                schema: &block,
                notes: ChangeNotes::Resource,
            },
        )?);
    }
    Ok(pages)
}

fn page(root: &Path, template: &str, output: &str, vars: &PageVars<'_>) -> Result<Page, DocsError> {
    let text = read(root, template)?;
    let content = render_template(&text, template, vars, root)?;
    Ok(Page {
        path: output.to_owned(),
        content,
    })
}

fn read(root: &Path, relative: &str) -> Result<String, DocsError> {
    std::fs::read_to_string(root.join(relative)).map_err(|source| DocsError::Read {
        path: relative.to_owned(),
        source,
    })
}

/// Renders one template. `template_name` only labels errors and the generated-file notice.
pub fn render_template(
    template: &str,
    template_name: &str,
    vars: &PageVars<'_>,
    root: &Path,
) -> Result<String, DocsError> {
    let error = |message: String| DocsError::Template {
        template: template_name.to_owned(),
        message,
    };
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(error("unterminated `{{`".to_owned()));
        };
        let directive = after[..end].trim();
        out.push_str(&expand(directive, vars, root, template_name).map_err(error)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn expand(
    directive: &str,
    vars: &PageVars<'_>,
    root: &Path,
    template_name: &str,
) -> Result<String, String> {
    let words = split_words(directive)?;
    let file = |path: &str| {
        std::fs::read_to_string(root.join(path))
            .map(|s| s.trim_end().to_owned())
            .map_err(|e| format!("{path}: {e}"))
    };
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [".Name"] => Ok(vars.name.to_owned()),
        [".Description"] => Ok(vars.description.trim().to_owned()),
        [".FrontMatterDescription"] => Ok(indent(&plain(vars.description.trim()), "  ")),
        [".SchemaMarkdown"] => Ok(schema_markdown(vars.schema, vars.notes)),
        [".GeneratedNotice"] => Ok(format!(
            "<!-- Generated by {REGENERATE} from {template_name} and the provider schema; \
             do not edit. -->"
        )),
        ["tffile", path] => Ok(format!("```terraform\n{}\n```", file(path)?)),
        ["codefile", lang, path] => Ok(format!("```{lang}\n{}\n```", file(path)?)),
        _ => Err(format!("unknown placeholder `{{{{ {directive} }}}}`")),
    }
}

/// Splits a directive into words; `"quoted strings"` are one word without their quotes.
fn split_words(directive: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = directive.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => word.push(c),
                    None => return Err(format!("unterminated string in `{directive}`")),
                }
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            words.push(word);
        }
    }
    Ok(words)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{prefix}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markdown reduced to what reads well as plain text (front matter): no backticks.
fn plain(markdown: &str) -> String {
    markdown.replace('`', "")
}

/// The `## Schema` section of a block, tfplugindocs style: Required / Optional / Read-Only
/// lists, then one anchored section per nested block.
pub fn schema_markdown(block: &Block, notes: ChangeNotes) -> String {
    let mut out = String::from("## Schema\n");
    let mut nested = Vec::new();
    write_block_lists(&mut out, block, "", "###", notes, &mut nested);
    while let Some((anchor, title, nested_block)) = nested.pop() {
        let _ = write!(
            out,
            "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{title}`\n"
        );
        if !nested_block.block.description.is_empty() {
            let _ = write!(out, "\n{}\n", nested_block.block.description.trim());
        }
        let mut inner = Vec::new();
        write_block_lists(
            &mut out,
            &nested_block.block,
            &format!("{title}."),
            "",
            notes,
            &mut inner,
        );
        // Depth-first, in declaration order.
        nested.extend(inner.into_iter().rev());
    }
    out
}

type NestedEntry<'a> = (String, String, &'a NestedBlock);

/// A heading and which attributes and blocks are listed under it.
type ListGroup = (
    &'static str,
    fn(&Attribute) -> bool,
    fn(&NestedBlock) -> bool,
);

fn write_block_lists<'a>(
    out: &mut String,
    block: &'a Block,
    prefix: &str,
    heading: &str,
    notes: ChangeNotes,
    nested: &mut Vec<NestedEntry<'a>>,
) {
    let groups: [ListGroup; 3] = [
        ("Required", |a| a.required, |b| b.min_items > 0),
        ("Optional", |a| a.optional, |b| b.min_items == 0),
        ("Read-Only", |a| a.computed && !a.optional, |_| false),
    ];
    let mut found = Vec::new();
    for (title, attr_in, block_in) in groups {
        let mut items: Vec<(String, String)> = block
            .attributes
            .iter()
            .filter(|a| attr_in(a))
            .map(|a| (a.name.clone(), attribute_line(a, notes)))
            .collect();
        for b in block.blocks.iter().filter(|b| block_in(b)) {
            let anchor = format!("nestedblock--{}{}", prefix.replace('.', "--"), b.name);
            let title_path = format!("{prefix}{}", b.name);
            items.push((b.name.clone(), block_line(b, title, &anchor)));
            found.push((anchor, title_path, b));
        }
        if items.is_empty() {
            continue;
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        if heading.is_empty() {
            let _ = write!(out, "\n{title}:\n\n");
        } else {
            let _ = write!(out, "\n{heading} {title}\n\n");
        }
        for (_, line) in items {
            out.push_str(&line);
            out.push('\n');
        }
    }
    nested.extend(found.into_iter().rev());
}

fn attribute_line(a: &Attribute, notes: ChangeNotes) -> String {
    let mut kind = type_name(&a.ty);
    if a.sensitive {
        kind.push_str(", Sensitive");
    }
    let mut text = a.description.trim().to_owned();
    if let Some(default) = &a.default {
        let _ = write!(text, " Default: `{}`.", literal(default));
    }
    if notes == ChangeNotes::None {
        // Provider configuration: nothing is planned.
    } else if a.has_modifier(PlanModifier::RequiresReplace) {
        text.push_str(
            " Changing it replaces the fleet: a new generation rolls out through the health gate.",
        );
    } else if a.optional || a.required {
        text.push_str(" Changes in place.");
    }
    format!("- `{}` ({kind}) {}", a.name, text.trim())
}

fn block_line(b: &NestedBlock, group: &str, anchor: &str) -> String {
    let kind = match b.nesting {
        Nesting::Single | Nesting::Group => "Block".to_owned(),
        Nesting::List => "Block List".to_owned(),
        Nesting::Set => "Block Set".to_owned(),
        Nesting::Map => "Block Map".to_owned(),
    };
    let mut limits = String::new();
    if b.max_items > 0 {
        let _ = write!(limits, ", Max: {}", b.max_items);
    }
    if b.min_items > 0 {
        let _ = write!(limits, ", Min: {}", b.min_items);
    }
    let first_sentence = b
        .block
        .description
        .split_inclusive(". ")
        .next()
        .unwrap_or_default()
        .trim();
    format!(
        "- `{}` ({kind}, {group}{limits}) {first_sentence} (see [below for nested schema](#{anchor}))",
        b.name
    )
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::Bool => "Boolean".to_owned(),
        Type::List(inner) => format!("List of {}", type_name(inner)),
        Type::Set(inner) => format!("Set of {}", type_name(inner)),
        Type::Map(inner) => format!("Map of {}", type_name(inner)),
        Type::Object(_) => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Messages for every page whose committed file under `root` differs from `pages`.
pub fn stale(root: &Path, pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .filter(|p| std::fs::read_to_string(root.join(&p.path)).ok().as_deref() != Some(&p.content))
        .map(|p| format!("{} is stale: run {REGENERATE}", p.path))
        .collect()
}

/// Writes every page under `root`, creating directories as needed.
pub fn write(root: &Path, pages: &[Page]) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for p in pages {
        let path = root.join(&p.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &p.content)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::framework::Attribute;

    fn sample() -> Block {
        Block::new("Top.")
            .attribute(
                Attribute::string("b_required")
                    .required()
                    .requires_replace()
                    .describe("Req."),
            )
            .attribute(
                Attribute::string("a_opt")
                    .default(Value::string("x"))
                    .describe("Opt."),
            )
            .attribute(Attribute::number("id").computed().describe("Id."))
            .attribute(
                Attribute::string("secret")
                    .optional()
                    .sensitive()
                    .describe("Secret."),
            )
            .block(NestedBlock::single(
                "inner",
                Block::new("Inner block. More text.")
                    .attribute(Attribute::bool("flag").optional().describe("Flag.")),
            ))
    }

    #[test]
    fn schema_lists_attributes_by_kind_with_annotations() {
        let md = schema_markdown(&sample(), ChangeNotes::Resource);
        let plain = schema_markdown(&sample(), ChangeNotes::None);
        assert!(
            plain.contains("- `a_opt` (String) Opt. Default: `\"x\"`.\n"),
            "{plain}"
        );
        let required = md.find("### Required").unwrap_or(usize::MAX);
        let optional = md.find("### Optional").unwrap_or(usize::MAX);
        let read_only = md.find("### Read-Only").unwrap_or(usize::MAX);
        assert!(required < optional && optional < read_only, "{md}");
        assert!(md.contains(
            "- `b_required` (String) Req. Changing it replaces the fleet: a new generation rolls out through the health gate."
        ), "{md}");
        assert!(
            md.contains("- `a_opt` (String) Opt. Default: `\"x\"`. Changes in place."),
            "{md}"
        );
        assert!(
            md.contains("- `secret` (String, Sensitive) Secret."),
            "{md}"
        );
        assert!(md.contains("- `id` (Number) Id.\n"), "{md}");
        assert!(md.contains(
            "- `inner` (Block, Optional) Inner block. (see [below for nested schema](#nestedblock--inner))"
        ), "{md}");
        assert!(
            md.contains("<a id=\"nestedblock--inner\"></a>\n### Nested Schema for `inner`"),
            "{md}"
        );
        assert!(
            md.contains("Optional:\n\n- `flag` (Boolean) Flag. Changes in place."),
            "{md}"
        );
        // Alphabetical within a group.
        assert!(md.find("`a_opt`") < md.find("`inner`"), "{md}");
    }

    #[test]
    fn templates_expand_placeholders_and_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::write(dir.path().join("x.tf"), "resource \"a\" \"b\" {}\n")
            .unwrap_or_else(|e| panic!("write: {e}"));
        let block = sample();
        let vars = PageVars {
            name: "immutable_thing",
            description: "Does `things`.\nTwo lines.",
            schema: &block,
            notes: ChangeNotes::Resource,
        };
        let out = render_template(
            "---\ndescription: |-\n{{ .FrontMatterDescription }}\n---\n# {{ .Name }}\n{{ tffile \"x.tf\" }}\n{{codefile \"shell\" \"x.tf\"}}",
            "t.md.tmpl",
            &vars,
            dir.path(),
        )
        .unwrap_or_else(|e| panic!("render: {e}"));
        assert_eq!(
            out,
            "---\ndescription: |-\n  Does things.\n  Two lines.\n---\n# immutable_thing\n```terraform\nresource \"a\" \"b\" {}\n```\n```shell\nresource \"a\" \"b\" {}\n```"
        );
    }

    #[test]
    fn template_errors_name_the_problem() {
        let block = sample();
        let vars = PageVars {
            name: "n",
            description: "",
            schema: &block,
            notes: ChangeNotes::Resource,
        };
        let root = Path::new("/nonexistent-docs-root");
        let unknown = render_template("{{ .Nope }}", "t", &vars, root);
        assert!(
            matches!(&unknown, Err(e) if e.to_string().contains("unknown placeholder `{{ .Nope }}`")),
            "{unknown:?}"
        );
        let open = render_template("a {{ .Name", "t", &vars, root);
        assert!(
            matches!(&open, Err(e) if e.to_string().contains("unterminated")),
            "{open:?}"
        );
        let missing = render_template("{{ tffile \"nope.tf\" }}", "t", &vars, root);
        assert!(
            matches!(&missing, Err(e) if e.to_string().contains("nope.tf")),
            "{missing:?}"
        );
    }
}
