//! Proofs from the store equal those of `hisaab_log::merkle::MemoryTree` over the same leaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use hisaab_log::merkle::MemoryTree;

#[test]
fn inclusion_and_consistency_proofs_match_the_memory_tree_for_many_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 70);
    let size = store.size();
    let mut tree = MemoryTree::new();
    for seq in 0..size {
        tree.push_leaf(store.entry(seq).unwrap().unwrap().event_hash());
    }
    for tree_size in 1..=size {
        assert_eq!(
            store.root(tree_size).unwrap(),
            hisaab_log::merkle::tree_root(tree_size, &tree).unwrap()
        );
        for index in 0..tree_size {
            assert_eq!(
                store.inclusion_proof(index, tree_size).unwrap(),
                tree.inclusion_proof(index, tree_size).unwrap(),
                "inclusion of {index} in {tree_size}"
            );
        }
        for from in 1..=tree_size {
            assert_eq!(
                store.consistency_proof(from, tree_size).unwrap(),
                tree.consistency_proof(from, tree_size).unwrap(),
                "consistency from {from} to {tree_size}"
            );
        }
    }
    assert_eq!(store.latest_checkpoint().checkpoint.root, tree.root());
}

#[test]
fn proofs_beyond_the_log_or_with_bad_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::create(dir.path(), common::config());
    common::fill(&store, 1, 3);
    assert!(store.inclusion_proof(0, 5).is_err());
    assert!(store.inclusion_proof(4, 4).is_err());
    assert!(store.consistency_proof(0, 4).is_err());
    assert!(store.consistency_proof(3, 2).is_err());
    assert!(store.consistency_proof(2, 5).is_err());
    assert!(store.root(5).is_err());
    assert!(store.consistency_proof(4, 4).unwrap().is_empty());
}
