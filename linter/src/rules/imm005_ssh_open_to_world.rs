use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config_resource::{ConfigResource, UnknownValue};
use crate::finding::{Finding, PathReport};
use crate::plan::ResourceChange;
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use crate::rules::util::{
    blocks, int_at, port_spec_contains, range_contains, raw_may_contain, str_at, strings_at,
};

declare_rule! {
    /// ### What it does
    /// Flags a firewall rule that the plan leaves in place (created, updated or unchanged)
    /// and that opens TCP port 22 to the whole internet (`0.0.0.0/0` or `::/0`, Azure's `*`
    /// and `Internet`). It reads the planned values of:
    ///
    /// - AWS: `aws_security_group` and `aws_default_security_group` (inline `ingress`),
    ///   `aws_security_group_rule`, `aws_vpc_security_group_ingress_rule`,
    ///   `aws_network_acl_rule`;
    /// - GCP: `google_compute_firewall` (unless `disabled`);
    /// - Azure: `azurerm_network_security_group` (inline `security_rule`),
    ///   `azurerm_network_security_rule`;
    /// - OpenStack: `openstack_networking_secgroup_rule_v2`;
    /// - DigitalOcean: `digitalocean_firewall`; Hetzner: `hcloud_firewall`;
    ///   Linode: `linode_firewall`; OCI: `oci_core_security_list`,
    ///   `oci_core_network_security_group_security_rule`; Alibaba: `alicloud_security_group_rule`.
    ///
    /// A port range that includes 22 counts, and so does "all protocols". Values known only
    /// after apply are not guessed at.
    ///
    /// ### Why is this bad?
    /// Immutable servers are never logged into: nothing is changed by hand, so SSH from
    /// anywhere only adds attack surface (credential stuffing, key leaks) and invites the
    /// manual hotfix that turns a server into a snowflake. Break-glass access belongs behind a
    /// bastion, a VPN or a session manager.
    ///
    /// ### Example
    /// ```hcl
    /// resource "aws_security_group_rule" "ssh" {
    ///   type        = "ingress"
    ///   from_port   = 22
    ///   to_port     = 22
    ///   protocol    = "tcp"
    ///   cidr_blocks = ["0.0.0.0/0"]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_security_group_rule" "ssh" {
    ///   type        = "ingress"
    ///   from_port   = 22
    ///   to_port     = 22
    ///   protocol    = "tcp"
    ///   cidr_blocks = [var.bastion_cidr]
    /// }
    /// ```
    /// or no SSH at all (AWS Systems Manager Session Manager, GCP IAP, Azure Bastion).
    ///
    /// ### Configuration mode
    /// Yes, for rules written in the `resource` blocks of these types with literal values (or
    /// literal variable defaults, locals and tfvars values). A rule one of whose ports,
    /// protocols, directions or sources is not known that way is not checked (`--verbose` says
    /// which), and rules made by `dynamic` blocks are not seen.
    pub struct SshOpenToWorld {
        code: "IMM005",
        name: "ssh-open-to-world",
        severity: Warning,
        summary: "SSH (port 22) would be open to the whole internet",
    }
}

const SSH: i64 = 22;

/// Substrings (lowercase) of every source [`is_world`] accepts, but `0.0.0.0`: see
/// [`may_name_world`].
const WORLD_NEEDLES: &[&str] = &["::/0", "*", "internet", "any"];

/// Whether the JSON text of a raw value may contain a source [`is_world`] accepts. `0.0.0.0`
/// counts only where no digit precedes it: `10.0.0.0/8`, the most common private source,
/// contains it too, and would send most firewall rules to a full parse.
fn may_name_world(raw: &RawValue) -> bool {
    let text = raw.get().as_bytes();
    raw_may_contain(raw, WORLD_NEEDLES)
        || memchr::memmem::find_iter(text, b"0.0.0.0")
            .any(|i| i == 0 || !text[i - 1].is_ascii_digit())
}

fn is_world(cidr: &str) -> bool {
    let cidr = cidr.trim();
    // Azure's service tags are case-insensitive.
    matches!(cidr, "0.0.0.0/0" | "::/0" | "*" | "0.0.0.0")
        || cidr.eq_ignore_ascii_case("Internet")
        || cidr.eq_ignore_ascii_case("Any")
}

fn any_world(cidrs: &[&str]) -> bool {
    cidrs.iter().any(|c| is_world(c))
}

/// TCP or every protocol, in each provider's spelling.
fn is_tcp(protocol: Option<&str>) -> bool {
    match protocol {
        None => true,
        Some(p) => matches!(
            p.trim().to_ascii_lowercase().as_str(),
            "tcp" | "6" | "-1" | "all" | "*" | ""
        ),
    }
}

