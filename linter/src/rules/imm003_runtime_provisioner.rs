use std::collections::HashMap;

use crate::config_resource::ConfigResource;
use crate::finding::{Finding, PlanPosition};
use crate::plan::{Action, Plan, ResourceChange};
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};

declare_rule! {
    /// ### What it does
    /// Flags every resource in the plan's configuration that has a provisioner which
    /// configures a machine at runtime: `remote-exec`, `file`, `chef`, `puppet`,
    /// `salt-masterless` or `habitat`. It reads the `configuration` section of the plan, so
    /// it sees provisioners in every module, and on any resource type (`null_resource` and
    /// `terraform_data` included, since their provisioners usually target a server). The
    /// finding says how many instances this plan creates, i.e. how often the provisioner
    /// will run. `local-exec` runs on the machine that runs Terraform and is not flagged.
    ///
    /// ### Why is this bad?
    /// A provisioner changes a server after it boots, from the machine that runs Terraform.
    /// The result depends on the network, on package mirrors and on timing; it runs once at
    /// creation and never again, so instances created at different times differ, and an
    /// autoscaled or replaced instance never gets it. Configuration belongs in the image
    /// (Packer, image builders) or in first-boot data that is part of the launch template.
    ///
    /// ### Example
    /// ```hcl
    /// resource "aws_instance" "web" {
    ///   ami = "ami-0abc"
    ///   provisioner "remote-exec" {
    ///     inline = ["sudo apt-get install -y nginx"]
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// # nginx is installed when the image is built (e.g. by Packer)
    /// resource "aws_instance" "web" {
    ///   ami = data.aws_ami.web_release.id
    /// }
    /// ```
    ///
    /// ### Configuration mode
    /// Yes, the same check: every `provisioner` block of these types, on any resource, in
    /// every module configuration mode follows. Without a plan the finding cannot say how
    /// many instances will run it.
    pub struct RuntimeProvisioner {
        code: "IMM003",
        name: "runtime-provisioner",
        severity: Error,
        summary: "a provisioner configures a machine at runtime instead of in its image",
    }
}

/// Provisioners that change the target machine.
pub const RUNTIME_PROVISIONERS: &[&str] = &[
    "remote-exec",
    "file",
    "chef",
    "puppet",
    "salt-masterless",
    "habitat",
];

const HELP: &str =
    "build the configuration into the image (e.g. with Packer) and launch it unchanged";

/// `{address} has provisioner "remote-exec" that configures it at runtime; …`, with how many
/// new instances run it (`creating`, 0 when unknown or none).
fn message(address: &str, kinds: &[String], creating: usize) -> String {
    let names = kinds
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (plural, verb) = if kinds.len() == 1 {
        ("provisioner", "configures")
    } else {
        ("provisioners", "configure")
    };
    let when = match creating {
        0 => "it runs whenever the resource is created".to_owned(),
        1 => "this plan runs it on 1 new instance".to_owned(),
        n => format!("this plan runs it on {n} new instances"),
    };
    format!("{address} has {plural} {names} that {verb} it at runtime; {when}")
}

impl Rule for RuntimeProvisioner {
    fn check_config(&self, _ctx: &Context<'_>, resource: &ConfigResource, out: &mut Vec<Finding>) {
        let kinds: Vec<String> = resource
            .provisioners
            .iter()
            .filter(|p| RUNTIME_PROVISIONERS.contains(&p.as_str()))
            .cloned()
            .collect();
        if kinds.is_empty() {
            return;
        }
        let message = message(&resource.address, &kinds, 0);
        out.push(Finding::for_config(&Self::INFO, resource, message).with_help(HELP));
    }

    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_plan(&self, _ctx: &Context<'_>, plan: &Plan<'_>, out: &mut Vec<Finding>) {
        let Some(configuration) = &plan.configuration else {
            return;
        };
        let mut flagged: Vec<(String, String, Vec<String>)> = Vec::new();
        configuration.root_module.walk("", &mut |module, resource| {
            let kinds: Vec<String> = resource
                .provisioners
                .iter()
                .filter(|p| RUNTIME_PROVISIONERS.contains(&p.type_name.as_ref()))
                .map(|p| p.type_name.clone().into_owned())
                .collect();
            if kinds.is_empty() {
                return;
            }
            let address = if module.is_empty() {
                resource.address.clone().into_owned()
            } else {
                format!("{module}.{}", resource.address)
            };
            flagged.push((address, resource.type_name.clone().into_owned(), kinds));
        });
        if flagged.is_empty() {
            return;
        }
        let mut by_address: HashMap<String, Vec<&ResourceChange<'_>>> = HashMap::new();
        for rc in &plan.resource_changes {
            // Building every resource's configuration address would cost an allocation per
            // resource; only those ending in a flagged `type.name` can match.
            let may_match = flagged.iter().any(|(address, ..)| {
                address
                    .strip_suffix(rc.name.as_ref())
                    .and_then(|a| a.strip_suffix('.'))
                    .is_some_and(|a| a.ends_with(rc.type_name.as_ref()))
            });
            if may_match {
                by_address.entry(rc.config_address()).or_default().push(rc);
            }
        }
        for (address, resource_type, kinds) in flagged {
            let instances = by_address
                .get(&address)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let creating = instances
                .iter()
                .filter(|rc| rc.change.actions.contains(&Action::Create))
                .count();
            let message = message(&address, &kinds, creating);
            let first = instances.first();
            out.push(Finding {
                rule: &Self::INFO,
                severity: Self::INFO.default_severity,
                address: address.clone(),
                config_address: address,
                resource_type,
                deposed: None,
                actions: first
                    .map(|rc| {
                        rc.change
                            .actions
                            .iter()
                            .map(|a| a.as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
                action_reason: None,
                paths: Vec::new(),
                message,
                help: Some(HELP.to_owned()),
                plan: 0,
                plan_position: first.map(|rc| PlanPosition {
                    byte_offset: rc.offset,
                    line: 0,
                    column: 0,
                }),
                location: None,
                suppression: None,
            });
        }
    }
}
