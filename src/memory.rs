//! Giving freed memory back to the operating system.

/// Return the memory freed so far to the OS. mimalloc (the programs'
/// allocator) keeps freed pages a while for reuse; after a phase that
/// freed hundreds of megabytes at once (reading and matching a 100k-row
/// import) that would add up to the next phase's needs. A no-op for
/// memory mimalloc does not manage (tests run on the system allocator).
pub fn release_freed() {
    // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own
    // heaps and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