/// Every protocol, which on AWS means every port whatever `from_port`/`to_port` say.
fn is_all_protocols(protocol: Option<&str>) -> bool {
    protocol.is_some_and(|p| matches!(p.trim().to_ascii_lowercase().as_str(), "-1" | "all"))
}

/// An AWS-style rule object (`from_port`, `to_port`, `protocol`, CIDR lists).
fn aws_rule_open(rule: &Value) -> bool {
    let protocol = str_at(rule, "protocol").or_else(|| str_at(rule, "ip_protocol"));
    let mut cidrs = strings_at(rule, "cidr_blocks");
    cidrs.extend(strings_at(rule, "ipv6_cidr_blocks"));
    cidrs.extend(strings_at(rule, "cidr_ipv4"));
    cidrs.extend(strings_at(rule, "cidr_ipv6"));
    let from = int_at(rule, "from_port");
    let to = int_at(rule, "to_port");
    is_tcp(protocol)
        && (is_all_protocols(protocol) || range_contains(from, to, SSH))
        && any_world(&cidrs)
}

fn azure_rule_open(rule: &Value) -> bool {
    let inbound = str_at(rule, "direction").is_none_or(|d| d.eq_ignore_ascii_case("Inbound"));
    let allow = str_at(rule, "access").is_none_or(|a| a.eq_ignore_ascii_case("Allow"));
    let mut ports = strings_at(rule, "destination_port_range");
    ports.extend(strings_at(rule, "destination_port_ranges"));
    // The provider stores the unused one of the pair as "" (an empty spec would mean "all").
    ports.retain(|p| !p.trim().is_empty());
    let mut sources = strings_at(rule, "source_address_prefix");
    sources.extend(strings_at(rule, "source_address_prefixes"));
    inbound
        && allow
        && is_tcp(str_at(rule, "protocol"))
        && ports.iter().any(|p| port_spec_contains(p, SSH))
        && any_world(&sources)
}

fn oci_rule_open(rule: &Value) -> bool {
    let source = str_at(rule, "source").unwrap_or_default();
    if !is_tcp(str_at(rule, "protocol")) || !is_world(source) {
        return false;
    }
    let tcp = blocks(rule, "tcp_options");
    if tcp.is_empty() {
        return true;
    }
    tcp.iter().any(|o| {
        let ranges = blocks(o, "destination_port_range");
        if ranges.is_empty() {
            range_contains(int_at(o, "min"), int_at(o, "max"), SSH)
        } else {
            ranges
                .iter()
                .any(|r| range_contains(int_at(r, "min"), int_at(r, "max"), SSH))
        }
    })
}

