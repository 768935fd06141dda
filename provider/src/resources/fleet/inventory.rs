//! What exists of a fleet in AWS, found by the `immutable:fleet` tag on every generation's
//! Auto Scaling group and launch template: the generations, which of them serve, and what
//! interrupted rollouts left behind.

use std::time::SystemTime;

use aws_sdk_autoscaling::types::{AutoScalingGroup, Filter as AsgFilter};
use aws_sdk_ec2::types::{Filter as Ec2Filter, LaunchTemplate};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::spec::{TAG_FINGERPRINT, TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use crate::aws::error::aws_err;
use crate::aws::groups::{group_tags, is_live, launch_template_id};
use crate::aws::{AwsClients, AwsError};

/// Where a generation stands, recorded in its `immutable:state` tag. One tag for all of it,
/// values such as `parked until=2026-12-06T10:00:00Z`: a group holds 50 tags and every one the
/// provider takes is one fewer for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// Created, gate not yet passed. Seen by a later apply, it is a leftover of an
    /// interrupted rollout (provider killed, machine lost): Terraform never recorded it.
    Gating,
    /// Passed its gate; Terraform holds it in state (current or deposed).
    Serving,
    /// Serving, scaled down while a newer generation grows (`shrink_previous`); the sizes to
    /// restore if that rollout fails or dies.
    Shrunk(FullSizes),
    /// Retired by a newer generation but kept, detached and running, for a rollback until
    /// the window ends (`keep_previous_for`).
    Parked { until: SystemTime },
}

/// A group's sizes (before a rollout shrank it, in [`Rollout::Shrunk`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullSizes {
    pub min: i32,
    pub max: i32,
    pub desired: i32,
}

impl Rollout {
    pub const TAG: &'static str = "immutable:state";

    pub fn tag_value(self) -> String {
        match self {
            Self::Gating => "gating".to_owned(),
            Self::Serving => "serving".to_owned(),
            Self::Shrunk(full) => format!(
                "shrunk min={} max={} desired={}",
                full.min, full.max, full.desired
            ),
            Self::Parked { until } => {
                let until = DateTime::from(until)
                    .fmt(Format::DateTime)
                    .unwrap_or_default();
                format!("parked until={until}")
            }
        }
    }

    pub fn parse(value: Option<&str>) -> Self {
        // Untagged groups (imported, or made before this tag existed) and values this version
        // does not know are treated as serving: never delete what might be in use.
        let Some(value) = value else {
            return Self::Serving;
        };
        let field = |name: &str| {
            value
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        let number = |name: &str| field(name).and_then(|n| n.parse::<i32>().ok());
        match value.split_whitespace().next() {
            Some("gating") => Self::Gating,
            Some("shrunk") => match (number("min"), number("max"), number("desired")) {
                (Some(min), Some(max), Some(desired)) => {
                    Self::Shrunk(FullSizes { min, max, desired })
                }
                _ => Self::Serving,
            },
            Some("parked") => field("until")
                .and_then(|t| DateTime::from_str(t, Format::DateTime).ok())
                .and_then(|t| SystemTime::try_from(t).ok())
                // A parked generation whose window cannot be read has no window left.
                .map_or(
                    Self::Parked {
                        until: SystemTime::UNIX_EPOCH,
                    },
                    |until| Self::Parked { until },
                ),
            _ => Self::Serving,
        }
    }

    /// Whether the generation takes traffic as the fleet (not gating, not parked).
    pub fn is_serving(self) -> bool {
        matches!(self, Self::Serving | Self::Shrunk(_))
    }

    /// Whether the generation is parked with its window still open at `now`.
    pub fn parked_at(self, now: SystemTime) -> bool {
        matches!(self, Self::Parked { until } if until > now)
    }

    /// Whether the generation is parked and its window has ended at `now`.
    pub fn expired_at(self, now: SystemTime) -> bool {
        matches!(self, Self::Parked { until } if until <= now)
    }
}

/// An existing generation of a fleet, found by its tags.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_field_names,
    reason = "`generation.generation` is the generation number"
)]
pub struct Generation {
    pub name: String,
    pub generation: i64,
    /// The group's sizes when it was listed.
    pub sizes: FullSizes,
    pub fingerprint: Option<String>,
    pub rollout: Rollout,
    pub launch_template_id: Option<String>,
    /// Keys of the user's tags on the group (not the provider's, not AWS's), plus the
    /// health-check tag: what an adoption may have to remove.
    pub user_tag_keys: Vec<String>,
}

/// A launch template of the fleet whose generation has no Auto Scaling group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanTemplate {
    pub id: String,
    pub name: String,
}

/// All that exists of a fleet in AWS.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Generations with an ASG, oldest first.
    pub generations: Vec<Generation>,
    /// Launch templates whose generation has no ASG: leftovers of a create that died between
    /// the two calls, or of a group deleted by hand.
    pub orphan_templates: Vec<OrphanTemplate>,
    /// The highest generation number in use, also by groups being deleted.
    pub newest: i64,
}

