//! The plans of `gen-plan`: a large, realistic `terraform show -json` plan (format 1.2, one
//! line, as Terraform writes it) for benchmarking `immutable-lint`. This file writes the
//! sections of the plan and sizes the padding; `resource` decides which resources there are,
//! `resource_json` how each is written.
//!
//! Resources are spread over the root module and nested module instances (`for_each` and
//! `count` keys), with a fixed mix of actions (mostly no-op, then update, create, both kinds of
//! replace, delete, data reads), instance-bearing and other AWS types, long tag maps, IAM
//! policies as escaped JSON strings, and drift entries. Every section Terraform writes is
//! there: `planned_values`, `resource_drift`, `resource_changes`, `output_changes`,
//! `prior_state`, `configuration`, `relevant_attributes`.
//!
//! The output is a pure function of the seed and sizes. It is streamed: each resource is
//! derived from `(seed, index)` alone, so a section is written by walking the indexes again,
//! and memory stays flat whatever the size. A target size pads the tag maps so the file comes
//! out near it (estimated from a sample, then written once).

mod resource;
mod resource_json;

use std::fmt::Write as _;
use std::io::Write;

use resource::{BLOCKS, GROUP, Resource, module_address};
use resource_json::{Side, esc};

/// Writes one plan.
struct PlanWriter {
    seed: u64,
    resources: usize,
    /// Extra tags per tag map, to reach `--target-bytes`.
    padding: usize,
}

impl PlanWriter {
    fn groups(&self) -> usize {
        self.resources.div_ceil(GROUP)
    }

    fn group_range(&self, group: usize) -> std::ops::Range<usize> {
        group * GROUP..((group + 1) * GROUP).min(self.resources)
    }

