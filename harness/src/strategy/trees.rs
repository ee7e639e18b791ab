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

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A value tree behind a box, as boxed strategies give.
type Tree<T> = Box<dyn ValueTree<Value = T>>;

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

/// One of several strategies, each picked in proportion to its weight;
/// shrinks the picked value, then moves to earlier options. Unlike
/// [`proptest::strategy::Union`] it keeps a seed, not a runner, for the
/// options it skipped.
pub(crate) struct Weighted<T> {
    options: Arc<Vec<(u32, SBoxedStrategy<T>)>>,
}

impl<T> Clone for Weighted<T> {
    fn clone(&self) -> Self {
        Self {
            options: Arc::clone(&self.options),
        }
    }
}

impl<T> fmt::Debug for Weighted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Weighted")
            .field(
                "weights",
                &self.options.iter().map(|(w, _)| *w).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<T: fmt::Debug + 'static> Weighted<T> {
    /// `options` should not be empty, and weights not all zero: such a
    /// strategy fails to generate rather than panic.
    pub(crate) fn new(options: Vec<(u32, SBoxedStrategy<T>)>) -> Self {
        Self {
            options: Arc::new(options),
        }
    }
}

impl<T: fmt::Debug + 'static> Strategy for Weighted<T> {
    type Tree = WeightedTree<T>;
    type Value = T;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let total: u64 = self.options.iter().map(|(w, _)| u64::from(*w)).sum();
        if total == 0 {
            return Err("no option to pick".into());
        }
        let mut ticket = runner.rng().random_range(0..total);
        let mut pick = 0;
        for (index, (weight, _)) in self.options.iter().enumerate() {
            if ticket < u64::from(*weight) {
                pick = index;
                break;
            }
            ticket -= u64::from(*weight);
        }
        let seed = runner.rng().random::<[u8; 16]>();
        let current = match self.options.get(pick) {
            Some((_, strategy)) => strategy.new_tree(runner)?,
            None => return Err("no option to pick".into()),
        };
        Ok(WeightedTree {
            options: Arc::clone(&self.options),
            current,
            others: (0..self.options.len()).map(|_| None).collect(),
            pick,
            min_pick: 0,
            prev_pick: None,
            seed,
        })
    }
}

/// The value tree of [`Weighted`].
pub(crate) struct WeightedTree<T> {
    options: Arc<Vec<(u32, SBoxedStrategy<T>)>>,
    /// The tree of the picked option.
    current: Tree<T>,
    /// The trees of the other options, made when first needed.
    others: Vec<Option<Tree<T>>>,
    pick: usize,
    min_pick: usize,
    prev_pick: Option<usize>,
    /// Seeds the trees of options skipped at first.
    seed: [u8; 16],
}

impl<T> fmt::Debug for WeightedTree<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeightedTree")
            .field("pick", &self.pick)
            .field("min_pick", &self.min_pick)
            .finish()
    }
}

impl<T: fmt::Debug> WeightedTree<T> {
    /// Makes the tree of option `index` if there is none; whether there is
    /// one now.
    fn ensure(&mut self, index: usize) -> bool {
        if self.others.get(index).is_some_and(Option::is_some) {
            return true;
        }
        let mut seed = self.seed;
        if let Some(first) = seed.first_mut() {
            *first ^= u8::try_from(index % 256).unwrap_or(0);
        }
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::XorShift, &seed),
        );
        let made = self
            .options
            .get(index)
            .and_then(|(_, strategy)| strategy.new_tree(&mut runner).ok());
        match (made, self.others.get_mut(index)) {
            (Some(tree), Some(slot)) => {
                *slot = Some(tree);
                true
            }
            _ => false,
        }
    }

    /// Makes option `index` (whose tree is in `others`) the picked one.
    fn switch_to(&mut self, index: usize) -> bool {
        let Some(tree) = self.others.get_mut(index).and_then(Option::take) else {
            return false;
        };
        let previous = std::mem::replace(&mut self.current, tree);
        if let Some(slot) = self.others.get_mut(self.pick) {
            *slot = Some(previous);
        }
        self.pick = index;
        true
    }
}