/// The attribute path of each open rule in a planned object of `type_name`.
#[allow(clippy::too_many_lines)] // one arm per firewall type reads best as a table
fn open_rules(type_name: &str, after: &Value) -> Vec<String> {
    let indexed = |name: &str, list: Vec<&Value>, open: &dyn Fn(&Value) -> bool| -> Vec<String> {
        list.iter()
            .enumerate()
            .filter(|(_, r)| open(r))
            .map(|(i, _)| format!("{name}[{i}]"))
            .collect()
    };
    let whole = |open: bool| {
        if open {
            vec![String::new()]
        } else {
            Vec::new()
        }
    };
    match type_name {
        "aws_security_group" | "aws_default_security_group" => {
            indexed("ingress", blocks(after, "ingress"), &aws_rule_open)
        }
        "aws_security_group_rule" => {
            whole(str_at(after, "type") == Some("ingress") && aws_rule_open(after))
        }
        "aws_vpc_security_group_ingress_rule" => whole(aws_rule_open(after)),
        "aws_network_acl_rule" => whole(
            after.get("egress").and_then(Value::as_bool) != Some(true)
                && str_at(after, "rule_action").is_some_and(|a| a.eq_ignore_ascii_case("allow"))
                && is_tcp(str_at(after, "protocol"))
                && range_contains(int_at(after, "from_port"), int_at(after, "to_port"), SSH)
                && (str_at(after, "cidr_block").is_some_and(is_world)
                    || str_at(after, "ipv6_cidr_block").is_some_and(is_world)),
        ),
        "google_compute_firewall" => {
            let ingress =
                str_at(after, "direction").is_none_or(|d| d.eq_ignore_ascii_case("INGRESS"));
            let world = any_world(&strings_at(after, "source_ranges"));
            let disabled = after.get("disabled").and_then(Value::as_bool) == Some(true);
            if !ingress || !world || disabled {
                return Vec::new();
            }
            indexed("allow", blocks(after, "allow"), &|a: &Value| {
                let ports = strings_at(a, "ports");
                is_tcp(str_at(a, "protocol"))
                    && (ports.is_empty() || ports.iter().any(|p| port_spec_contains(p, SSH)))
            })
        }
        "azurerm_network_security_group" => indexed(
            "security_rule",
            blocks(after, "security_rule"),
            &azure_rule_open,
        ),
        "azurerm_network_security_rule" => whole(azure_rule_open(after)),
        "openstack_networking_secgroup_rule_v2" => {
            let ingress = str_at(after, "direction") == Some("ingress");
            let prefix = str_at(after, "remote_ip_prefix").unwrap_or_default();
            let no_group = str_at(after, "remote_group_id").is_none_or(str::is_empty);
            // An empty prefix with no remote group means "from anywhere".
            let world = is_world(prefix) || (prefix.is_empty() && no_group);
            whole(
                ingress
                    && world
                    && is_tcp(str_at(after, "protocol"))
                    && range_contains(
                        int_at(after, "port_range_min"),
                        int_at(after, "port_range_max"),
                        SSH,
                    ),
            )
        }
        "digitalocean_firewall" => indexed(
            "inbound_rule",
            blocks(after, "inbound_rule"),
            &|r: &Value| {
                is_tcp(str_at(r, "protocol"))
                    && port_spec_contains(str_at(r, "port_range").unwrap_or_default(), SSH)
                    && any_world(&strings_at(r, "source_addresses"))
            },
        ),
        "hcloud_firewall" => indexed("rule", blocks(after, "rule"), &|r: &Value| {
            str_at(r, "direction") == Some("in")
                && is_tcp(str_at(r, "protocol"))
                && port_spec_contains(str_at(r, "port").unwrap_or_default(), SSH)
                && any_world(&strings_at(r, "source_ips"))
        }),
        "linode_firewall" => indexed("inbound", blocks(after, "inbound"), &|r: &Value| {
            let mut sources = strings_at(r, "ipv4");
            sources.extend(strings_at(r, "ipv6"));
            str_at(r, "action").is_none_or(|a| a.eq_ignore_ascii_case("ACCEPT"))
                && is_tcp(str_at(r, "protocol"))
                && port_spec_contains(str_at(r, "ports").unwrap_or_default(), SSH)
                && any_world(&sources)
        }),
        "oci_core_security_list" => indexed(
            "ingress_security_rules",
            blocks(after, "ingress_security_rules"),
            &oci_rule_open,
        ),
        "oci_core_network_security_group_security_rule" => {
            whole(str_at(after, "direction") == Some("INGRESS") && oci_rule_open(after))
        }
        "alicloud_security_group_rule" => {
            let world = str_at(after, "cidr_ip").is_some_and(is_world)
                || str_at(after, "ipv6_cidr_ip").is_some_and(is_world);
            whole(
                str_at(after, "type") == Some("ingress")
                    && str_at(after, "policy").is_none_or(|p| p.eq_ignore_ascii_case("accept"))
                    && is_tcp(str_at(after, "ip_protocol"))
                    && port_spec_contains(str_at(after, "port_range").unwrap_or_default(), SSH)
                    && world,
            )
        }
        _ => Vec::new(),
    }
}

/// Types this rule reads; the others are skipped without parsing their values.
const FIREWALL_TYPES: &[&str] = &[
    "aws_security_group",
    "aws_default_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_network_acl_rule",
    "google_compute_firewall",
    "azurerm_network_security_group",
    "azurerm_network_security_rule",
    "openstack_networking_secgroup_rule_v2",
    "digitalocean_firewall",
    "hcloud_firewall",
    "linode_firewall",
    "oci_core_security_list",
    "oci_core_network_security_group_security_rule",
    "alicloud_security_group_rule",
];

/// Whether an AWS security group's `ingress` blocks may name a world source, read without
/// parsing the rest of `after` into a [`Value`]. Anything unexpected (not an object, a
/// duplicate key) answers yes, so the full parse decides.
fn ingress_may_be_open(after: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Group<'a> {
        #[serde(borrow, default)]
        ingress: Option<&'a RawValue>,
    }
    serde_json::from_str::<Group<'_>>(after.get())
        .map_or(true, |group| group.ingress.is_some_and(may_name_world))
}

