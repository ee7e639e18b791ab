//! [`Chars`]: strings drawn from pools of character ranges, shrinking
//! shorter, then each character to the simplest.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{TestRng, TestRunner};

use super::Search;

/// Where characters come from: a weight, and ranges picked uniformly (so a
/// small range is as likely as a large one), then a character in the range.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) weight: u32,
    pub(crate) ranges: &'static [RangeInclusive<char>],
}

/// Characters that are hard for JSON, URLs or forms, picked now and then when
/// the pool has them.
const SPECIALS: &[char] = &['"', '\\', '/', '\'', '<', '&', '%', '+', '=', ' '];

impl Pool {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|r| r.contains(&c))
    }

    fn pick(&self, rng: &mut TestRng) -> Option<char> {
        if rng.random_ratio(1, 10) {
            let special = SPECIALS.get(rng.random_range(0..SPECIALS.len())).copied();
            if let Some(special) = special.filter(|&c| self.contains(c)) {
                return Some(special);
            }
        }
        if self.ranges.is_empty() {
            return None;
        }
        let range = self.ranges.get(rng.random_range(0..self.ranges.len()))?;
        (range.start() <= range.end()).then(|| rng.random_range(range.clone()))
    }

    /// The character a string shrinks to: `a` when the pool has it, else the
    /// first of the first range.
    fn simplest(&self) -> char {
        if self.contains('a') {
            'a'
        } else {
            self.ranges.first().map_or('a', |r| *r.start())
        }
    }
}

/// Strings of `min..=max` characters (code points) from one of the pools,
/// chosen per string by weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chars {
    pools: &'static [Pool],
    min: usize,
    max: usize,
}

impl Chars {
    /// `pools` must not be empty and have a non-zero total weight, each pool
    /// at least one range, and `min <= max`.
    pub(crate) const fn new(pools: &'static [Pool], min: usize, max: usize) -> Self {
        Self { pools, min, max }
    }
}

impl Strategy for Chars {
    type Tree = CharsTree;
    type Value = String;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let rng = runner.rng();
        let total: u32 = self.pools.iter().map(|p| p.weight).sum();
        let mut ticket = rng.random_range(0..total.max(1));
        let pool = self
            .pools
            .iter()
            .find(|p| {
                let hit = ticket < p.weight;
                ticket = ticket.saturating_sub(p.weight);
                hit
            })
            .ok_or("no character pool")?;
        let len = rng.random_range(self.min..=self.max.max(self.min));
        let chars = (0..len)
            .map(|_| pool.pick(rng))
            .collect::<Option<Vec<char>>>()
            .ok_or("an empty character pool")?;
        let extra = u64::try_from(len - self.min).unwrap_or(0);
        Ok(CharsTree {
            chars,
            min: self.min,
            length: Search::new(extra),
            stage: Stage::Truncate,
            simplest: pool.simplest(),
            at: 0,
            last: None,
        })
    }
}

/// The value tree of [`Chars`]: shortens by halves first, then deletes
/// characters one at a time, then turns each into the simplest.
#[derive(Debug, Clone)]
pub(crate) struct CharsTree {
    chars: Vec<char>,
    min: usize,
    /// While truncating: how many characters past `min` are kept.
    length: Search,
    stage: Stage,
    simplest: char,
    /// The next character to delete or simplify.
    at: usize,
    last: Option<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Truncate,
    Delete,
    Simplify,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Truncate,
    Delete { index: usize, was: char },
    Simplify { index: usize, was: char },
}

impl CharsTree {
    fn kept(&self) -> usize {
        match self.stage {
            Stage::Truncate => self.min + usize::try_from(self.length.curr).unwrap_or(0),
            Stage::Delete | Stage::Simplify => self.chars.len(),
        }
    }
}

impl ValueTree for CharsTree {
    type Value = String;

    fn current(&self) -> String {
        self.chars.iter().take(self.kept()).collect()
    }

    fn simplify(&mut self) -> bool {
        if self.stage == Stage::Truncate {
            if self.length.simplify() {
                self.last = Some(Step::Truncate);
                return true;
            }
            self.chars.truncate(self.kept());
            self.stage = Stage::Delete;
            self.at = 0;
        }
        if self.stage == Stage::Delete {
            if self.at < self.chars.len() && self.chars.len() > self.min {
                let index = self.at;
                let was = self.chars.remove(index);
                self.last = Some(Step::Delete { index, was });
                return true;
            }
            self.stage = Stage::Simplify;
            self.at = 0;
        }
        while self.at < self.chars.len() {
            let index = self.at;
            self.at += 1;
            if let Some(c) = self.chars.get_mut(index).filter(|c| **c != self.simplest) {
                self.last = Some(Step::Simplify { index, was: *c });
                *c = self.simplest;
                return true;
            }
        }
        self.last = None;
        false
    }

    fn complicate(&mut self) -> bool {
        match self.last {
            Some(Step::Truncate) => self.length.complicate(),
            Some(Step::Delete { index, was }) => {
                self.last = None;
                if index <= self.chars.len() {
                    self.chars.insert(index, was);
                }
                self.at = index + 1;
                true
            }
            Some(Step::Simplify { index, was }) => {
                self.last = None;
                if let Some(c) = self.chars.get_mut(index) {
                    *c = was;
                }
                true
            }
            None => false,
        }
    }
}
