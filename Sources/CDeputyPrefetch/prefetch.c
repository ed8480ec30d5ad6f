// The header's inline functions, and the one that needs the C library's allocator.
#include "CDeputyPrefetch.h"

#if defined(__APPLE__)
#include <malloc/malloc.h>
unsigned long deputy_allocation_size(const void *address) { return malloc_size(address); }
#else
#include <malloc.h>
unsigned long deputy_allocation_size(const void *address) { return malloc_usable_size((void *)address); }
#endif