impl Rule for SshOpenToWorld {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_change(&self, _ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if !FIREWALL_TYPES.contains(&rc.type_name.as_ref()) || !rc.change.kind().has_after() {
            return;
        }
        // Every rule but OpenStack's (where an empty prefix is the world) needs a world
        // source written out; without one, `after` is not worth parsing.
        if rc.type_name != "openstack_networking_secgroup_rule_v2"
            && rc.change.after.is_none_or(|raw| !may_name_world(raw))
        {
            return;
        }
        // A group's world source is usually its egress (`0.0.0.0/0` out); only `ingress` counts.
        if matches!(
            rc.type_name.as_ref(),
            "aws_security_group" | "aws_default_security_group"
        ) && rc.change.after.is_some_and(|raw| !ingress_may_be_open(raw))
        {
            return;
        }
        let Some(after) = rc.change.after_value() else {
            return;
        };
        let open = open_rules(&rc.type_name, &after);
        if open.is_empty() {
            return;
        }
        let paths: Vec<PathReport> = open
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|path| PathReport {
                path,
                known_after_apply: false,
                sensitive: false,
            })
            .collect();
        let message = format!("{} opens SSH (port 22) to the whole internet", rc.address);
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help(HELP),
        );
    }

    fn check_config(&self, _ctx: &Context<'_>, resource: &ConfigResource, out: &mut Vec<Finding>) {
        if !FIREWALL_TYPES.contains(&resource.type_name.as_str()) {
            return;
        }
        // Every rule argument or rule block that is not known: its rule is not checked.
        for u in &resource.unknown {
            let leaf = leaf_key(&u.path);
            if RULE_KEYS.contains(&leaf) || RULE_BLOCKS.contains(&leaf) {
                resource.log_skip(&Self::INFO, &u.path, &u.reason);
            }
        }
        let mut open = open_rules(&resource.type_name, &resource.value);
        open.retain(|path| unknown_in_rule(resource, path).is_none());
        if open.is_empty() {
            return;
        }
        let message = format!(
            "{} opens SSH (port 22) to the whole internet",
            resource.address
        );
        out.push(
            Finding::for_config(&Self::INFO, resource, message)
                .with_config_paths(open.into_iter().filter(|p| !p.is_empty()))
                .with_help(HELP),
        );
    }
}

const HELP: &str =
    "restrict the source to a bastion or VPN range, or use a session manager instead of SSH";

/// Every key [`open_rules`] reads: an unknown one of these could open or close a rule.
const RULE_KEYS: &[&str] = &[
    "type",
    "direction",
    "egress",
    "disabled",
    "access",
    "action",
    "policy",
    "rule_action",
    "protocol",
    "ip_protocol",
    "from_port",
    "to_port",
    "port",
    "ports",
    "port_range",
    "port_range_min",
    "port_range_max",
    "destination_port_range",
    "destination_port_ranges",
    "tcp_options",
    "min",
    "max",
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "cidr_ipv4",
    "cidr_ipv6",
    "cidr_block",
    "ipv6_cidr_block",
    "cidr_ip",
    "ipv6_cidr_ip",
    "source",
    "source_ranges",
    "source_address_prefix",
    "source_address_prefixes",
    "remote_ip_prefix",
    "remote_group_id",
    "source_addresses",
    "source_ips",
    "ipv4",
    "ipv6",
    "allow",
];

/// Blocks that hold rules (a `dynamic` one is not seen).
const RULE_BLOCKS: &[&str] = &[
    "ingress",
    "security_rule",
    "inbound_rule",
    "rule",
    "inbound",
    "ingress_security_rules",
];

/// `ingress[1].cidr_blocks` → `cidr_blocks`.
fn leaf_key(path: &str) -> &str {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    leaf.split('[').next().unwrap_or(leaf)
}

