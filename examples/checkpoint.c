/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * checkpoint.c - incremental checkpointing of a memory region.
 *
 * The first checkpoint saves the whole region to a file.  Every later one
 * appends only the pages written since the checkpoint before it, as
 * records of (page index, page contents).  Restoring reads the full image
 * and replays the records in order, so a page saved twice ends up with its
 * latest contents.
 *
 *   checkpoint [FILE]
 *
 * runs a self-test: several rounds of random writes, each followed by an
 * incremental checkpoint and a restore into fresh memory, which must be
 * byte-for-byte identical to the live region.  Exit status 0 on success.
 * FILE defaults to a temporary file that is removed at the end.
 *
 *   cc checkpoint.c $(pkg-config --cflags --libs libwritewatch)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <writewatch.h>

#define REGION_PAGES 256
#define ROUNDS 8
#define BATCH 32                /* pages fetched per ww_get() call */

struct header {                 /* at the start of the file */
    char magic[8];
    uint64_t page_size, pages;
};

static void die(const char *what, int err)
{
    fprintf(stderr, "%s: %s\n", what, err ? ww_strerror(err) : "failed");
    exit(1);
}

/* The full image.  Pages written from now on go to the next increment:
 * the region is reset first, so a write during the copy is caught. */
static void checkpoint_full(ww_tracker *t, char *region, size_t len, FILE *f)
{
    struct header h = { "WWCKPT1", ww_page_size(), len / ww_page_size() };
    int r = ww_reset(t, region, len);

    if (r < 0)
        die("ww_reset", r);
    if (fwrite(&h, sizeof(h), 1, f) != 1 || fwrite(region, len, 1, f) != 1)
        die("writing the full image", 0);
}

/* Append the pages written since the last checkpoint; return how many. */
static size_t checkpoint_increment(ww_tracker *t, char *region, size_t len,
                                   FILE *f)
{
    size_t page = ww_page_size(), saved = 0, count;
    void *pages[BATCH];

    do {
        count = BATCH;
        /* RESET re-arms exactly the pages returned, before we copy them:
         * a write racing with the copy shows up in the next increment. */
        int r = ww_get(t, region, len, WW_GET_RESET, pages, &count);
        if (r < 0)
            die("ww_get", r);
        for (size_t i = 0; i < count; i++) {
            uint64_t index = (uint64_t)((char *)pages[i] - region) / page;
            if (fwrite(&index, sizeof(index), 1, f) != 1 ||
                fwrite(pages[i], page, 1, f) != 1)
                die("writing an increment", 0);
        }
        saved += count;
    } while (count == BATCH);
    if (fflush(f) != 0)
        die("fflush", 0);
    return saved;
}

/* Rebuild the region from the file into plain malloc'd memory. */
static char *restore(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct header h;
    uint64_t index;
    char *mem;

    if (!f || fread(&h, sizeof(h), 1, f) != 1 ||
        memcmp(h.magic, "WWCKPT1", 8) != 0)
        die("reading the header", 0);
    *len = h.page_size * h.pages;
    mem = malloc(*len);
    if (!mem || fread(mem, *len, 1, f) != 1)
        die("reading the full image", 0);
    /* Replay the increments; a later record of a page wins. */
    while (fread(&index, sizeof(index), 1, f) == 1) {
        if (index >= h.pages || fread(mem + index * h.page_size,
                                      h.page_size, 1, f) != 1)
            die("reading an increment", 0);
    }
    fclose(f);
    return mem;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/checkpoint-XXXXXX";
    const char *path = argc > 1 ? argv[1] : tmp;
    size_t page = ww_page_size(), len = REGION_PAGES * page;
    ww_tracker *t;
    char *region;
    FILE *f;
    int r, ok = 1;

    if (argc > 2) {
        fprintf(stderr, "usage: %s [FILE]\n", argv[0]);
        return 2;
    }
    if (argc == 1) {
        int fd = mkstemp(tmp);
        if (fd < 0)
            die("mkstemp", 0);
        close(fd);
    }
    r = ww_tracker_open(&t, WW_BACKEND_AUTO, 0);
    if (r < 0) {
        fprintf(stderr, "no write-watch backend here: %s\n", ww_strerror(r));
        return 77;              /* "skipped", for make check */
    }
    r = ww_alloc(t, len, 0, (void **)&region);
    if (r < 0)
        die("ww_alloc", r);
    f = fopen(path, "wb");
    if (!f)
        die(path, 0);

    srand(42);
    memset(region, 'x', len / 2);       /* some state before the first save */
    checkpoint_full(t, region, len, f);
    for (int round = 1; round <= ROUNDS && ok; round++) {
        /* A few random writes, sometimes several to the same page. */
        int writes = 1 + rand() % 40;
        for (int i = 0; i < writes; i++)
            region[(size_t)rand() % len] = (char)rand();

        size_t saved = checkpoint_increment(t, region, len, f);
        size_t restored_len;
        char *restored = restore(path, &restored_len);

        ok = restored_len == len && memcmp(restored, region, len) == 0;
        printf("round %d: %2d writes, %2zu pages appended, restore %s\n",
               round, writes, saved, ok ? "identical" : "DIFFERS");
        free(restored);
    }

    printf("%s: %ld bytes; a full copy per checkpoint would be %zu\n",
           path, ftell(f), (ROUNDS + 1) * (sizeof(struct header) + len));
    fclose(f);
    if (argc == 1)
        unlink(path);
    ww_free(t, region, len);
    ww_tracker_close(t);
    return ok ? 0 : 1;
}