pub fn tag_value<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
) -> Option<&'a str> {
    tags.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn template_tags(lt: &LaunchTemplate) -> impl Iterator<Item = (&str, &str)> {
    lt.tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))
}

impl Inventory {
    /// Sorts `groups` and `templates` (any set that holds at least everything tagged as
    /// `fleet`) into generations and leftovers.
    pub fn from_parts(
        fleet: &str,
        groups: &[AutoScalingGroup],
        templates: &[LaunchTemplate],
    ) -> Self {
        let mut found = Self::default();
        for asg in groups {
            if tag_value(group_tags(asg), TAG_FLEET) != Some(fleet) {
                continue;
            }
            let Some(generation) =
                tag_value(group_tags(asg), TAG_GENERATION).and_then(|g| g.parse().ok())
            else {
                continue;
            };
            found.newest = found.newest.max(generation);
            if !is_live(asg) {
                continue;
            }
            found.generations.push(Generation {
                name: asg.auto_scaling_group_name().unwrap_or_default().to_owned(),
                generation,
                sizes: FullSizes {
                    min: asg.min_size().unwrap_or(0),
                    max: asg.max_size().unwrap_or(0),
                    desired: asg.desired_capacity().unwrap_or(0),
                },
                fingerprint: tag_value(group_tags(asg), TAG_FINGERPRINT).map(str::to_owned),
                rollout: Rollout::parse(tag_value(group_tags(asg), Rollout::TAG)),
                launch_template_id: launch_template_id(asg).map(str::to_owned),
                user_tag_keys: group_tags(asg)
                    .map(|(k, _)| k)
                    .filter(|k| {
                        *k == TAG_HEALTH_CHECK
                            || !(k.starts_with("immutable:") || k.starts_with("aws:"))
                    })
                    .map(str::to_owned)
                    .collect(),
            });
        }
        found.generations.sort_by_key(|g| g.generation);
        for lt in templates {
            if tag_value(template_tags(lt), TAG_FLEET) != Some(fleet) {
                continue;
            }
            let Some(generation) =
                tag_value(template_tags(lt), TAG_GENERATION).and_then(|g| g.parse::<i64>().ok())
            else {
                continue;
            };
            found.newest = found.newest.max(generation);
            let id = lt.launch_template_id().unwrap_or_default();
            let used = found
                .generations
                .iter()
                .any(|g| g.generation == generation || g.launch_template_id.as_deref() == Some(id));
            if !used && !id.is_empty() {
                found.orphan_templates.push(OrphanTemplate {
                    id: id.to_owned(),
                    name: lt.launch_template_name().unwrap_or(id).to_owned(),
                });
            }
        }
        found
    }

    /// What a refresh of the generation `current` reports: leftovers of interrupted rollouts
    /// (the next apply removes them) and other serving generations of the same fleet name.
    pub fn survey(&self, current: &str, current_template: Option<&str>) -> Survey {
        let now = SystemTime::now();
        let leftovers = self
            .generations
            .iter()
            .filter(|g| {
                (g.rollout == Rollout::Gating || g.rollout.expired_at(now)) && g.name != current
            })
            .map(|g| g.name.clone())
            .chain(
                self.orphan_templates
                    .iter()
                    .filter(|t| Some(t.id.as_str()) != current_template)
                    .map(|t| t.name.clone()),
            )
            .collect();
        let others_serving = self
            .generations
            .iter()
            .filter(|g| g.rollout.is_serving() && g.name != current)
            .cloned()
            .collect();
        Survey {
            leftovers,
            others_serving,
        }
    }

    /// The newest serving generation, the one a fleet's state should hold.
    pub fn newest_serving(&self) -> Option<&Generation> {
        self.generations
            .iter()
            .rev()
            .find(|g| g.rollout.is_serving())
    }
}

/// A refresh's view of a fleet beyond its current generation.
#[derive(Debug, Default)]
pub struct Survey {
    /// Names of gating groups, parked groups past their window and orphaned launch
    /// templates: none serves, so all are safe to remove.
    pub leftovers: Vec<String>,
    /// Other generations that passed their gate and may be serving traffic.
    pub others_serving: Vec<Generation>,
}

/// Finds every generation of `fleet` by its tags with direct reads: ASGs and launch templates.
pub async fn inventory(clients: &AwsClients, fleet: &str) -> Result<Inventory, AwsError> {
    let groups: Vec<AutoScalingGroup> = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .filters(
            AsgFilter::builder()
                .name(format!("tag:{TAG_FLEET}"))
                .values(fleet)
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws_err("DescribeAutoScalingGroups"))?;
    let templates: Vec<LaunchTemplate> = clients
        .ec2
        .describe_launch_templates()
        .filters(
            Ec2Filter::builder()
                .name(format!("tag:{TAG_FLEET}"))
                .values(fleet)
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws_err("DescribeLaunchTemplates"))?;
    Ok(Inventory::from_parts(fleet, &groups, &templates))
}

