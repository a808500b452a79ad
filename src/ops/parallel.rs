//! `map` over every core, in order (the status's steps, its JSON).
//!
//! Work is handed out in small blocks as threads come free, not split in equal halves up
//! front: a thread that loses its core (to `git check-ignore` running beside the reads,
//! or to another process) then costs its share, not the whole step. The calling thread
//! works too.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Items per block: small enough to even out, large enough that taking one costs nothing.
const BLOCK: usize = 8;

/// Threads for one step: one per core, at most 8.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// Runs `block(b)` for every block number `0..blocks` on every core, and gives the results
/// in block order.
fn run_blocks<R: Send>(blocks: usize, block: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = workers().min(blocks);
    if threads <= 1 {
        return (0..blocks).map(block).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                return done;
            }
            done.push((b, block(b)));
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in others {
            all.extend(h.join().expect("a worker panicked"));
        }
        all
    });
    all.sort_unstable_by_key(|(b, _)| *b);
    all.into_iter().map(|(_, r)| r).collect()
}

/// `items.iter().map(f).collect()`, over every core.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 * BLOCK {
        return items.iter().map(f).collect();
    }
    let blocks = run_blocks(items.len().div_ceil(BLOCK), |b| {
        let end = (b * BLOCK + BLOCK).min(items.len());
        items[b * BLOCK..end].iter().map(&f).collect::<Vec<R>>()
    });
    blocks.into_iter().flatten().collect()
}

/// `items.into_iter().map(f).collect()`, over every core: each item is dropped on the
/// thread that took it.
pub(crate) fn parallel_map_owned<T: Send, R: Send>(
    items: Vec<T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if items.len() < 2 * BLOCK {
        return items.into_iter().map(f).collect();
    }
    let mut rest = items.into_iter();
    let mut blocks: Vec<Mutex<Vec<T>>> = Vec::new();
    loop {
        let b: Vec<T> = rest.by_ref().take(BLOCK).collect();
        if b.is_empty() {
            break;
        }
        blocks.push(Mutex::new(b));
    }
    let blocks = run_blocks(blocks.len(), |b| {
        // Each block is taken once, by one thread.
        let items = std::mem::take(&mut *blocks[b].lock().unwrap_or_else(|e| e.into_inner()));
        items.into_iter().map(&f).collect::<Vec<R>>()
    });
    blocks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_at_every_size() {
        for n in [0, 1, 15, 16, 17, 63, 64, 65, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let want: Vec<usize> = items.iter().map(|i| i * 3).collect();
            assert_eq!(parallel_map(&items, |i| i * 3), want, "{n}");
            assert_eq!(parallel_map_owned(items, |i| i * 3), want, "{n}");
        }
    }

    #[test]
    fn the_order_holds_when_one_item_is_slow() {
        let items: Vec<u64> = (0..200).collect();
        let out = parallel_map(&items, |&i| {
            if i == 3 {
                std::thread::sleep(std::time::Duration::from_millis(30));
            }
            i
        });
        assert_eq!(out, items);
    }
}
