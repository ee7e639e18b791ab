//! How the three strategies shrink: strings, integers and unions.

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
