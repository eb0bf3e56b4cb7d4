//! The help screen: a centred popup listing every key binding in force,
//! grouped by where it applies. Pure: it draws from the keymap, the theme and
//! a scroll offset the app keeps (clamp it with [`max_scroll`] for the frame's
//! size, or with [`line_count`]; the renderer clamps it on the fly anyway).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::keymap::{Action, Context, Key, Keymap};
use crate::ui::theme::Theme;

/// The sections of the help screen: (heading, contexts).
const GROUPS: &[(&str, &[Context])] = &[
    ("Board", &[Context::Board]),
    (
        "Task detail: transcript, diff, info",
        &[Context::Transcript, Context::Diff, Context::Info],
    ),
    (
        "Plan diff (moves and closes like the views)",
        &[Context::Plan],
    ),
    (
        "Team: messages, context, compare (move and close like the views)",
        &[Context::Messages, Context::ContextPane, Context::Compare],
    ),
    ("Editors and dialogs", &[Context::Editor, Context::Confirm]),
];

/// The widest key column; longer key lists push their description right.
const MAX_KEY_COLUMN: usize = 24;

/// Blank cells between two columns.
const COLUMN_GAP: u16 = 3;

/// One line of the help text.
#[derive(Clone)]
enum Item {
    /// A group (`Board`), or within one the contexts that follow apply to
    /// (`Diff`), indented.
    Heading {
        text: String,
        sub: bool,
    },
    Binding {
        /// The keys, space-separated; empty when none is left.
        keys: String,
        description: &'static str,
    },
    Blank,
}

/// How many lines the help text has in one column.
pub fn line_count(keymap: &Keymap) -> usize {
    items(keymap).len()
}

/// The largest `scroll` that still moves the text when the popup is drawn in
/// `area` (0 when everything fits, as in two columns on a large screen).
pub fn max_scroll(keymap: &Keymap, area: Rect) -> usize {
    let items = items(keymap);
    let plan = plan(&items, area);
    match plan.split {
        Some(_) => 0,
        None => items.len().saturating_sub(plan.inner_height),
    }
}

/// Draws the help popup centred in `area`, scrolled down by `scroll` lines
/// (clamped so the last page stays full). When the whole text fits in two
/// columns it is drawn that way, unscrolled.
pub fn render(frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme, scroll: usize) {
    let area = area.intersection(frame.area());
    let items = items(keymap);
    let plan = plan(&items, area);
    frame.render_widget(Clear, plan.popup);

    let total = items.len();
    let close = format!(
        " {} or {} close ",
        keymap.key_label(Action::Help),
        keymap.key_label(Action::Back)
    );
    let mut block = Block::bordered()
        .style(theme.dialog)
        .border_style(theme.border_focus)
        .title(Span::styled(" Keys ", theme.title))
        .title_bottom(Span::styled(close, theme.muted));
    let inner = block.inner(plan.popup);
    let to_lines = |items| lines(items, plan.key_width, theme);

    if let Some(split) = plan.split {
        frame.render_widget(block, plan.popup);
        let left_width = u16::try_from(plan.left_width).unwrap_or(u16::MAX);
        let left = Rect {
            width: left_width.min(inner.width),
            ..inner
        };
        let offset = left_width.saturating_add(COLUMN_GAP).min(inner.width);
        let right = Rect {
            x: inner.x + offset,
            width: inner.width - offset,
            ..inner
        };
        let (first, second) = items.split_at(split);
        let second = match second.first() {
            Some(Item::Blank) => &second[1..],
            _ => second,
        };
        // Split within a group: the right column names the group again.
        let mut right_items: Vec<Item> = continued(first, second).into_iter().collect();
        right_items.extend(second.iter().cloned());
        frame.render_widget(Paragraph::new(to_lines(first)), left);
        frame.render_widget(Paragraph::new(to_lines(&right_items)), right);
        return;
    }

    let first = scroll.min(total.saturating_sub(plan.inner_height));
    let last = (first + plan.inner_height).min(total);
    if (1..total).contains(&plan.inner_height) {
        let position = format!(
            " {} {} scroll {}-{}/{} ",
            keymap.key_label(Action::Up),
            keymap.key_label(Action::Down),
            first + 1,
            last,
            total
        );
        block = block.title_bottom(Line::styled(position, theme.muted).right_aligned());
    }
    let visible = to_lines(items.get(first..last).unwrap_or_default());
    frame.render_widget(Paragraph::new(visible).block(block), plan.popup);
}

/// Where the popup goes and how its text is laid out.
struct Plan {
    popup: Rect,
    /// Lines the popup shows at once (in one column).
    inner_height: usize,
    key_width: usize,
    /// Two columns: the index of the blank line between them (or of the
    /// sub-heading the right one starts with), and the left width.
    split: Option<usize>,
    left_width: usize,
}

