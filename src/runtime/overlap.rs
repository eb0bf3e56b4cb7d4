//! Live overlaps between running members of one group: the worktrees of
//! running members are watched with `notify` (each directory that is not
//! `.git` or git-ignored, so build directories cost nothing; new
//! directories are added as they appear); the paths an event names are
//! checked against the worktree's index with git2 (those paths only) to
//! keep each member's changed files; when two running members of a group
//! have changed the same file, `Report::Overlap` goes to the engine (both
//! tasks' `overlaps`, `Event::Overlap`). No polling: the watcher task
//! sleeps until a change or a watch request arrives.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use notify::Watcher;
use tokio::sync::mpsc;

use super::Msg;
use super::engine::Engine;
use crate::core::{Report, Status, TaskId};

/// Most directories watched per worktree; beyond it a warning, and the
/// rest of the tree is not watched.
const MAX_DIRS: usize = 5_000;

/// The engine's side: which attempts are watched, and the watcher task.
#[derive(Default)]
pub(crate) struct Watches {
    /// (task, attempt) of each watched running member.
    watched: HashMap<TaskId, u32>,
    control: Option<mpsc::UnboundedSender<Control>>,
}

enum Control {
    Watch {
        task: TaskId,
        group: String,
        worktree: PathBuf,
    },
    Unwatch {
        task: TaskId,
    },
}

/// A watched member, in the watcher task.
struct Member {
    group: String,
    worktree: PathBuf,
    repo: Option<git2::Repository>,
    changed: BTreeSet<String>,
    dirs: Vec<PathBuf>,
}

impl Engine {
    /// Watches the worktree of every running member of a group and stops
    /// watching the others. Called after each batch of effects.
    pub(super) fn sync_overlap_watches(&mut self) {
        let running: HashMap<TaskId, (u32, String)> = self
            .scheduler
            .tasks()
            .iter()
            .filter_map(|t| match (&t.status, &t.spec.group) {
                (Status::Running { attempt } | Status::Paused { attempt }, Some(g)) => {
                    Some((t.spec.id.clone(), (*attempt, g.clone())))
                }
                _ => None,
            })
            .collect();
        let w = &mut self.overlap_watches;
        if running.is_empty() && w.watched.is_empty() {
            return;
        }
        let gone: Vec<TaskId> = w
            .watched
            .iter()
            .filter(|(t, a)| running.get(*t).map(|(n, _)| n) != Some(*a))
            .map(|(t, _)| t.clone())
            .collect();
        for task in gone {
            w.watched.remove(&task);
            if let Some(c) = &w.control {
                let _ = c.send(Control::Unwatch { task });
            }
        }
        for (task, (attempt, group)) in running {
            if w.watched.get(&task) == Some(&attempt) {
                continue;
            }
            if w.control.is_none() {
                let Ok(handle) = tokio::runtime::Handle::try_current() else {
                    return; // no runtime (an engine opened only to read)
                };
                let (tx, rx) = mpsc::unbounded_channel();
                handle.spawn(watch_task(rx, self.tx.clone()));
                w.control = Some(tx);
            }
            let worktree = crate::git::worktree_path(&self.root, task.as_str());
            w.watched.insert(task.clone(), attempt);
            if let Some(c) = &w.control {
                let _ = c.send(Control::Watch {
                    task,
                    group,
                    worktree,
                });
            }
        }
    }
}

