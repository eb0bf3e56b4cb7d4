//! Fan-out: one task run once per profile, each candidate its own task
//! (own worktree, branch, attempts and gate), compared in review, one picked.
