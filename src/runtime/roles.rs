//! A task's role at the start of an attempt: its preamble opens the new
//! session's prompt (a resumed session gets only its new instructions),
//! and its extra arguments (`args`, permission mode, allowed tools as the
//! format's flags) go on the profile's command line.

use super::engine::Engine;
use crate::config::AgentProfile;
use crate::core::StartRequest;
use crate::core::team::roles::with_role;

impl Engine {
    /// Applies the role of `request`'s task to its prompt and `profile`.
    pub(super) fn apply_role(&self, request: &mut StartRequest, profile: &mut AgentProfile) {
        let Some(task) = self.scheduler.task(request.task.as_str()) else {
            return;
        };
        let Some(role) = self.config.role(&task.spec) else {
            return;
        };
        let extra = self.config.role_args(&task.spec, &request.agent);
        profile.command.extend(extra.iter().cloned());
        if let Some(argv) = &mut profile.resume_command {
            argv.extend(extra);
        }
        request.prompt = with_role(Some(role), &request.prompt);
    }
}