/// The watcher task: owns the notify watcher and the members' changed
/// files; ends when the engine drops its side.
async fn watch_task(
    mut control: mpsc::UnboundedReceiver<Control>,
    engine: mpsc::UnboundedSender<Msg>,
) {
    let (fs_tx, mut fs) = mpsc::unbounded_channel::<notify::Event>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let _ = fs_tx.send(event);
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch worktrees for overlaps: {e}");
            return;
        }
    };
    let mut members: HashMap<TaskId, Member> = HashMap::new();
    let mut parents: BTreeSet<PathBuf> = BTreeSet::new();
    loop {
        tokio::select! {
            c = control.recv() => match c {
                None => return,
                Some(Control::Watch { task, group, worktree }) => {
                    if let Some(old) = members.remove(&task) {
                        unwatch(&mut watcher, &old);
                    }
                    let mut m = Member {
                        group,
                        repo: git2::Repository::open(&worktree).ok(),
                        worktree,
                        changed: BTreeSet::new(),
                        dirs: Vec::new(),
                    };
                    if m.worktree.is_dir() {
                        watch_tree(&mut watcher, &mut m, None);
                    } else if let Some(parent) = m.worktree.parent()
                        && !parents.contains(parent)
                    {
                        // Made by the attempt's preparing step: watched when it appears.
                        match watcher.watch(parent, notify::RecursiveMode::NonRecursive) {
                            Ok(()) => {
                                parents.insert(parent.to_path_buf());
                            }
                            Err(e) => tracing::warn!("cannot watch {} for overlaps: {e}", parent.display()),
                        }
                    }
                    if m.dirs.is_empty() && m.worktree.is_dir() {
                        watch_tree(&mut watcher, &mut m, None); // it appeared meanwhile
                    }
                    members.insert(task, m);
                }
                Some(Control::Unwatch { task }) => {
                    if let Some(old) = members.remove(&task) {
                        unwatch(&mut watcher, &old);
                    }
                }
            },
            Some(event) = fs.recv() => {
                for m in members.values_mut() {
                    if m.dirs.is_empty() && m.worktree.is_dir() {
                        watch_tree(&mut watcher, m, None);
                    }
                }
                for path in event.paths {
                    changed(&mut watcher, &mut members, &path, &engine);
                }
            }
        }
    }
}

fn unwatch(watcher: &mut notify::RecommendedWatcher, m: &Member) {
    for d in &m.dirs {
        let _ = watcher.unwatch(d);
    }
}

/// Watches `from` (default: the worktree) and every directory under it
/// that is not `.git` or git-ignored, up to [`MAX_DIRS`] per member.
fn watch_tree(watcher: &mut notify::RecommendedWatcher, m: &mut Member, from: Option<&Path>) {
    let mut stack = vec![from.unwrap_or(&m.worktree).to_path_buf()];
    while let Some(dir) = stack.pop() {
        if m.dirs.len() >= MAX_DIRS {
            tracing::warn!(
                "{}: more than {MAX_DIRS} directories, the rest is not watched for overlaps",
                m.worktree.display()
            );
            return;
        }
        if let Err(e) = watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
            tracing::warn!("cannot watch {} for overlaps: {e}", dir.display());
            continue;
        }
        m.dirs.push(dir.clone());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !skipped(m, &path) {
                stack.push(path);
            }
        }
    }
}

/// `.git`, or a path git ignores in the member's worktree.
fn skipped(m: &Member, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(&m.worktree) else {
        return true;
    };
    if rel
        .components()
        .next()
        .is_some_and(|c| c.as_os_str() == ".git")
    {
        return true;
    }
    m.repo
        .as_ref()
        .is_some_and(|r| r.is_path_ignored(rel).unwrap_or(false))
}

/// A change at `path`: the member it is in updates its changed files;
/// a file another running member of its group changed too is an overlap.
fn changed(
    watcher: &mut notify::RecommendedWatcher,
    members: &mut HashMap<TaskId, Member>,
    path: &Path,
    engine: &mpsc::UnboundedSender<Msg>,
) {
    let Some((task, m)) = members
        .iter_mut()
        .find(|(_, m)| path.starts_with(&m.worktree))
    else {
        return;
    };
    if skipped(m, path) {
        return;
    }
    if path.is_dir() {
        if !m.dirs.iter().any(|d| d == path) {
            watch_tree(watcher, m, Some(path));
        }
        return;
    }
    let Ok(rel) = path.strip_prefix(&m.worktree) else {
        return;
    };
    if m.repo.is_none() {
        m.repo = git2::Repository::open(&m.worktree).ok();
    }
    let Some(repo) = m.repo.as_ref() else {
        return;
    };
    if !repo.path().join(crate::git::READY_FILE).is_file() {
        // Still being checked out by the attempt's preparing step: every
        // file looks new until the index is written.
        return;
    }
    let file = rel.to_string_lossy().into_owned();
    let differs = match repo.status_file(rel) {
        Ok(s) => !(s.is_empty() || s.contains(git2::Status::IGNORED)),
        Err(_) => false,
    };
    if !differs {
        m.changed.remove(&file);
        return;
    }
    if !m.changed.insert(file.clone()) {
        return; // known already
    }
    let (task, group) = (task.clone(), m.group.clone());
    for (other, o) in members.iter() {
        if *other == task || o.group != group || !o.changed.contains(&file) {
            continue;
        }
        let report = Report::Overlap {
            task: task.clone(),
            other: other.clone(),
            file: file.clone(),
        };
        let _ = engine.send(Msg::Report(report));
    }
}