    /// `"root_module":{…}`: the resources of the module instances in `planned_values` or `prior_state`, nested as
    /// Terraform nests them. `side` picks the values; `keep` the resources that exist there.
    fn module_tree(
        &self,
        w: &mut dyn Write,
        side: Side,
        keep: &dyn Fn(&Resource) -> bool,
    ) -> std::io::Result<()> {
        let mut buf = String::new();
        let write_resources =
            |w: &mut dyn Write, groups: &mut dyn Iterator<Item = usize>, buf: &mut String| {
                let mut first = true;
                for g in groups {
                    for i in self.group_range(g) {
                        let r = Resource::new(self.seed, i);
                        if !keep(&r) {
                            continue;
                        }
                        buf.clear();
                        if !first {
                            buf.push(',');
                        }
                        first = false;
                        let side = if side == Side::Before && r.drift {
                            Side::Drifted
                        } else {
                            side
                        };
                        self.state_resource(&r, side, buf);
                        w.write_all(buf.as_bytes())?;
                    }
                }
                std::io::Result::Ok(())
            };
        w.write_all(br#""root_module":{"resources":["#)?;
        write_resources(
            w,
            &mut (0..self.groups()).filter(|g| g.is_multiple_of(4)),
            &mut buf,
        )?;
        w.write_all(br#"],"child_modules":["#)?;
        let mut first = true;
        for g in (0..self.groups()).filter(|g| g % 4 == 1 || g % 4 == 3) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            let address = module_address(g).unwrap_or_default();
            write!(w, r#"{{"address":"{}","resources":["#, esc(&address))?;
            write_resources(w, &mut std::iter::once(g), &mut buf)?;
            w.write_all(b"]")?;
            if g % 4 == 1 && g + 1 < self.groups() {
                let child = module_address(g + 1).unwrap_or_default();
                write!(
                    w,
                    r#","child_modules":[{{"address":"{}","resources":["#,
                    esc(&child)
                )?;
                write_resources(w, &mut std::iter::once(g + 1), &mut buf)?;
                w.write_all(b"]}]")?;
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")?;
        Ok(())
    }

    fn changes(&self, w: &mut dyn Write, drift: bool) -> std::io::Result<()> {
        let mut buf = String::new();
        let mut first = true;
        for i in 0..self.resources {
            let r = Resource::new(self.seed, i);
            if drift && !r.drift {
                continue;
            }
            buf.clear();
            if !first {
                buf.push(',');
            }
            first = false;
            self.resource_change(&r, drift, &mut buf);
            w.write_all(buf.as_bytes())?;
        }
        Ok(())
    }

    /// The `configuration` of one module: every block, with `count`/`for_each` expressions.
    fn config_module(path: &str, out: &mut String) {
        out.push_str(r#"{"resources":["#);
        for (n, (mode, type_name, name, for_each)) in BLOCKS.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let data = if *mode == "data" { "data." } else { "" };
            let _ = write!(
                out,
                r#"{{"address":"{data}{type_name}.{name}","mode":"{mode}","type":"{type_name}","name":"{name}","provider_config_key":"aws","expressions":{{"tags":{{"references":["local.tags"]}}}},"schema_version":1,"#
            );
            if *for_each {
                out.push_str(r#""for_each_expression":{"references":["var.keys"]}}"#);
            } else {
                out.push_str(r#""count_expression":{"references":["var.size"]}}"#);
            }
        }
        out.push(']');
        let calls: &[(&str, &str, &str)] = match path {
            "" => &[
                ("app", "./modules/app", "for_each"),
                ("net", "./modules/net", "count"),
            ],
            "module.app" => &[("db", "./modules/db", "count")],
            _ => &[],
        };
        if !calls.is_empty() {
            out.push_str(r#","module_calls":{"#);
            for (n, (name, source, repetition)) in calls.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    r#""{name}":{{"source":"{source}","{repetition}_expression":{{"references":["var.{name}"]}},"module":"#
                );
                let child = if path.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{path}.module.{name}")
                };
                Self::config_module(&child, out);
                out.push('}');
            }
            out.push('}');
        }
        out.push('}');
    }

    fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(br#"{"format_version":"1.2","terraform_version":"1.9.5","variables":{"region":{"value":"eu-west-1"}},"planned_values":"#)?;
        // planned_values: outputs, then root_module.
        w.write_all(br#"{"outputs":{"fleet_ids":{"sensitive":false}},"#)?;
        self.module_tree(w, Side::After, &|r: &Resource| r.action.has_after())?;
        w.write_all(br#"},"resource_drift":["#)?;
        self.changes(w, true)?;
        w.write_all(br#"],"resource_changes":["#)?;
        self.changes(w, false)?;
        w.write_all(br#"],"output_changes":{"fleet_ids":{"actions":["no-op"],"before":["fleet-0"],"after":["fleet-0"],"after_unknown":false,"before_sensitive":false,"after_sensitive":false}},"prior_state":{"format_version":"1.0","terraform_version":"1.9.5","values":{"outputs":{"fleet_ids":{"sensitive":false,"value":["fleet-0"],"type":["list","string"]}},"#)?;
        self.module_tree(w, Side::Before, &|r: &Resource| r.action.has_before())?;
        w.write_all(b"}}")?;
        let mut config = String::from(
            r#","configuration":{"provider_config":{"aws":{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws","version_constraint":"~> 5.0","expressions":{"region":{"references":["var.region"]}}}},"root_module":"#,
        );
        Self::config_module("", &mut config);
        config.push('}');
        w.write_all(config.as_bytes())?;
        w.write_all(br#","relevant_attributes":[{"resource":"aws_instance.web","attribute":["id"]},{"resource":"module.app.aws_autoscaling_group.fleet","attribute":["name"]}],"timestamp":"2025-01-01T00:00:00Z","applyable":true,"complete":true,"errored":false}"#)?;
        w.write_all(b"\n")?;
        Ok(())
    }
}

/// Counts bytes written, to size the padding without writing a file.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The padding that brings the file nearest `target` bytes: the size is linear in it, so two
/// sample sizes (scaled from a prefix of the resources) give the slope.
fn padding_for(resources: usize, seed: u64, target: u64) -> std::io::Result<usize> {
    let sample = resources.min(4 * GROUP * 5);
    let size = |padding| -> std::io::Result<f64> {
        let mut counter = Counter(0);
        PlanWriter {
            seed,
            resources: sample,
            padding,
        }
        .write(&mut counter)?;
        #[allow(clippy::cast_precision_loss)]
        Ok(counter.0 as f64 * resources as f64 / sample as f64)
    };
    let base = size(0)?;
    let slope = (size(10)? - base) / 10.0;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let padding = ((target as f64 - base) / slope).round().max(0.0) as usize;
    Ok(padding)
}

/// Writes the plan of `resources` resources under `seed` to the file `path`, its tag maps padded
/// to bring it near `target_bytes` if given; returns the file's size.
pub fn write_plan(
    path: &str,
    resources: usize,
    seed: u64,
    target_bytes: Option<u64>,
) -> std::io::Result<u64> {
    let padding = match target_bytes {
        Some(target) => padding_for(resources, seed, target)?,
        None => 0,
    };
    let file = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    PlanWriter {
        seed,
        resources,
        padding,
    }
    .write(&mut w)?;
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}
