//! Criterion benches of the RFC 9162 Merkle tree over stored hashes (`hisaab_log::merkle`):
//! leaf hashing, roots, inclusion and consistency proofs from a [`MemoryTree`], and inclusion
//! verification, at 2^10, 2^14, 2^17 and 2^20 leaves. Pure code only: no storage I/O.
//!
//! ```text
//! cargo bench -p hisaab-log --bench merkle
//! ```
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A bench may fail loudly.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use hisaab_log::merkle::{leaf_hash, tree_root, verify_inclusion, MemoryTree};
use hisaab_log::Hash;

/// Tree sizes, as powers of two.
const SIZE_EXPONENTS: [u32; 4] = [10, 14, 17, 20];
/// Leaf indexes (or older sizes) cycled through per size, so that no single path is measured.
const PROBES: u64 = 64;

fn tree_of(size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push_leaf(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

/// `PROBES` indexes spread over `0..size` by a fixed multiplicative step (deterministic).
fn probe_indexes(size: u64) -> Vec<u64> {
    (1..=PROBES)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % size)
        .collect()
}

fn configure<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .throughput(Throughput::Elements(1));
    group
}

fn bench_merkle(c: &mut Criterion) {
    {
        let mut group = configure(c, "merkle");
        let leaf = [0x5au8; 256];
        group.bench_function("leaf_hash", |b| b.iter(|| leaf_hash(black_box(&leaf))));
        group.finish();
    }

    let trees: Vec<(u64, MemoryTree)> = SIZE_EXPONENTS
        .iter()
        .map(|&exponent| {
            let size = 1u64 << exponent;
            (size, tree_of(size))
        })
        .collect();

    let mut group = configure(c, "merkle/root");
    for (size, tree) in &trees {
        group.bench_with_input(BenchmarkId::from_parameter(size), size, |b, &size| {
            // A size just below the full tree, so the root is not a single stored hash.
            b.iter(|| tree_root(black_box(size - 1), tree).unwrap())
        });
    }
    group.finish();

    let mut group = configure(c, "merkle/inclusion_proof");
    for (size, tree) in &trees {
        let indexes = probe_indexes(*size);
        group.bench_with_input(BenchmarkId::from_parameter(size), size, |b, &size| {
            let mut next = indexes.iter().cycle();
            b.iter(|| {
                let index = *next.next().unwrap();
                tree.inclusion_proof(black_box(index), black_box(size))
                    .unwrap()
            })
        });
    }
    group.finish();

    let mut group = configure(c, "merkle/verify_inclusion");
    for (size, tree) in &trees {
        let root = tree.root();
        let cases: Vec<(u64, Hash, Vec<Hash>)> = probe_indexes(*size)
            .into_iter()
            .map(|index| {
                let leaf = leaf_hash(&index.to_be_bytes());
                (index, leaf, tree.inclusion_proof(index, *size).unwrap())
            })
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(size), size, |b, &size| {
            let mut next = cases.iter().cycle();
            b.iter(|| {
                let (index, leaf, proof) = next.next().unwrap();
                verify_inclusion(leaf, *index, black_box(size), proof, &root).unwrap()
            })
        });
    }
    group.finish();

    let mut group = configure(c, "merkle/consistency_proof");
    for (size, tree) in &trees {
        let froms: Vec<u64> = probe_indexes(*size).into_iter().map(|i| i.max(1)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(size), size, |b, &size| {
            let mut next = froms.iter().cycle();
            b.iter(|| {
                let from = *next.next().unwrap();
                tree.consistency_proof(black_box(from), black_box(size))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_merkle);
criterion_main!(benches);