impl<T: fmt::Debug> ValueTree for WeightedTree<T> {
    type Value = T;

    fn current(&self) -> T {
        self.current.current()
    }

    fn simplify(&mut self) -> bool {
        if self.current.simplify() {
            self.prev_pick = None;
            return true;
        }
        let pick = self.pick;
        let mut candidate = pick;
        while candidate > self.min_pick {
            candidate -= 1;
            if self.ensure(candidate) && self.switch_to(candidate) {
                self.prev_pick = Some(pick);
                return true;
            }
        }
        false
    }

    fn complicate(&mut self) -> bool {
        if let Some(prev) = self.prev_pick.take() {
            if self.switch_to(prev) {
                self.min_pick = prev;
                return true;
            }
        }
        self.current.complicate()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::{Chars, Int, Pool, Weighted};

    /// Shrinks `tree` as a runner does when every value fails.
    fn shrink_fully<T: ValueTree>(tree: &mut T) -> T::Value {
        while tree.simplify() {}
        tree.current()
    }

    /// Shrinks `tree` while `fails` holds, as a runner does.
    fn shrink_while<T: ValueTree>(tree: &mut T, fails: impl Fn(&T::Value) -> bool) -> T::Value {
        while tree.simplify() {
            if !fails(&tree.current()) {
                while !fails(&tree.current()) && tree.complicate() {}
            }
        }
        tree.current()
    }

    const LETTERS: &[Pool] = &[Pool {
        weight: 1,
        ranges: &['a'..='z'],
    }];

    #[test]
    fn strings_shrink_to_min_length_of_the_simplest_character() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..50 {
            let mut tree = Chars::new(LETTERS, 2, 9).new_tree(&mut runner).unwrap();
            let value = tree.current();
            assert!((2..=9).contains(&value.chars().count()), "{value}");
            assert_eq!(shrink_fully(&mut tree), "aa");
        }
        let mut tree = Chars::new(LETTERS, 0, 12).new_tree(&mut runner).unwrap();
        while tree.current().chars().filter(|&c| c == 'q').count() == 0 {
            tree = Chars::new(LETTERS, 0, 12).new_tree(&mut runner).unwrap();
        }
        assert_eq!(shrink_while(&mut tree, |v| v.contains('q')), "q");
    }

    #[test]
    fn integers_shrink_toward_zero_within_their_range() {
        let mut runner = TestRunner::deterministic();
        for (lo, hi, smallest) in [(1, 9_007_199_254_740_991, 1), (-50, -3, -3), (-5, 5, 0)] {
            for _ in 0..50 {
                let mut tree = Int::new(lo, hi).new_tree(&mut runner).unwrap();
                assert!((lo..=hi).contains(&tree.current()));
                assert_eq!(shrink_fully(&mut tree), smallest);
            }
        }
        let mut tree = Int::new(0, 1000).new_tree(&mut runner).unwrap();
        while tree.current() < 100 {
            tree = Int::new(0, 1000).new_tree(&mut runner).unwrap();
        }
        assert_eq!(shrink_while(&mut tree, |v| *v >= 37), 37);
    }

    #[test]
    fn unions_shrink_to_earlier_options() {
        let strategy = Weighted::new(vec![
            (1, Just(0).sboxed()),
            (1, Int::new(10, 20).sboxed()),
            (1, Int::new(30, 40).sboxed()),
        ]);
        let mut runner = TestRunner::deterministic();
        let mut seen = [false; 3];
        for _ in 0..100 {
            let mut tree = strategy.new_tree(&mut runner).unwrap();
            let value = tree.current();
            seen[usize::from(value >= 10) + usize::from(value >= 30)] = true;
            assert_eq!(shrink_fully(&mut tree), 0);
        }
        assert_eq!(seen, [true; 3]);
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        while tree.current() < 30 {
            tree = strategy.new_tree(&mut runner).unwrap();
        }
        assert_eq!(shrink_while(&mut tree, |v| *v >= 10), 10);
        let empty = Weighted::<i64>::new(Vec::new()).new_tree(&mut runner);
        assert_eq!(
            empty.err().map(|reason| reason.to_string()),
            Some("no option to pick".to_owned())
        );
    }
}
