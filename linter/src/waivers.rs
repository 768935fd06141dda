//! Waivers at work: which finding a config waiver or an inline ignore suppresses, and what
//! became of each waiver after the run.

use std::collections::HashMap;

use time::Date;

use crate::config::Config;
use crate::finding::{Finding, Suppression, SuppressionKind};
use crate::report::{WaiverState, WaiverStatus};
use crate::source::SourceMap;

/// The waivers of one configuration, counting what each suppresses.
pub(crate) struct Waivers<'a> {
    config: &'a Config,
    today: Date,
    /// Findings suppressed by each of `config.waivers`.
    config_uses: Vec<usize>,
    /// Findings suppressed by each inline ignore, by origin.
    inline_uses: HashMap<String, usize>,
}

impl<'a> Waivers<'a> {
    pub(crate) fn new(config: &'a Config, today: Date) -> Self {
        Self {
            config,
            today,
            config_uses: vec![0; config.waivers.len()],
            inline_uses: HashMap::new(),
        }
    }

    /// The waiver that suppresses `finding`, if any: config waivers first, then the inline
    /// ignores of `source`.
    pub(crate) fn suppression(
        &mut self,
        finding: &Finding,
        source: Option<&SourceMap>,
    ) -> Option<Suppression> {
        for (i, w) in self.config.waivers.iter().enumerate() {
            if w.rule.code == finding.rule.code
                && !w.is_expired(self.today)
                && w.matches(&finding.address, &finding.config_address)
            {
                self.config_uses[i] += 1;
                return Some(Suppression {
                    reason: w.reason.clone(),
                    origin: w.origin.clone(),
                    kind: SuppressionKind::Config,
                });
            }
        }
        let ignore = source?
            .ignores_for(&finding.config_address)
            .into_iter()
            .find(|i| i.problem().is_none() && i.covers(finding.rule))?;
        *self.inline_uses.entry(ignore.origin()).or_default() += 1;
        Some(Suppression {
            reason: ignore.reason.clone(),
            origin: ignore.origin(),
            kind: SuppressionKind::Inline,
        })
    }

    /// Every waiver's state: the config waivers, then the inline ignores of `sources`.
    pub(crate) fn settle<'s>(
        &self,
        sources: impl Iterator<Item = &'s SourceMap>,
    ) -> Vec<WaiverStatus> {
        let mut out = Vec::new();
        for (i, w) in self.config.waivers.iter().enumerate() {
            let state = if w.is_expired(self.today) {
                WaiverState::Expired
            } else if self.config_uses[i] > 0 {
                WaiverState::Applied(self.config_uses[i])
            } else {
                WaiverState::Unused
            };
            out.push(WaiverStatus {
                kind: SuppressionKind::Config,
                rules: vec![w.rule.code.to_owned()],
                address: Some(w.address.clone()),
                reason: w.reason.clone(),
                expires: w.expires,
                origin: w.origin.clone(),
                state,
            });
        }
        for source in sources {
            for ignore in source.all_ignores() {
                let uses = self.inline_uses.get(&ignore.origin()).copied().unwrap_or(0);
                let state = match ignore.problem() {
                    Some(problem) => WaiverState::Invalid(problem),
                    None if uses > 0 => WaiverState::Applied(uses),
                    None => WaiverState::Unused,
                };
                out.push(WaiverStatus {
                    kind: SuppressionKind::Inline,
                    rules: ignore.rules.clone(),
                    address: None,
                    reason: ignore.reason.clone(),
                    expires: None,
                    origin: ignore.origin(),
                    state,
                });
            }
        }
        out
    }
}
