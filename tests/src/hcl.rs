//! Writes the `immutable_fleet` configurations the scenarios apply (the HCL contract of
//! `examples/quickstart/main.tf`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::MOTO_AMI;
use crate::terraform::hcl_string;

/// The `terraform { required_providers }` block every configuration needs.
pub const TERRAFORM_BLOCK: &str = r#"terraform {
  required_providers {
    immutable = { source = "immutable-infra/immutable" }
  }
}
"#;

/// `provider "immutable"` relying on `AWS_ENDPOINT_URL` for moto.
pub fn provider_block() -> String {
    format!(
        "provider \"immutable\" {{\n  region = {}\n}}\n",
        hcl_string(crate::REGION)
    )
}

/// `provider "immutable"` with every service endpoint set explicitly.
pub fn provider_block_with_endpoints(endpoint: &str) -> String {
    let url = hcl_string(endpoint);
    format!(
        "provider \"immutable\" {{\n  region = {}\n  endpoints {{\n    ec2         = {url}\n    autoscaling = {url}\n    elbv2       = {url}\n  }}\n}}\n",
        hcl_string(crate::REGION)
    )
}

/// The `health_check` block of a fleet. The defaults suit moto, where instances are InService
/// and Healthy the moment they exist: no bake window. The grace period is not zero because
/// moto's CreateAutoScalingGroup stores `HealthCheckGracePeriod or 300`, so a 0 would read back
/// as 300 s (real AWS keeps 0; moto's UpdateAutoScalingGroup does too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub check_type: String,
    pub grace_period: String,
    pub timeout: String,
    pub healthy_for: String,
    pub min_healthy_percent: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            check_type: "EC2".to_owned(),
            grace_period: "10s".to_owned(),
            timeout: "2m".to_owned(),
            healthy_for: "0s".to_owned(),
            min_healthy_percent: 100,
        }
    }
}

/// One `resource "immutable_fleet" "<resource>"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// The resource's local name: the address is `immutable_fleet.<resource>`.
    pub resource: String,
    /// The fleet's `name` argument: unique per scenario, since scenarios share one moto.
    pub name: String,
    pub image_id: String,
    pub instance_type: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// Left out when empty.
    pub target_group_arns: Vec<String>,
    pub user_data: Option<String>,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: Option<i64>,
    pub tags: BTreeMap<String, String>,
    /// `None` leaves the block out (the provider's defaults apply).
    pub health_check: Option<HealthCheck>,
    /// `None` leaves the `rollout` block out (all at once).
    pub rollout: Option<Rollout>,
    /// Further arguments and blocks, as HCL lines inside the resource block (settings this
    /// builder has no field for).
    pub extra_hcl: String,
    pub create_before_destroy: bool,
}

/// The `rollout` block of a fleet (canary steps judged by CloudWatch alarms). Unset optional
/// arguments are left out, so the provider's defaults apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollout {
    /// Percentages of the target capacity, strictly increasing; left out when empty.
    pub steps: Vec<u32>,
    pub assess_for: Option<String>,
    /// CloudWatch alarm names; left out when empty.
    pub alarms: Vec<String>,
    pub shrink_previous: Option<bool>,
    pub keep_previous_for: Option<String>,
}

impl Rollout {
    /// The block's lines, indented for the resource body.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec!["  rollout {".to_owned()];
        if !self.steps.is_empty() {
            let steps: Vec<String> = self.steps.iter().map(u32::to_string).collect();
            lines.push(format!("    steps             = [{}]", steps.join(", ")));
        }
        if let Some(assess_for) = &self.assess_for {
            lines.push(format!(
                "    assess_for        = {}",
                hcl_string(assess_for)
            ));
        }
        if !self.alarms.is_empty() {
            lines.push(format!(
                "    alarms            = {}",
                hcl_list(&self.alarms)
            ));
        }
        if let Some(shrink) = self.shrink_previous {
            lines.push(format!("    shrink_previous   = {shrink}"));
        }
        if let Some(keep) = &self.keep_previous_for {
            lines.push(format!("    keep_previous_for = {}", hcl_string(keep)));
        }
        lines.push("  }".to_owned());
        lines
    }
}

impl Fleet {
    /// A fleet of `t3.micro` on moto's default AMI: min 1, max 4, desired 1, create before
    /// destroy, a fast health check.
    pub fn new(resource: &str, name: &str, subnet_ids: &[String]) -> Self {
        Self {
            resource: resource.to_owned(),
            name: name.to_owned(),
            image_id: MOTO_AMI.to_owned(),
            instance_type: "t3.micro".to_owned(),
            subnet_ids: subnet_ids.to_vec(),
            security_group_ids: Vec::new(),
            target_group_arns: Vec::new(),
            user_data: None,
            min_size: 1,
            max_size: 4,
            desired_capacity: Some(1),
            tags: BTreeMap::new(),
            health_check: Some(HealthCheck::default()),
            rollout: None,
            extra_hcl: String::new(),
            create_before_destroy: true,
        }
    }

    /// `immutable_fleet.<resource>`.
    pub fn address(&self) -> String {
        format!("immutable_fleet.{}", self.resource)
    }

