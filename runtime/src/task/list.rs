//! The runtime's list of live tasks, so shutdown can reach tasks that no
//! queue holds (parked on a channel or a timer) and drop their futures.
//!
//! Sharded by task id; each shard is an intrusive doubly linked list under
//! a `parking_lot` mutex. The list holds one reference to each task it
//! links; a task unlinks itself when it completes. Shutdown closes every
//! shard (no task can join afterwards: a task spawned then is cancelled at
//! once) and takes the tasks out.

use std::panic::Location;
use std::ptr::NonNull;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use crate::task::raw::Header;

/// A task's links in its shard; only touched under that shard's lock.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// The previous task in the shard (towards the head).
    prev: Option<NonNull<Header>>,
    /// The next task in the shard.
    next: Option<NonNull<Header>>,
    /// Whether the task is in the list.
    linked: bool,
}

/// One shard: the head of a list and its length.
#[derive(Debug, Default)]
struct Shard {
    /// The most recently linked task.
    head: Option<NonNull<Header>>,
    /// Tasks linked.
    len: usize,
    /// Set at shutdown: no more links.
    closed: bool,
}

// SAFETY: the pointers are only followed under the shard's lock, and the
// tasks they point to are `Send` (their futures and outputs are).
unsafe impl Send for Shard {}

/// The live tasks of one runtime.
#[derive(Debug)]
pub(crate) struct OwnedTasks {
    /// The shards; a task lives in `shards[id & mask]`.
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// `shards.len() - 1` (a power of two minus one).
    mask: usize,
}

impl OwnedTasks {
    /// A list with enough shards that `workers` threads rarely meet.
    pub(crate) fn new(workers: usize) -> OwnedTasks {
        let n = (workers * 4).next_power_of_two().clamp(4, 256);
        OwnedTasks {
            shards: (0..n)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            mask: n - 1,
        }
    }

    /// The shard of a task.
    fn shard(&self, header: &Header) -> &Mutex<Shard> {
        &self.shards[header.id.as_u64() as usize & self.mask]
    }

    /// Links a new task (the list's reference is already counted in its
    /// state). Returns false, linking nothing, once shutdown closed the list.
    pub(crate) fn insert(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the spawner holds references to the new task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header).lock();
        if shard.closed {
            return false;
        }
        // SAFETY: links are only touched under this shard's lock, held.
        let links = unsafe { &mut *header.links.get() };
        links.prev = None;
        links.next = shard.head;
        links.linked = true;
        if let Some(old) = shard.head {
            // SAFETY: linked tasks are alive (the list holds a reference),
            // and we hold the lock.
            unsafe { (*old.as_ref().links.get()).prev = Some(ptr) };
        }
        shard.head = Some(ptr);
        shard.len += 1;
        true
    }

    /// Unlinks a task if it is linked. Returns whether it was, in which case
    /// the caller now owns the list's reference.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference to the task.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header).lock();
        // SAFETY: under the shard's lock.
        unsafe { unlink(&mut shard, ptr) }
    }

    /// Closes every shard and takes every linked task out; the caller owns
    /// the list's reference of each task returned.
    pub(crate) fn close_and_take_all(&self) -> Vec<NonNull<Header>> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            while let Some(ptr) = shard.head {
                // SAFETY: under the shard's lock; `ptr` is linked.
                let was_linked = unsafe { unlink(&mut shard, ptr) };
                debug_assert!(was_linked);
                all.push(ptr);
            }
        }
        all
    }

    /// "task 12 `name`" (or "task 12") and the spawn location of the live
    /// task with id `id`, if it is still live; found under its shard's
    /// lock, so the task cannot be freed meanwhile.
    pub(crate) fn describe(&self, id: u64) -> Option<(String, &'static Location<'static>)> {
        let shard = self.shards[id as usize & self.mask].lock();
        let mut cursor = shard.head;
        while let Some(ptr) = cursor {
            // SAFETY: linked tasks are alive (the list holds a reference),
            // and we hold the shard's lock, which guards the links.
            let header = unsafe { ptr.as_ref() };
            if header.id.as_u64() == id {
                let name = match &header.name {
                    Some(name) => format!("task {id} `{name}`"),
                    None => format!("task {id}"),
                };
                return Some((name, header.location));
            }
            // SAFETY: as above.
            cursor = unsafe { (*header.links.get()).next };
        }
        None
    }

    /// Tasks linked now (a moment's count).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }
}

/// Unlinks `ptr` from `shard` if it is linked there; returns whether it was.
///
/// # Safety
/// The caller holds `shard`'s lock, and `ptr` is alive and belongs to it.
unsafe fn unlink(shard: &mut Shard, ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's lock guards the links; the task is alive.
    let links = unsafe { &mut *ptr.as_ref().links.get() };
    if !links.linked {
        return false;
    }
    match links.prev {
        // SAFETY: neighbours are linked, hence alive, and under our lock.
        Some(prev) => unsafe { (*prev.as_ref().links.get()).next = links.next },
        None => shard.head = links.next,
    }
    if let Some(next) = links.next {
        // SAFETY: as above.
        unsafe { (*next.as_ref().links.get()).prev = links.prev };
    }
    links.prev = None;
    links.next = None;
    links.linked = false;
    shard.len -= 1;
    true
}
