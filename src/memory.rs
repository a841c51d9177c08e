//! Giving freed memory back to the operating system.

/// Return the memory freed so far to the OS. mimalloc (the programs'
/// allocator) keeps freed pages a while for reuse; after a phase that
/// freed hundreds of megabytes at once (reading and matching a 100k-row
/// import) that would add up to the next phase's needs. A no-op for
/// memory mimalloc does not manage (tests run on the system allocator);
/// glibc's free heap is trimmed as well.
pub fn release_freed() {
    // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own
    // heaps and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
    // SQLite's page caches come from the C library's malloc.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
