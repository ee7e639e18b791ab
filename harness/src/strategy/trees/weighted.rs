//! [`Weighted`]: one of several strategies by weight, shrinking toward
//! earlier options; it keeps a seed, not a runner, for the options it
//! skipped.

use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A value tree behind a box, as boxed strategies give.
type Tree<T> = Box<dyn ValueTree<Value = T>>;

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