    /// The resource block.
    pub fn to_hcl(&self) -> String {
        let mut hcl = String::new();
        let mut line = |text: String| {
            hcl.push_str(&text);
            hcl.push('\n');
        };
        line(format!(
            "resource \"immutable_fleet\" {} {{",
            hcl_string(&self.resource)
        ));
        line(format!("  name               = {}", hcl_string(&self.name)));
        line(format!(
            "  image_id           = {}",
            hcl_string(&self.image_id)
        ));
        line(format!(
            "  instance_type      = {}",
            hcl_string(&self.instance_type)
        ));
        line(format!(
            "  subnet_ids         = {}",
            hcl_list(&self.subnet_ids)
        ));
        if !self.security_group_ids.is_empty() {
            line(format!(
                "  security_group_ids = {}",
                hcl_list(&self.security_group_ids)
            ));
        }
        if !self.target_group_arns.is_empty() {
            line(format!(
                "  target_group_arns  = {}",
                hcl_list(&self.target_group_arns)
            ));
        }
        if let Some(user_data) = &self.user_data {
            line(format!("  user_data          = {}", hcl_string(user_data)));
        }
        line(format!("  min_size           = {}", self.min_size));
        line(format!("  max_size           = {}", self.max_size));
        if let Some(desired) = self.desired_capacity {
            line(format!("  desired_capacity   = {desired}"));
        }
        if !self.tags.is_empty() {
            let mut tags = String::from("{");
            for (index, (key, value)) in self.tags.iter().enumerate() {
                let separator = if index == 0 { " " } else { ", " };
                let _ = write!(
                    tags,
                    "{separator}{} = {}",
                    hcl_string(key),
                    hcl_string(value)
                );
            }
            tags.push_str(" }");
            line(format!("  tags               = {tags}"));
        }
        if let Some(check) = &self.health_check {
            line("  health_check {".to_owned());
            line(format!(
                "    type                = {}",
                hcl_string(&check.check_type)
            ));
            line(format!(
                "    grace_period        = {}",
                hcl_string(&check.grace_period)
            ));
            line(format!(
                "    timeout             = {}",
                hcl_string(&check.timeout)
            ));
            line(format!(
                "    healthy_for         = {}",
                hcl_string(&check.healthy_for)
            ));
            line(format!(
                "    min_healthy_percent = {}",
                check.min_healthy_percent
            ));
            line("  }".to_owned());
        }
        if let Some(rollout) = &self.rollout {
            for rollout_line in rollout.lines() {
                line(rollout_line);
            }
        }
        for extra in self.extra_hcl.lines() {
            line(format!("  {extra}"));
        }
        if self.create_before_destroy {
            line("  lifecycle {".to_owned());
            line("    create_before_destroy = true".to_owned());
            line("  }".to_owned());
        }
        line("}".to_owned());
        hcl
    }
}

/// A whole `main.tf`: the terraform block, `provider`, the fleets.
pub fn config(provider: &str, fleets: &[&Fleet]) -> String {
    let mut hcl = format!("{TERRAFORM_BLOCK}\n{provider}");
    for fleet in fleets {
        hcl.push('\n');
        hcl.push_str(&fleet.to_hcl());
    }
    hcl
}

fn hcl_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| hcl_string(item)).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_set_argument_and_the_lifecycle() {
        let mut fleet = Fleet::new(
            "web",
            "e2e-web",
            &["subnet-1".to_owned(), "subnet-2".to_owned()],
        );
        fleet.user_data = Some("#!/bin/sh\necho ${HOME}\n".to_owned());
        fleet.tags.insert("team".to_owned(), "web".to_owned());
        fleet.target_group_arns = vec!["arn:tg".to_owned()];
        let hcl = fleet.to_hcl();
        assert!(
            hcl.contains("  target_group_arns  = [\"arn:tg\"]\n"),
            "{hcl}"
        );
        assert!(hcl.starts_with("resource \"immutable_fleet\" \"web\" {\n"));
        assert!(hcl.contains("  subnet_ids         = [\"subnet-1\", \"subnet-2\"]\n"));
        assert!(
            hcl.contains(r##"  user_data          = "#!/bin/sh\necho $${HOME}\n""##),
            "{hcl}"
        );
        assert!(hcl.contains("  tags               = { \"team\" = \"web\" }\n"));
        assert!(hcl.contains("    create_before_destroy = true\n"));
        assert!(hcl.contains("    grace_period        = \"10s\"\n"));
        assert!(
            !hcl.contains("security_group_ids"),
            "empty optional sets are left out"
        );
        assert_eq!(fleet.address(), "immutable_fleet.web");
    }

    #[test]
    fn writes_the_rollout_block_with_only_the_arguments_set() {
        let mut fleet = Fleet::new("web", "e2e-web", &[]);
        fleet.rollout = Some(Rollout {
            steps: vec![25, 50],
            assess_for: Some("5s".to_owned()),
            alarms: vec!["web-5xx".to_owned(), "web-p99".to_owned()],
            shrink_previous: Some(true),
            keep_previous_for: None,
        });
        let hcl = fleet.to_hcl();
        assert!(
            hcl.contains(
                "  rollout {\n    steps             = [25, 50]\n    assess_for        = \"5s\"\n    \
                 alarms            = [\"web-5xx\", \"web-p99\"]\n    shrink_previous   = true\n  }\n"
            ),
            "{hcl}"
        );
        assert!(!hcl.contains("keep_previous_for"), "{hcl}");
        fleet.rollout = Some(Rollout::default());
        assert!(fleet.to_hcl().contains("  rollout {\n  }\n"));
    }

    #[test]
    fn leaves_out_unset_optional_arguments() {
        let mut fleet = Fleet::new("x", "e2e-x", &[]);
        fleet.desired_capacity = None;
        fleet.health_check = None;
        fleet.create_before_destroy = false;
        let hcl = fleet.to_hcl();
        for absent in [
            "desired_capacity",
            "target_group_arns",
            "health_check",
            "lifecycle",
            "user_data",
            "tags",
            "rollout",
        ] {
            assert!(!hcl.contains(absent), "{absent} in {hcl}");
        }
    }
}
