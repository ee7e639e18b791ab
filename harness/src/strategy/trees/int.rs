//! [`Int`]: integers in a range, mostly small, sometimes an edge,
//! shrinking toward the value nearest zero.

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;

use super::Search;

/// Integers in `lo..=hi` (`lo <= hi`): half the time within 1000 of the
/// value nearest zero, a sixth of the time an edge (`lo`, `lo + 1`,
/// `hi - 1`, `hi`), else anywhere. Shrinks toward the value nearest zero.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Int {
    lo: i64,
    hi: i64,
}

impl Int {
    pub(crate) const fn new(lo: i64, hi: i64) -> Self {
        Self { lo, hi }
    }

    fn target(self) -> i64 {
        0.clamp(self.lo, self.hi)
    }
}

impl Strategy for Int {
    type Tree = IntTree;
    type Value = i64;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let (lo, hi) = (self.lo, self.hi.max(self.lo));
        let target = self.target();
        let rng = runner.rng();
        let value = match rng.random_range(0..6) {
            0..=2 => rng.random_range(
                target.saturating_sub(999).max(lo)..=target.saturating_add(999).min(hi),
            ),
            3 => match rng.random_range(0..4) {
                0 => lo,
                1 => lo.saturating_add(1).min(hi),
                2 => hi.saturating_sub(1).max(lo),
                _ => hi,
            },
            _ => rng.random_range(lo..=hi),
        };
        Ok(IntTree {
            target,
            below: value < target,
            offset: Search::new(value.abs_diff(target)),
        })
    }
}

/// The value tree of [`Int`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntTree {
    target: i64,
    below: bool,
    offset: Search,
}

impl ValueTree for IntTree {
    type Value = i64;

    fn current(&self) -> i64 {
        if self.below {
            self.target.saturating_sub_unsigned(self.offset.curr)
        } else {
            self.target.saturating_add_unsigned(self.offset.curr)
        }
    }

    fn simplify(&mut self) -> bool {
        self.offset.simplify()
    }

    fn complicate(&mut self) -> bool {
        self.offset.complicate()
    }
}
