/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * frame-loop.c - a frame loop that processes only the pages dirtied since
 * the last frame.
 *
 * A "world" of 16 MiB is simulated: every frame some entities move, which
 * writes a few random pages.  At the end of the frame, the pages written
 * since the previous frame are copied to a mirror (think: uploaded to the
 * GPU, or sent to a network peer).  ww_get() with WW_GET_RESET returns the
 * written pages and marks exactly those clean again, in one atomic step,
 * so the next frame starts from a clean slate without any bookkeeping in
 * the simulation itself.
 *
 * The mirror must equal the world after every frame, and a frame must not
 * report more pages than it wrote: the program checks both and exits 0 if
 * they always held.
 *
 *   cc frame-loop.c $(pkg-config --cflags --libs libwritewatch)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <writewatch.h>

#define WORLD_SIZE (16u << 20)
#define FRAMES 60
#define MOVES_PER_FRAME 200
#define BATCH 64                /* pages fetched per ww_get() call */

/* Copy every page written since the last call to the mirror; return how
 * many there were. */
static size_t sync_dirty_pages(ww_tracker *t, char *world, char *mirror)
{
    size_t page = ww_page_size(), total = 0, count;
    void *pages[BATCH];

    /* A frame may dirty more pages than one batch holds.  RESET cleans only
     * the pages returned, so the next call continues with the rest. */
    do {
        count = BATCH;
        int r = ww_get(t, world, WORLD_SIZE, WW_GET_RESET, pages, &count);
        if (r < 0) {
            fprintf(stderr, "ww_get: %s\n", ww_strerror(r));
            exit(1);
        }
        for (size_t i = 0; i < count; i++) {
            size_t offset = (size_t)((char *)pages[i] - world);
            memcpy(mirror + offset, world + offset, page);
        }
        total += count;
    } while (count == BATCH);
    return total;
}

int main(void)
{
    ww_tracker *t;
    char *world, *mirror;
    int r, ok = 1;

    r = ww_tracker_open(&t, WW_BACKEND_AUTO, 0);
    if (r < 0) {
        fprintf(stderr, "no write-watch backend here: %s\n", ww_strerror(r));
        return 77;              /* "skipped", for make check */
    }
    /* ww_alloc: fresh zeroed memory, watched, every page clean. */
    r = ww_alloc(t, WORLD_SIZE, 0, (void **)&world);
    if (r < 0) {
        fprintf(stderr, "ww_alloc: %s\n", ww_strerror(r));
        return 1;
    }
    mirror = calloc(1, WORLD_SIZE);  /* zero, like the fresh world */
    if (!mirror)
        return 1;
    printf("backend %s, world %u MiB of %zu-byte pages\n",
           ww_backend_name(ww_tracker_backend(t)), WORLD_SIZE >> 20,
           ww_page_size());

    srand(1);
    for (int frame = 1; frame <= FRAMES; frame++) {
        /* The simulation: entities move and write where they land. */
        for (int i = 0; i < MOVES_PER_FRAME; i++)
            world[(size_t)rand() % WORLD_SIZE] = (char)(frame + i);

        size_t dirty = sync_dirty_pages(t, world, mirror);

        /* Nothing lost (the mirror is exact), nothing invented (no more
         * pages than the moves could have written). */
        if (memcmp(world, mirror, WORLD_SIZE) != 0 || dirty > MOVES_PER_FRAME)
            ok = 0;
        if (frame % 10 == 0 || !ok)
            printf("frame %2d: %3zu dirty pages copied (of %u), mirror %s\n",
                   frame, dirty, WORLD_SIZE / (unsigned)ww_page_size(),
                   ok ? "in sync" : "DIFFERS");
        if (!ok)
            break;
    }

    free(mirror);
    ww_free(t, world, WORLD_SIZE);
    ww_tracker_close(t);
    return ok ? 0 : 1;
}
