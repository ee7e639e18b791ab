//! Three light strategies with their own value trees, used for the leaves
//! and choices of every payload, where proptest's general ones cost too much
//! in a debug build (a tree per character; a runner clone per option skipped
//! by a union):
//! - [`Chars`]: a string as one tree, shrinking shorter (by halves, then
//!   one character at a time), then each character to the simplest;
//! - [`Int`]: an integer in a range, mostly small, sometimes an edge,
//!   shrinking toward the value nearest zero;
//! - [`Weighted`]: one of several strategies by weight, shrinking toward
//!   earlier options, as [`proptest::strategy::Union`] does.

mod chars;
mod int;
mod weighted;

#[cfg(test)]
mod tests;

pub(crate) use self::chars::{Chars, Pool};
pub(crate) use self::int::Int;
pub(crate) use self::weighted::Weighted;

/// Binary search of an offset from `0` (simplest) to where it started.
#[derive(Debug, Clone, Copy)]
struct Search {
    lo: u64,
    curr: u64,
    hi: u64,
}

impl Search {
    fn new(start: u64) -> Self {
        Self {
            lo: 0,
            curr: start,
            hi: start,
        }
    }

    fn reposition(&mut self) -> bool {
        let mid = self.lo + (self.hi - self.lo) / 2;
        if mid == self.curr {
            false
        } else {
            self.curr = mid;
            true
        }
    }

    fn simplify(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.hi = self.curr;
        self.reposition()
    }

    fn complicate(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.lo = self.curr + 1;
        self.reposition()
    }
}
