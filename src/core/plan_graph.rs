//! The plan diff and the task graph drawn as plain text lines, for the CLI
//! and the cockpit alike: readable at 80x24, long values cut with `…`, a
//! huge graph summarized, and a cycle named rather than followed.

use std::collections::{HashMap, HashSet};

use super::fleet::Task;
use super::plan::{cycle_text, deps_first, find_cycles};
use super::plan_diff::{ChangeKind, PlanDiff};
use super::task::{TaskId, TaskSpec};

/// `s` on one line (line breaks and tabs become spaces), at most `width`
/// characters: a longer value ends with `…`.
pub fn cut(s: &str, width: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= width {
        return flat;
    }
    let mut out: String = flat.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` broken at spaces into lines of at most `width` characters, each
/// after `indent` (a word longer than a line is cut).
fn wrap(text: &str, indent: &str, width: usize) -> Vec<String> {
    let room = width.saturating_sub(indent.chars().count()).max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > room {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&cut(word, room));
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines
}

/// The diff as text: a summary line, then one line per change (`+ add`,
/// `~ edit`, `- drop`) in change order, an edit's fields as `old → new`
/// under it, refusals and cycles in words.
pub fn render_diff(diff: &PlanDiff, width: usize) -> Vec<String> {
    let (added, dropped, edited) = diff.counts();
    let actions = match diff.actions() {
        0 => String::new(),
        1 => ", 1 action".to_owned(),
        n => format!(", {n} actions"),
    };
    let mut lines = vec![cut(
        &format!(
            "plan diff: {added} added, {edited} changed, {dropped} removed, {} unchanged{actions}",
            diff.unchanged
        ),
        width,
    )];
    for change in &diff.changes {
        match &change.kind {
            ChangeKind::Add { spec } => {
                let deps = if spec.deps.is_empty() {
                    String::new()
                } else {
                    format!(" ← {}", join(&spec.deps))
                };
                lines.push(cut(
                    &format!("+ add  {}: {}{deps}", spec.id, spec.title),
                    width,
                ));
            }
            ChangeKind::Drop {
                task,
                title,
                discards,
                ..
            } => {
                let note = discards.map_or(String::new(), |d| format!(" ({d})"));
                lines.push(cut(&format!("- drop {task}: {title}{note}"), width));
            }
            ChangeKind::Action { action } => {
                let what = match &action.message {
                    Some(m) => format!(": {}", flat(m)),
                    None => String::new(),
                };
                lines.push(cut(
                    &format!("! {} {}{what}", action.kind.name(), action.task),
                    width,
                ));
            }
            ChangeKind::Edit {
                task,
                fields,
                deps_added,
                deps_removed,
                ..
            } => {
                let mut what: Vec<String> = fields.iter().map(|f| f.field.to_owned()).collect();
                if !deps_added.is_empty() || !deps_removed.is_empty() {
                    let mut deps = String::from("deps");
                    for d in deps_added {
                        deps.push_str(&format!(" +{d}"));
                    }
                    for d in deps_removed {
                        deps.push_str(&format!(" −{d}"));
                    }
                    what.push(deps);
                }
                lines.push(cut(&format!("~ edit {task}: {}", what.join(", ")), width));
                for f in fields {
                    let head = format!("    {}: ", f.field);
                    let room = width.saturating_sub(head.chars().count() + 3) / 2;
                    lines.push(cut(
                        &format!(
                            "{head}{} → {}",
                            cut(&flat(&f.old), room),
                            cut(&flat(&f.new), room)
                        ),
                        width,
                    ));
                }
            }
        }
        if let Some(why) = &change.refused {
            lines.extend(wrap(&format!("refused: {why}"), "    ", width));
        }
    }
    for cycle in &diff.cycles {
        lines.extend(wrap(
            &format!("! dependency cycle: {}", cycle_text(cycle)),
            "",
            width,
        ));
    }
    lines
}

/// A value on one line: whitespace runs (line breaks too) become one space.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn join(ids: &[TaskId]) -> String {
    ids.iter()
        .map(TaskId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tasks of the proposed plan as the graph shows them: a task the
/// current plan has keeps its state with the proposed spec, a new one is queued.
pub fn proposed_tasks(current: &[Task], proposed: &[TaskSpec]) -> Vec<Task> {
    let by_id: HashMap<&TaskId, &Task> = current.iter().map(|t| (t.id(), t)).collect();
    proposed
        .iter()
        .map(|spec| match by_id.get(&spec.id) {
            Some(t) => Task {
                spec: spec.clone(),
                ..(*t).clone()
            },
            None => Task::new(spec.clone()),
        })
        .collect()
}

/// The layer of each task (its depth: 0 without dependencies, else one
/// more than its deepest dependency), None for a task in or behind a cycle.
/// Unknown dependencies and self-dependencies are ignored.
pub fn layers(tasks: &[Task]) -> Vec<Option<usize>> {
    let index: HashMap<&TaskId, usize> =
        tasks.iter().enumerate().map(|(i, t)| (t.id(), i)).collect();
    let graph: Vec<(&TaskId, &[TaskId])> = tasks
        .iter()
        .map(|t| (t.id(), t.spec.deps.as_slice()))
        .collect();
    let (order, sorted) = deps_first(&graph);
    let mut depth: Vec<Option<usize>> = vec![None; tasks.len()];
    // In dependency order every known dependency has its depth already.
    for &i in &order[..sorted] {
        let deepest = tasks[i]
            .spec
            .deps
            .iter()
            .filter_map(|d| index.get(d).filter(|&&j| j != i))
            .filter_map(|&j| depth[j])
            .max();
        depth[i] = Some(deepest.map_or(0, |d| d + 1));
    }
    depth
}

/// The task graph in at most `height` lines of at most `width` characters:
/// a heading per layer (by depth), then one line per task with a `*` when
/// it is in `changed`, its id, its status word and `← dep, dep` (a long
/// list wraps under itself). Tasks in or behind a cycle come last, under
/// the cycle's name. What does not fit is summarized on the last line:
/// "…and 940 more in 12 layers".
pub fn render_graph(
    tasks: &[Task],
    changed: &HashSet<TaskId>,
    width: usize,
    height: usize,
) -> Vec<String> {
    let depth = layers(tasks);
    let deepest = depth.iter().flatten().max().map_or(0, |d| d + 1);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); deepest + 1];
    for (i, d) in depth.iter().enumerate() {
        groups[d.unwrap_or(deepest)].push(i);
    }
    let id_width = tasks
        .iter()
        .map(|t| t.id().as_str().len())
        .max()
        .unwrap_or(0)
        .min(24);
    let cycle_heading = || {
        let graph: Vec<(&TaskId, &[TaskId])> = tasks
            .iter()
            .map(|t| (t.id(), t.spec.deps.as_slice()))
            .collect();
        let names: Vec<String> = find_cycles(&graph).iter().map(|c| cycle_text(c)).collect();
        format!("in a dependency cycle: {}", names.join("; "))
    };
    let fill = |budget: usize| {
        let mut lines: Vec<String> = Vec::new();
        let mut shown = 0usize;
        'layers: for (layer, group) in groups.iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            if lines.len() + 2 > budget {
                break;
            }
            let heading = if layer == deepest {
                cycle_heading()
            } else {
                let n = group.len();
                format!("layer {layer} ({n} task{})", if n == 1 { "" } else { "s" })
            };
            lines.push(cut(&heading, width));
            for &i in group {
                let more = task_lines(&tasks[i], changed, id_width, width);
                if lines.len() + more.len() > budget {
                    break 'layers;
                }
                lines.extend(more);
                shown += 1;
            }
        }
        (lines, shown)
    };
    let (lines, shown) = fill(height);
    if shown == tasks.len() {
        return lines;
    }
    // Not everything fits: keep the last line for the summary.
    let (mut lines, shown) = fill(height.saturating_sub(1));
    let order: Vec<usize> = groups.iter().flatten().copied().collect();
    let hidden: HashSet<usize> = order.iter().skip(shown).copied().collect();
    let hidden_layers = groups
        .iter()
        .filter(|g| g.iter().any(|i| hidden.contains(i)))
        .count();
    lines.push(cut(
        &format!(
            "…and {} more in {hidden_layers} layers",
            tasks.len() - shown
        ),
        width,
    ));
    lines
}

/// One task's line(s): mark, id, status and its dependency edges wrapped
/// under themselves.
fn task_lines(
    task: &Task,
    changed: &HashSet<TaskId>,
    id_width: usize,
    width: usize,
) -> Vec<String> {
    let mark = if changed.contains(task.id()) {
        '*'
    } else {
        ' '
    };
    let id = cut(task.id().as_str(), id_width);
    let head = format!("  {mark} {id:<id_width$} {:<9}", task.status.name());
    if task.spec.deps.is_empty() {
        return vec![cut(head.trim_end(), width)];
    }
    let indent = " ".repeat(head.chars().count() + 1);
    let edges = format!("← {}", join(&task.spec.deps));
    let mut wrapped = wrap(&edges, &indent, width);
    if let Some(first) = wrapped.first_mut() {
        *first = format!("{head} {}", first.trim_start());
    }
    wrapped.into_iter().map(|l| cut(&l, width)).collect()
}
