//! `[roles.NAME]`: the built-in roles (`core::team::roles`) overridden
//! field by field, and roles the file adds; the extra arguments a role's
//! tasks get on their profile's command line (its own `args`, and its
//! `permission_mode` and `allowed_tools` as the format's flags).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::supervisor::Located;
use crate::agent::Format;
use crate::core::team::roles::{self, Role};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRole {
    #[serde(default)]
    preamble: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    permission_mode: Option<String>,
    #[serde(default)]
    allowed_tools: Option<Vec<String>>,
    #[serde(default)]
    verify: Option<Vec<String>>,
    #[serde(default)]
    may_change_files: Option<bool>,
}

/// The roles: every built-in one, with the file's overrides, then the
/// file's own. A new role needs a preamble; a role's `agent` must be a
/// profile.
pub(super) fn parse<A>(
    raw: BTreeMap<String, Spanned<RawRole>>,
    agents: &BTreeMap<String, A>,
    problems: &mut Vec<Located>,
) -> BTreeMap<String, Role> {
    let mut out: BTreeMap<String, Role> = roles::built_ins()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    for (name, spanned) in raw {
        let span = spanned.span();
        let r = spanned.into_inner();
        let mut complain =
            |m: String| problems.push((Some(span.clone()), format!("[roles.{name}] {m}")));
        let mut role = match roles::built_in(&name) {
            Some(role) => role,
            None => {
                if r.preamble.as_deref().is_none_or(|p| p.trim().is_empty()) {
                    complain(format!(
                        "is not a built-in role ({}): give it a preamble",
                        roles::BUILT_IN.join(", ")
                    ));
                }
                Role {
                    name: name.clone(),
                    preamble: String::new(),
                    agent: None,
                    args: Vec::new(),
                    permission_mode: None,
                    allowed_tools: Vec::new(),
                    verify: None,
                    may_change_files: true,
                }
            }
        };
        if let Some(agent) = &r.agent
            && !agents.contains_key(agent)
        {
            let known: Vec<&str> = agents.keys().map(String::as_str).collect();
            complain(format!(
                "agent `{agent}` is not a profile (known: {})",
                known.join(", ")
            ));
        }
        if r.permission_mode
            .as_deref()
            .is_some_and(|m| m.trim().is_empty())
        {
            complain("permission_mode is empty: name the mode, e.g. \"acceptEdits\"".into());
        }
        if let Some(p) = r.preamble {
            role.preamble = p;
        }
        role.agent = r.agent.or(role.agent);
        role.args = r.args.unwrap_or(role.args);
        role.permission_mode = r.permission_mode.or(role.permission_mode);
        role.allowed_tools = r.allowed_tools.unwrap_or(role.allowed_tools);
        role.verify = r.verify.or(role.verify);
        role.may_change_files = r.may_change_files.unwrap_or(role.may_change_files);
        out.insert(name, role);
    }
    out
}

/// The arguments appended to a profile of `format` (named `profile`) for
/// a task of `role`: the role's `args`, then its permission mode and
/// allowed tools as the format's flags. An error when the format has no
/// such flag.
pub fn role_args(role: &Role, format: Format, profile: &str) -> Result<Vec<String>, String> {
    let mut out = role.args.clone();
    let missing = |key: &str| {
        format!(
            "[roles.{}] {key} cannot be given to profile `{profile}`: its format `{format}` has no such option (only claude has; remove it or pass the CLI's own option in args)",
            role.name
        )
    };
    if let Some(mode) = &role.permission_mode {
        match format {
            Format::Claude => out.extend(["--permission-mode".to_owned(), mode.clone()]),
            _ => return Err(missing("permission_mode")),
        }
    }
    if !role.allowed_tools.is_empty() {
        match format {
            Format::Claude => {
                out.extend(["--allowedTools".to_owned(), role.allowed_tools.join(",")])
            }
            _ => return Err(missing("allowed_tools")),
        }
    }
    Ok(out)
}

impl super::Config {
    /// The role of a task, when it names one that is defined.
    pub fn role(&self, spec: &crate::core::TaskSpec) -> Option<&Role> {
        self.roles.get(spec.role.as_deref()?)
    }

    /// The extra arguments of a task's role for profile `agent`; a role
    /// whose permission flags the profile's format lacks adds only its
    /// own `args` (fleet.toml's tasks were checked when it was loaded).
    pub fn role_args(&self, spec: &crate::core::TaskSpec, agent: &str) -> Vec<String> {
        let (Some(role), Some(profile)) = (self.role(spec), self.agents.get(agent)) else {
            return Vec::new();
        };
        role_args(role, profile.format, agent).unwrap_or_else(|_| role.args.clone())
    }
}

/// The error for a task naming a role that is not defined.
pub(super) fn unknown_role(task: &str, role: &str, roles: &BTreeMap<String, Role>) -> String {
    let known: Vec<&str> = roles.keys().map(String::as_str).collect();
    format!(
        "task `{task}` has role `{role}`, which is not a role (known: {}); add [roles.{role}] with a preamble",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tester() -> Role {
        roles::built_in("tester").unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn claude_gets_the_permission_flags_after_the_roles_args() {
        let role = Role {
            args: vec!["--model".into(), "haiku".into()],
            permission_mode: Some("plan".into()),
            allowed_tools: vec!["Read".into(), "Bash(cargo test:*)".into()],
            ..tester()
        };
        assert_eq!(
            role_args(&role, Format::Claude, "claude").unwrap(),
            [
                "--model",
                "haiku",
                "--permission-mode",
                "plan",
                "--allowedTools",
                "Read,Bash(cargo test:*)"
            ]
        );
    }

    #[test]
    fn a_format_without_the_flag_is_an_error_naming_profile_and_role() {
        let role = Role {
            permission_mode: Some("plan".into()),
            ..tester()
        };
        let e = role_args(&role, Format::Codex, "codex").unwrap_err();
        assert!(e.starts_with("[roles.tester] permission_mode cannot be given to profile `codex`: its format `codex`"), "{e}");
        let role = Role {
            allowed_tools: vec!["Read".into()],
            ..tester()
        };
        let e = role_args(&role, Format::Text, "sim").unwrap_err();
        assert!(
            e.contains("allowed_tools cannot be given to profile `sim`"),
            "{e}"
        );
        assert!(
            role_args(&tester(), Format::Text, "sim")
                .unwrap()
                .is_empty()
        );
    }
}