/// Lays the help text out in `area`: in two columns when it all fits that
/// way and not in one (split between groups or before a sub-heading where
/// that fits, else within a group), else in one scrolling column.
fn plan(items: &[Item], area: Rect) -> Plan {
    let key_width = items
        .iter()
        .filter_map(|item| match item {
            Item::Binding { keys, .. } => Some(width(keys)),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .clamp(1, MAX_KEY_COLUMN);
    let column_width = |items: &[Item]| {
        items
            .iter()
            .map(|item| item_width(item, key_width))
            .max()
            .unwrap_or(0)
            + 1
    };
    let (area_width, area_height) = (usize::from(area.width), usize::from(area.height));
    let one_column = Plan {
        popup: centred(area, column_width(items) + 2, items.len() + 2),
        inner_height: area_height.min(items.len() + 2).saturating_sub(2),
        key_width,
        split: None,
        left_width: 0,
    };
    if items.len() + 2 <= area_height {
        return one_column;
    }
    // The most even split that fits: between groups or before a
    // sub-heading, else (a long group) anywhere.
    let best = |anywhere: bool| {
        items
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, item)| {
                anywhere || matches!(item, Item::Blank | Item::Heading { sub: true, .. })
            })
            .map(|(split, item)| {
                let skip = usize::from(matches!(item, Item::Blank));
                let (left, right) = (&items[..split], &items[split + skip..]);
                let heading = continued(left, right);
                let heading_width = heading.as_ref().map_or(0, |h| item_width(h, key_width) + 1);
                (
                    left.len().max(right.len() + usize::from(heading.is_some())),
                    split,
                    column_width(left),
                    column_width(right).max(heading_width),
                )
            })
            .filter(|(rows, _, left, right)| {
                rows + 2 <= area_height && left + usize::from(COLUMN_GAP) + right + 2 <= area_width
            })
            .min()
    };
    match best(false).or_else(|| best(true)) {
        Some((rows, split, left, right)) => Plan {
            popup: centred(area, left + usize::from(COLUMN_GAP) + right + 2, rows + 2),
            inner_height: rows,
            key_width,
            split: Some(split),
            left_width: left,
        },
        _ => one_column,
    }
}

/// When a column split falls within a group (`right` starts with a
/// binding), the heading the right column starts with: the group's, marked
/// continued.
fn continued(left: &[Item], right: &[Item]) -> Option<Item> {
    if !matches!(right.first(), Some(Item::Binding { .. })) {
        return None;
    }
    left.iter().rev().find_map(|item| match item {
        Item::Heading { text, sub } => Some(Item::Heading {
            text: format!("{text} (continued)"),
            sub: *sub,
        }),
        _ => None,
    })
}

/// How wide `item` draws with a key column of `key_width`.
fn item_width(item: &Item, key_width: usize) -> usize {
    match item {
        Item::Blank => 0,
        Item::Heading { text, sub } => 1 + usize::from(*sub) + width(text),
        Item::Binding { keys, description } => {
            3 + width(keys).max(key_width) + 2 + width(description)
        }
    }
}

/// Display width in terminal cells.
fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// The help text: each group's heading and the bindings that apply in all
/// of its contexts, then a sub-heading for each set of contexts in the group
/// with bindings of its own (the diff's hunk keys...), in help order.
fn items(keymap: &Keymap) -> Vec<Item> {
    let mut items = Vec::new();
    for (heading, group) in GROUPS {
        if !items.is_empty() {
            items.push(Item::Blank);
        }
        items.push(Item::Heading {
            text: (*heading).to_owned(),
            sub: false,
        });
        let mut parts: Vec<(Vec<Context>, Vec<Item>)> = vec![(group.to_vec(), Vec::new())];
        for (action, _, contexts, description) in keymap.bindings() {
            // The contexts of this group where the action applies, by key set.
            let mut sets: Vec<(Vec<Key>, Vec<Context>)> = Vec::new();
            for ctx in group.iter().filter(|c| contexts.contains(c)) {
                let keys = keymap.keys_in(action, *ctx);
                match sets.iter_mut().find(|(k, _)| *k == keys) {
                    Some((_, ctxs)) => ctxs.push(*ctx),
                    None => sets.push((keys, vec![*ctx])),
                }
            }
            for (keys, ctxs) in sets {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                let item = Item::Binding {
                    keys: keys.join(" "),
                    description,
                };
                match parts.iter_mut().find(|(c, _)| *c == ctxs) {
                    Some((_, part)) => part.push(item),
                    None => parts.push((ctxs, vec![item])),
                }
            }
        }
        // Sub-parts in the group's order (transcript before diff).
        let position =
            |ctxs: &[Context]| ctxs.first().and_then(|c| group.iter().position(|g| g == c));
        parts.sort_by_key(|(ctxs, _)| (ctxs.len() < group.len(), position(ctxs)));
        for (i, (ctxs, part)) in parts.into_iter().enumerate() {
            if i > 0 {
                let labels: Vec<&str> = ctxs.iter().map(|c| c.label()).collect();
                items.push(Item::Heading {
                    text: capitalised(&labels.join(", ")),
                    sub: true,
                });
            }
            items.extend(part);
        }
    }
    items
}

/// `diff, info` as `Diff, info`.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The styled lines of `items`.
fn lines<'a>(items: &'a [Item], key_width: usize, theme: &Theme) -> Vec<Line<'a>> {
    items
        .iter()
        .map(|item| line(item, key_width, theme))
        .collect()
}

/// One styled line: ` Heading` or `   keys  description`.
fn line<'a>(item: &'a Item, key_width: usize, theme: &Theme) -> Line<'a> {
    match item {
        Item::Blank => Line::default(),
        Item::Heading { text, sub } => {
            let indent = if *sub { "  " } else { " " };
            Line::from(Span::styled(format!("{indent}{text}"), theme.title))
        }
        Item::Binding { keys, description } => {
            let pad = " ".repeat(key_width.saturating_sub(width(keys)));
            let keys_span = if keys.is_empty() {
                Span::styled(
                    format!("—{}", pad.get(1..).unwrap_or_default()),
                    theme.muted,
                )
            } else {
                Span::styled(format!("{keys}{pad}"), theme.key)
            };
            Line::from(vec![
                Span::raw("   "),
                keys_span,
                Span::raw("  "),
                Span::styled(*description, theme.text),
            ])
        }
    }
}

/// A `width` x `height` rectangle centred in `area` (clipped to it).
fn centred(area: Rect, width: usize, height: usize) -> Rect {
    let width = u16::try_from(width).unwrap_or(u16::MAX).min(area.width);
    let height = u16::try_from(height).unwrap_or(u16::MAX).min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