/// [`inventory`] for refreshes: answered from the process's snapshots of every fleet's groups
/// and launch templates when both are complete and current (no call of its own), else read
/// directly.
pub async fn inventory_for_refresh(
    clients: &AwsClients,
    fleet: &str,
) -> Result<Inventory, AwsError> {
    if let Some(groups) = clients.groups.tagged(fleet).await
        && let Some(templates) = clients.templates.tagged().await
    {
        return Ok(Inventory::from_parts(fleet, &groups, &templates));
    }
    inventory(clients, fleet).await
}

#[cfg(test)]
mod tests {
    use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, TagDescription};
    use aws_sdk_ec2::types::Tag as Ec2Tag;

    use super::*;

    fn group(
        name: &str,
        fleet: &str,
        generation: i64,
        state: &str,
        template: &str,
    ) -> AutoScalingGroup {
        let tag = |k: &str, v: &str| TagDescription::builder().key(k).value(v).build();
        AutoScalingGroup::builder()
            .auto_scaling_group_name(name)
            .desired_capacity(2)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(template)
                    .version("1")
                    .build(),
            )
            .tags(tag(TAG_FLEET, fleet))
            .tags(tag(TAG_GENERATION, &generation.to_string()))
            .tags(tag(Rollout::TAG, state))
            .tags(tag("team", "web"))
            .build()
    }

    fn template(id: &str, name: &str, fleet: &str, generation: i64) -> LaunchTemplate {
        let tag = |k: &str, v: &str| Ec2Tag::builder().key(k).value(v).build();
        LaunchTemplate::builder()
            .launch_template_id(id)
            .launch_template_name(name)
            .tags(tag(TAG_FLEET, fleet))
            .tags(tag(TAG_GENERATION, &generation.to_string()))
            .build()
    }

    #[test]
    fn a_refresh_reports_gating_groups_and_orphan_templates_as_leftovers() {
        let groups = [
            group("web-g2", "web", 2, "serving", "lt-2"),
            group("web-g3", "web", 3, "gating", "lt-3"),
            group("api-g1", "api", 1, "gating", "lt-a"),
        ];
        let templates = [
            template("lt-2", "web-g2", "web", 2),
            template("lt-3", "web-g3", "web", 3),
            template("lt-4", "web-g4", "web", 4),
            template("lt-a", "api-g1", "api", 1),
        ];
        let found = Inventory::from_parts("web", &groups, &templates);
        assert_eq!(found.newest, 4);
        let survey = found.survey("web-g2", Some("lt-2"));
        assert_eq!(survey.leftovers, ["web-g3", "web-g4"]);
        assert!(survey.others_serving.is_empty());
        assert_eq!(found.generations[0].user_tag_keys, ["team"]);
    }

    #[test]
    fn a_refresh_reports_other_serving_generations_but_never_as_leftovers() {
        let groups = [
            group("web-g1", "web", 1, "serving", "lt-1"),
            group("web-g2", "web", 2, "serving", "lt-2"),
        ];
        let found = Inventory::from_parts("web", &groups, &[]);
        let survey = found.survey("web-g2", Some("lt-2"));
        assert!(survey.leftovers.is_empty());
        assert_eq!(survey.others_serving.len(), 1);
        assert_eq!(survey.others_serving[0].name, "web-g1");
        assert_eq!(
            found.newest_serving().map(|g| g.name.as_str()),
            Some("web-g2")
        );
    }

    #[test]
    fn rollout_states_round_trip_through_their_tag() {
        let until = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_000_000);
        let states = [
            Rollout::Gating,
            Rollout::Serving,
            Rollout::Shrunk(FullSizes {
                min: 2,
                max: 8,
                desired: 4,
            }),
            Rollout::Parked { until },
        ];
        for state in states {
            assert_eq!(
                Rollout::parse(Some(&state.tag_value())),
                state,
                "{}",
                state.tag_value()
            );
        }
        assert_eq!(
            Rollout::Parked { until }.tag_value(),
            "parked until=2026-11-30T00:53:20Z"
        );
        // What this version cannot read is never taken for a leftover.
        assert_eq!(Rollout::parse(None), Rollout::Serving);
        assert_eq!(Rollout::parse(Some("shrunk min=2")), Rollout::Serving);
        assert_eq!(Rollout::parse(Some("retired")), Rollout::Serving);
        assert!(Rollout::parse(Some("parked until=soon")).expired_at(SystemTime::now()));
    }

    #[test]
    fn a_refresh_reports_parked_generations_past_their_window_as_leftovers() {
        let mut groups = vec![
            group(
                "web-g1",
                "web",
                1,
                "parked until=2020-01-01T00:00:00Z",
                "lt-1",
            ),
            group(
                "web-g2",
                "web",
                2,
                "parked until=2999-01-01T00:00:00Z",
                "lt-2",
            ),
            group("web-g3", "web", 3, "serving", "lt-3"),
        ];
        let found = Inventory::from_parts("web", &groups, &[]);
        let survey = found.survey("web-g3", Some("lt-3"));
        assert_eq!(survey.leftovers, ["web-g1"]);
        assert!(survey.others_serving.is_empty());
        groups.truncate(2);
        assert!(
            Inventory::from_parts("web", &groups, &[])
                .newest_serving()
                .is_none()
        );
    }
}
