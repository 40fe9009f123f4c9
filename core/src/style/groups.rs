//! Module groups: what a style vector may touch, by name. The names are the backbone's own
//! ([`crate::model::Backbone::groups`]; VITS has `enc_p`, `enc_p.early`, `enc_p.late`, `dp`,
//! `flow`, `dec`, `emb_g`). A vector's metadata (or the preset using it) lists its groups;
//! applying it never touches a parameter or hidden state outside them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::model::Backbone;

/// The name of a group of a backbone's parameters (checked against a voice when used).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group(String);

impl Group {
    /// The group `name` (`dec`, `enc_p.late`).
    pub fn new(name: impl Into<String>) -> Self {
        Group(name.into())
    }

    /// The name used in files and on the command line.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Parses a comma-separated list (`"enc_p.late,flow"`); empty is an error.
    pub fn parse_list(s: &str) -> Result<Vec<Group>> {
        let groups = s.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::parse).collect::<Result<Vec<_>>>()?;
        if groups.is_empty() {
            return Err(Error::invalid("module groups", format!("`{s}`: none given")));
        }
        Ok(groups)
    }

    /// `groups` as a comma-separated list.
    pub fn list(groups: &[Group]) -> String {
        groups.iter().map(|g| g.name()).collect::<Vec<_>>().join(",")
    }

    /// Checks that `model` has every group of `groups`; the error names the groups it has.
    pub fn check_all(groups: &[Group], model: &dyn Backbone) -> Result<()> {
        match groups.iter().find(|g| model.group(g.name()).is_none()) {
            None => Ok(()),
            Some(bad) => {
                let known: Vec<&str> = model.groups().iter().map(|g| g.name.as_str()).collect();
                Err(Error::invalid("module group", format!("`{bad}` (known: {})", known.join(", "))))
            }
        }
    }

    /// Whether parameter `path` is in any of `groups` of `model`.
    pub fn any_contains(groups: &[Group], model: &dyn Backbone, path: &str) -> bool {
        groups.iter().any(|g| model.group(g.name()).is_some_and(|def| def.params.contains(path)))
    }
}

impl FromStr for Group {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !ok {
            return Err(Error::invalid("module group", format!("`{s}` (names are letters, digits, `_` and `.`)")));
        }
        Ok(Group(s.to_string()))
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_bad_names_are_refused() {
        assert_eq!(Group::parse_list("enc_p.late, flow").unwrap(), [Group::new("enc_p.late"), Group::new("flow")]);
        assert!(Group::parse_list(" ,").is_err());
        assert!(Group::parse_list("de c").is_err());
    }
}
