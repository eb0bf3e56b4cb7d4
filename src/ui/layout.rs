//! Screen geometry, shared by rendering and mouse hit-testing so a click
//! lands on what was drawn there.

use ratatui::layout::Rect;

use super::app::NARROW;

/// Lines per card on the board.
pub const CARD_HEIGHT: u16 = 2;

/// Where the board's parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardLayout {
    pub header: Rect,
    /// The column tabs, in a narrow terminal.
    pub tabs: Option<Rect>,
    /// Each column's block (None when not shown, in a narrow terminal).
    pub columns: [Option<Rect>; 4],
    pub footer: Rect,
}

/// The board's layout in `area`, with `focused` the column shown when narrow.
pub fn board(area: Rect, focused: usize) -> BoardLayout {
    let header = Rect {
        height: area.height.min(1),
        ..area
    };
    let footer = Rect {
        y: area.bottom().saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let body_y = area.y + header.height;
    let body_h = area.height.saturating_sub(header.height + footer.height);
    let mut columns = [None; 4];
    if area.width < NARROW {
        let tabs = Rect {
            y: body_y,
            height: body_h.min(1),
            ..area
        };
        columns[focused.min(3)] = Some(Rect {
            y: body_y + tabs.height,
            height: body_h.saturating_sub(tabs.height),
            ..area
        });
        return BoardLayout {
            header,
            tabs: Some(tabs),
            columns,
            footer,
        };
    }
    let w = area.width / 4;
    for (i, c) in columns.iter_mut().enumerate() {
        let x = area.x + w * i as u16;
        let width = if i == 3 { area.right() - x } else { w };
        *c = Some(Rect {
            x,
            y: body_y,
            width,
            height: body_h,
        });
    }
    BoardLayout {
        header,
        tabs: None,
        columns,
        footer,
    }
}

/// Inside a column's border.
pub fn column_inner(column: Rect) -> Rect {
    Rect {
        x: column.x + 1,
        y: column.y + 1,
        width: column.width.saturating_sub(2),
        height: column.height.saturating_sub(2),
    }
}

/// How many cards fit in a column of the board at this terminal size.
pub fn cards_per_page(size: (u16, u16)) -> usize {
    let l = board(Rect::new(0, 0, size.0, size.1), 0);
    l.columns.iter().flatten().next().map_or(1, |c| {
        (column_inner(*c).height / CARD_HEIGHT).max(1) as usize
    })
}

/// The first card shown in a column so that `selected` is visible.
pub fn first_card(selected: usize, visible: usize) -> usize {
    selected.saturating_sub(visible.saturating_sub(1))
}

/// The task detail: a title line, the tabs, the body, the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailLayout {
    pub title: Rect,
    pub tabs: Rect,
    pub body: Rect,
    pub footer: Rect,
}

pub fn detail(area: Rect) -> DetailLayout {
    let line = |y: u16| Rect {
        y,
        height: 1.min(area.height.saturating_sub(y - area.y)),
        ..area
    };
    let title = line(area.y);
    let tabs = line(area.y + 1);
    let footer = Rect {
        y: area.bottom().saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let body_y = (area.y + 2).min(area.bottom());
    let body = Rect {
        y: body_y,
        height: area.bottom().saturating_sub(body_y + footer.height),
        ..area
    };
    DetailLayout {
        title,
        tabs,
        body,
        footer,
    }
}

/// Width of each tab title in the detail's tab bar (also for clicks).
pub const DETAIL_TAB_WIDTH: u16 = 14;

/// The detail body (for scrolling by pages).
pub fn detail_body(area: Rect) -> Rect {
    detail(area).body
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fit_any_size_without_panicking() {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (3, 2),
            (80, 24),
            (99, 30),
            (100, 30),
            (160, 48),
            (400, 120),
        ] {
            let area = Rect::new(0, 0, w, h);
            let b = board(area, 3);
            for c in b.columns.iter().flatten() {
                assert!(
                    area.contains(c.as_position()) || c.is_empty() || area.is_empty(),
                    "{w}x{h}: {c:?}"
                );
                let _ = column_inner(*c);
            }
            let d = detail(area);
            assert!(d.body.bottom() <= area.bottom().max(d.body.y));
            let _ = centered(area, 70, 20);
            let _ = cards_per_page((w, h));
        }
        assert_eq!(
            board(Rect::new(0, 0, 80, 24), 2)
                .columns
                .iter()
                .flatten()
                .count(),
            1
        );
        assert_eq!(
            board(Rect::new(0, 0, 160, 48), 0)
                .columns
                .iter()
                .flatten()
                .count(),
            4
        );
    }
}
