//! Paths into a value, used to say where a codec error happened and, by the provider, where a
//! diagnostic points.

use std::fmt;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or block type) by name.
    Attribute(String),
    /// A map element by key.
    Key(String),
    /// A list, set or tuple element by position.
    Index(i64),
}

/// A path from the root of a value; the root itself is the empty path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    #[must_use]
    pub fn attr(&self, name: &str) -> Path {
        self.with(PathStep::Attribute(name.to_owned()))
    }

    #[must_use]
    pub fn key(&self, k: &str) -> Path {
        self.with(PathStep::Key(k.to_owned()))
    }

    #[must_use]
    pub fn index(&self, i: i64) -> Path {
        self.with(PathStep::Index(i))
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path without its last step (`None` at the root).
    pub fn parent(&self) -> Option<Path> {
        let (_, init) = self.0.split_last()?;
        Some(Path(init.to_vec()))
    }

    fn with(&self, step: PathStep) -> Path {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        Path(steps)
    }
}

impl From<Vec<PathStep>> for Path {
    fn from(steps: Vec<PathStep>) -> Self {
        Path(steps)
    }
}

/// `health_check.timeout`, `tags["env"]`, `subnet_ids[0]`; the root is the empty string.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_terraform_addresses() {
        assert_eq!(Path::root().to_string(), "");
        assert_eq!(
            Path::root()
                .attr("health_check")
                .attr("timeout")
                .to_string(),
            "health_check.timeout"
        );
        assert_eq!(
            Path::root().attr("tags").key("env").to_string(),
            r#"tags["env"]"#
        );
        assert_eq!(
            Path::root().attr("subnet_ids").index(0).to_string(),
            "subnet_ids[0]"
        );
        assert_eq!(Path::root().index(2).attr("a").to_string(), "[2].a");
        assert_eq!(
            Path::root().attr("m").key("a\"b").to_string(),
            r#"m["a\"b"]"#
        );
    }

    #[test]
    fn builders_do_not_mutate() {
        let base = Path::root().attr("a");
        let child = base.index(3);
        assert_eq!(base.steps(), &[PathStep::Attribute("a".into())]);
        assert_eq!(child.steps().len(), 2);
        assert_eq!(child.parent(), Some(base));
        assert_eq!(Path::root().parent(), None);
    }
}
