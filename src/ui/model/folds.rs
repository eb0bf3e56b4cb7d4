//! Tool results folded to their first line: which lines of a transcript
//! are a tool result's output, and which of those the view hides.
//!
//! A fold is a range of line numbers (the result's line, then its output
//! lines), noted as the lines are pushed, so it is known for the whole
//! transcript while only a window of its lines is in memory. A fold costs
//! a few words whatever its size; unfolding one only changes which line
//! numbers the view shows, and the lines themselves are read from the
//! transcript file like any others, within the same budgets.

use std::ops::Range;

use super::LineKind;

/// One tool result with output lines under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// The result's own line (`↳ preview (n lines)`), always shown.
    pub header: usize,
    /// The line after its last output line.
    pub end: usize,
    /// Whether its output lines are shown (errors start open).
    pub open: bool,
}

impl Fold {
    /// The output lines.
    pub fn body(&self) -> Range<usize> {
        self.header + 1..self.end
    }
}

/// The folds of one transcript, in line order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folds {
    folds: Vec<Fold>,
    /// The kind of the last line pushed, and its number.
    last: Option<(LineKind, usize)>,
}

impl Folds {
    /// Notes line `i` of kind `kind` (lines are pushed in order): output
    /// lines join the fold of the result line before them.
    pub fn push(&mut self, i: usize, kind: LineKind) {
        if kind == LineKind::ToolOutput {
            match (self.last, self.folds.last_mut()) {
                (Some((LineKind::ToolOutput, _)), Some(f)) if f.end == i => f.end = i + 1,
                (Some((k @ (LineKind::ToolOk | LineKind::ToolError), h)), _) if h + 1 == i => {
                    self.folds.push(Fold {
                        header: h,
                        end: i + 1,
                        open: k == LineKind::ToolError,
                    });
                }
                _ => {}
            }
        }
        self.last = Some((kind, i));
    }

    pub fn all(&self) -> &[Fold] {
        &self.folds
    }

    /// The fold whose result line is `header`.
    pub fn at(&self, header: usize) -> Option<&Fold> {
        let k = self.folds.partition_point(|f| f.header < header);
        self.folds.get(k).filter(|f| f.header == header)
    }

    /// Opens or closes the fold whose result line is `header`; false when
    /// there is none.
    pub fn toggle(&mut self, header: usize) -> bool {
        let k = self.folds.partition_point(|f| f.header < header);
        match self.folds.get_mut(k).filter(|f| f.header == header) {
            Some(f) => {
                f.open = !f.open;
                true
            }
            None => false,
        }
    }

    /// Opens the closed fold that hides line `i` (a search landed there).
    pub fn reveal(&mut self, i: usize) {
        let k = self.folds.partition_point(|f| f.header < i);
        if let Some(f) = k.checked_sub(1).and_then(|k| self.folds.get_mut(k))
            && f.body().contains(&i)
        {
            f.open = true;
        }
    }

    /// The closed fold that hides line `i`, if any.
    pub fn hiding(&self, i: usize) -> Option<&Fold> {
        let k = self.folds.partition_point(|f| f.header < i);
        let f = self.folds.get(k.checked_sub(1)?)?;
        (!f.open && f.body().contains(&i)).then_some(f)
    }

    /// The line shown for line `i`: itself, or the result line of the
    /// closed fold that hides it.
    pub fn shown(&self, i: usize) -> usize {
        self.hiding(i).map_or(i, |f| f.header)
    }

    /// The next shown line after `i`, below `len`.
    pub fn next(&self, i: usize, len: usize) -> Option<usize> {
        let n = match self.hiding(i + 1) {
            Some(f) => f.end,
            None => i + 1,
        };
        (n < len).then_some(n)
    }

    /// The shown line before `i`.
    pub fn prev(&self, i: usize) -> Option<usize> {
        Some(self.shown(i.checked_sub(1)?))
    }

    /// Up to `n` shown lines from line `top` on (`top` first, or the line
    /// shown for it).
    pub fn rows(&self, top: usize, n: usize, len: usize) -> Vec<usize> {
        let mut rows = Vec::with_capacity(n.min(len));
        let mut at = (top < len).then(|| self.shown(top));
        while let Some(i) = at {
            if rows.len() >= n {
                break;
            }
            rows.push(i);
            at = self.next(i, len);
        }
        rows
    }

    /// The top line that shows the last `n` shown lines of `len`.
    pub fn bottom(&self, n: usize, len: usize) -> usize {
        let Some(mut top) = len.checked_sub(1).map(|l| self.shown(l)) else {
            return 0;
        };
        for _ in 1..n {
            match self.prev(top) {
                Some(p) => top = p,
                None => break,
            }
        }
        top
    }

    /// How many lines of `a..b` are shown.
    pub fn shown_between(&self, a: usize, b: usize) -> usize {
        let k = self.folds.partition_point(|f| f.end <= a);
        let hidden: usize = self.folds[k..]
            .iter()
            .take_while(|f| f.header < b)
            .filter(|f| !f.open)
            .map(|f| f.end.min(b).saturating_sub((f.header + 1).max(a)))
            .sum();
        b.saturating_sub(a).saturating_sub(hidden)
    }

    /// `top` moved by `delta` shown lines (up when negative).
    pub fn step(&self, top: usize, delta: isize, len: usize) -> usize {
        let mut at = self.shown(top.min(len.saturating_sub(1)));
        for _ in 0..delta.unsigned_abs() {
            let next = if delta < 0 {
                self.prev(at)
            } else {
                self.next(at, len)
            };
            match next {
                Some(n) => at = n,
                None => break,
            }
        }
        at
    }
}
