//! Plan modifiers: per-attribute rules applied while planning.

/// What an attribute asks of the planner beyond the defaults of `required/optional/computed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanModifier {
    /// A planned change to the attribute replaces the resource instead of updating it.
    RequiresReplace,
    /// A computed attribute keeps its prior value on update instead of becoming
    /// "known after apply" (only when the configuration does not set it to an unknown).
    UseStateForUnknown,
}

impl PlanModifier {
    /// Markdown for the generated documentation.
    pub fn description(self) -> &'static str {
        match self {
            Self::RequiresReplace => "Changing this value forces a replacement.",
            Self::UseStateForUnknown => "Keeps its value across updates that do not change it.",
        }
    }
}
