#ifndef C_DEPUTY_PREFETCH_H
#define C_DEPUTY_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for reading, without waiting
/// for it: an index lookup's memory, requested for several lookups at once, arrives in the
/// time of one. Never faults, whatever the address.
static inline void deputy_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// As `deputy_prefetch`, for a line about to be written: an object whose reference count
/// the reader will change.
static inline void deputy_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// As `deputy_prefetch` for every line from `address` up to `size` bytes: a value whose
/// fields span several cache lines, read and not written (a line prefetched for writing is
/// taken from every other core's cache).
static inline void deputy_prefetch_lines(const void *address, unsigned long size) {
    const char *bytes = (const char *)address;
    for (unsigned long offset = 0; offset < size; offset += 64) {
        __builtin_prefetch(bytes + offset, 0, 3);
    }
}

/// The usable size of the heap block at `address`, which `malloc` returned: how far an
/// object allocated there may reach.
unsigned long deputy_allocation_size(const void *address);

#endif