/// The unknown argument that could change whether the rule at `rule_path` (`ingress[1]`, or
/// empty for the whole resource) is open: a rule key in it or at the top level.
fn unknown_in_rule<'r>(resource: &'r ConfigResource, rule_path: &str) -> Option<&'r UnknownValue> {
    resource.unknown.iter().find(|u| {
        let leaf = leaf_key(&u.path);
        let top_level = !u.path.contains('.');
        let inside = !rule_path.is_empty() && u.path.starts_with(&format!("{rule_path}."));
        RULE_KEYS.contains(&leaf) && (top_level || inside)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_group_open_only_outwards_is_not_parsed_further() {
        let raw =
            |text: &str| RawValue::from_string(text.to_owned()).unwrap_or_else(|_| unreachable!());
        let egress_only = raw(
            r#"{"egress":[{"cidr_blocks":["0.0.0.0/0"]}],"ingress":[{"cidr_blocks":["10.0.0.0/8"]}]}"#,
        );
        assert!(!ingress_may_be_open(&egress_only));
        assert!(!ingress_may_be_open(&raw(
            r#"{"egress":[{"cidr_blocks":["0.0.0.0/0"]}]}"#
        )));
        assert!(ingress_may_be_open(&raw(
            r#"{"ingress":[{"cidr_blocks":["0.0.0.0/0"]}]}"#
        )));
        // Whatever the typed read cannot settle goes to the full parse.
        assert!(ingress_may_be_open(&raw(
            r#"{"ingress":[],"ingress":[{"cidr_blocks":["0.0.0.0/0"]}]}"#
        )));
        assert!(ingress_may_be_open(&raw("null")));
        // `10.0.0.0/8` contains `0.0.0.0`, but is no world source.
        assert!(!may_name_world(&raw(
            r#"{"cidr_blocks":["10.0.0.0/8","100.0.0.0/8"]}"#
        )));
        assert!(may_name_world(&raw(r#"{"cidr_blocks":["0.0.0.0/0"]}"#)));
        assert!(may_name_world(&raw(r#"{"cidr_blocks":[" 0.0.0.0"]}"#)));
        assert!(may_name_world(&raw(r#"{"source":"Internet"}"#)));
    }

    #[test]
    fn aws_inline_and_rules() {
        let sg = json!({"ingress": [
            {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]},
            {"from_port": 0, "to_port": 65535, "protocol": "-1", "ipv6_cidr_blocks": ["::/0"]},
            {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}
        ]});
        assert_eq!(
            open_rules("aws_security_group", &sg),
            vec!["ingress[1]".to_owned()]
        );
        let rule = json!({"type": "egress", "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]});
        assert!(open_rules("aws_security_group_rule", &rule).is_empty());
    }

    #[test]
    fn gcp_azure_and_friends() {
        let fw = json!({"direction": "INGRESS", "source_ranges": ["0.0.0.0/0"], "allow": [{"protocol": "tcp", "ports": ["80", "20-30"]}]});
        assert_eq!(
            open_rules("google_compute_firewall", &fw),
            vec!["allow[0]".to_owned()]
        );
        let nsg = json!({"direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destination_port_range": "22", "source_address_prefix": "*"});
        assert_eq!(open_rules("azurerm_network_security_rule", &nsg).len(), 1);
        let deny = json!({"direction": "Inbound", "access": "Deny", "protocol": "Tcp", "destination_port_range": "22", "source_address_prefix": "*"});
        assert!(open_rules("azurerm_network_security_rule", &deny).is_empty());
        let hc = json!({"rule": [{"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"]}]});
        assert_eq!(
            open_rules("hcloud_firewall", &hc),
            vec!["rule[0]".to_owned()]
        );
        let ali = json!({"type": "ingress", "ip_protocol": "tcp", "port_range": "22/22", "cidr_ip": "0.0.0.0/0"});
        assert_eq!(open_rules("alicloud_security_group_rule", &ali).len(), 1);
    }

    #[test]
    fn azure_unused_port_field_gcp_disabled_and_aws_all_protocols() {
        // `destination_port_range` is "" when `destination_port_ranges` is used.
        let nsg = json!({"security_rule": [{"direction": "Inbound", "access": "Allow",
            "protocol": "Tcp", "destination_port_range": "", "destination_port_ranges": ["80", "443"],
            "source_address_prefix": "*", "source_address_prefixes": []}]});
        assert!(open_rules("azurerm_network_security_group", &nsg).is_empty());
        let rule = json!({"direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "destination_port_range": "22", "source_address_prefix": "internet"});
        assert_eq!(open_rules("azurerm_network_security_rule", &rule).len(), 1);
        let fw = json!({"direction": "INGRESS", "disabled": true, "source_ranges": ["0.0.0.0/0"],
            "allow": [{"protocol": "tcp", "ports": ["22"]}]});
        assert!(open_rules("google_compute_firewall", &fw).is_empty());
        let default = json!({"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp",
            "cidr_blocks": ["0.0.0.0/0"]}]});
        assert_eq!(
            open_rules("aws_default_security_group", &default),
            vec!["ingress[0]".to_owned()]
        );
        // Protocol -1 opens every port, whatever the port fields say.
        let all = json!({"type": "ingress", "from_port": 80, "to_port": 80, "protocol": "-1",
            "cidr_blocks": ["0.0.0.0/0"]});
        assert_eq!(open_rules("aws_security_group_rule", &all).len(), 1);
    }
}
