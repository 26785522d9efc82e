/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * retain.c - does the collector free what the program dropped, after a
 * read of dirty pages that found many runs?
 *
 * The libwritewatch VDB reads dirty pages into a buffer of block
 * addresses.  If that buffer lies in memory the collector scans as a root
 * and keeps what a read left there, every block it names stays alive for
 * as long as no later read overwrites the entry: a read that found 300
 * runs fills the 256 entries, then the first 44 again, and entries 44-255
 * keep naming blocks through every later collection that finds fewer.
 *
 * Objects of one block each (atomic, so nothing else keeps them); every
 * other one written, so that the next incremental cycle reads about N/2
 * runs; then every reference dropped and a few full collections made
 * (which reset dirty pages without reading them into the buffer).  Each
 * object has a disappearing link: the count of links not cleared is the
 * count of objects still retained.  A conservative collector may keep a
 * few through stale stack words, never hundreds.
 *
 * Output: "retain objects=N retained=R incremental=0|1".  Exit 0, or 2
 * when incremental mode could not be switched on.
 */
#include <stdio.h>
#include <string.h>

#include <gc.h>

#define N_OBJECTS 1200
#define OBJ_BYTES 3000          /* > HBLKSIZE / 2: a block of its own */

static void **keep;             /* uncollectable: the only references */
static GC_word *links;          /* uncollectable: hidden pointers */

static __attribute__((noinline)) void make_objects(void)
{
    for (int i = 0; i < N_OBJECTS; i++) {
        char *p = GC_MALLOC_ATOMIC(OBJ_BYTES);

        if (!p) {
            fprintf(stderr, "retain: out of memory\n");
            return;
        }
        memset(p, 0, OBJ_BYTES);
        keep[i] = p;
        links[i] = GC_HIDE_POINTER(p);
        if (GC_GENERAL_REGISTER_DISAPPEARING_LINK((void **)&links[i], p) != 0)
            fprintf(stderr, "retain: cannot register link %d\n", i);
    }
}

/* Every other object written: about N_OBJECTS / 2 runs of dirty pages. */
static __attribute__((noinline)) void write_every_other(void)
{
    for (int i = 0; i < N_OBJECTS; i += 2)
        if (keep[i])
            ((volatile char *)keep[i])[8] = 1;
}

static __attribute__((noinline)) void drop_all(void)
{
    for (int i = 0; i < N_OBJECTS; i++)
        keep[i] = NULL;
}

/* Overwrite this thread's recent stack, where loop variables may still
 * hold object addresses. */
static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char junk[16384];

    memset((char *)junk, 0, sizeof(junk));
}

int main(void)
{
    int retained = 0;

    GC_INIT();
    GC_enable_incremental();
    keep = GC_MALLOC_UNCOLLECTABLE(N_OBJECTS * sizeof(*keep));
    links = GC_MALLOC_ATOMIC_UNCOLLECTABLE(N_OBJECTS * sizeof(*links));
    if (!keep || !links) {
        fprintf(stderr, "retain: out of memory\n");
        return 1;
    }
    make_objects();
    GC_gcollect();              /* every page clean from here */
    write_every_other();
    /* An incremental cycle reads the dirty pages (~N/2 runs) into the
     * buffer; a full collection only resets them. */
    GC_start_incremental_collection();
    for (int i = 0; i < 100000 && GC_collect_a_little(); i++)
        continue;
    drop_all();
    scrub_stack();
    for (int i = 0; i < 4; i++)
        GC_gcollect();
    for (int i = 0; i < N_OBJECTS; i++)
        retained += links[i] != 0;
    printf("retain objects=%d retained=%d incremental=%d\n", N_OBJECTS,
           retained, GC_is_incremental_mode());
    return GC_is_incremental_mode() ? 0 : 2;
}
