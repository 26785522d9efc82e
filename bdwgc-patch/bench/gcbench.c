/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gcbench - a binary-tree workload for bdwgc's incremental mode.
 *
 *   gcbench [-t THREADS] [-m MIB] [-r ROUNDS] [-i 0|1]
 *
 * Each thread builds a long-lived complete binary tree (MIB / THREADS of
 * nodes in all), then runs ROUNDS rounds of
 *   - garbage: short-lived trees, which drive the incremental collector;
 *   - mutation: random subtrees of the long-lived tree are replaced by new
 *     ones, the only pointer to each stored into an old node, i.e. into a
 *     page the collector has most likely marked already in this cycle.
 *     If the collector missed one of those writes (a lost dirty page), the
 *     new subtree would be freed and its memory reused; the final check
 *     (after a full collection and more garbage to reuse freed memory)
 *     verifies every node's check word and subtree size and prints the
 *     count of bad nodes;
 *   - touch: one store into each of TOUCHES random old nodes (picked
 *     before the timed loop), no allocation: the first write to each page
 *     since the collector last re-armed it is what the dirty-bit layer (VDB)
 *     costs the program.
 *
 * Times: total wall time; wall time of the mutation and touch phases (summed
 * over threads); the world-stopped pauses reported by the collector's event
 * callback (GC_EVENT_PRE_STOP_WORLD .. GC_EVENT_POST_START_WORLD).  -i 0
 * leaves the incremental mode off: the touch time without write tracking.
 * Output: one line "gcbench key=value ...", errors=0 when no node was lost.
 */
#define GC_THREADS
#include <gc.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAGIC ((uintptr_t)0x5a17c0debadcafeULL)
#define MAX_THREADS 16
#define MAX_PAUSES 100000

struct node {
    struct node *left, *right;
    uintptr_t check;            /* (uintptr_t)self ^ MAGIC */
    uintptr_t size;             /* nodes in this subtree */
};

static int nthreads = 2, rounds = 40, incremental = 1;
static long mib = 256;
static int depth;               /* of each long-lived tree */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pauses: the callback runs in the collecting thread, under the GC lock. */
static double pause_start, pauses[MAX_PAUSES];
static size_t npauses;

static void on_event(GC_EventType ev)
{
    if (ev == GC_EVENT_PRE_STOP_WORLD) {
        pause_start = now_s();
    } else if (ev == GC_EVENT_POST_START_WORLD && pause_start > 0) {
        if (npauses < MAX_PAUSES)
            pauses[npauses++] = now_s() - pause_start;
        pause_start = 0;
    }
}

static struct node *build(int d)
{
    struct node *n;

    if (d == 0)
        return NULL;
    n = GC_MALLOC(sizeof(*n));
    if (n == NULL) {
        fprintf(stderr, "gcbench: out of memory\n");
        exit(2);
    }
    n->left = build(d - 1);
    n->right = build(d - 1);
    n->check = (uintptr_t)n ^ MAGIC;
    n->size = ((uintptr_t)1 << d) - 1;
    return n;
}

/* Is n a live node of a subtree d levels deep?  A node freed by a lost
 * write and reused has another address in its check word, or a free-list
 * link in its left pointer and another size. */
static int node_ok(const struct node *n, int d)
{
    return n != NULL && n->check == ((uintptr_t)n ^ MAGIC)
           && n->size == ((uintptr_t)1 << d) - 1;
}

/* The number of bad nodes (wrong check word or size) under n. */
static unsigned long verify(const struct node *n, int d)
{
    unsigned long bad = 0;

    if (d == 0)
        return n != NULL;
    if (n == NULL)
        return 1;
    if (!node_ok(n, d))
        return 1;       /* do not follow pointers of a reused object */
    bad += verify(n->left, d - 1);
    bad += verify(n->right, d - 1);
    return bad;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct worker {
    pthread_t thread;
    int id;
    struct node *root;
    double mutate_s, touch_s;
    unsigned long walk_bad;     /* bad nodes met on the way down */
    struct node **sample;       /* malloc'ed: not scanned, not watched */
    unsigned long bad;
};

#define SUBTREE_DEPTH 3         /* replaced subtrees: 7 nodes */
#define MUTATIONS 20000         /* per round and thread */
#define GARBAGE_DEPTH 14        /* short-lived trees: 16383 nodes */
#define GARBAGE_TREES 16        /* per round and thread */
#define TOUCHES 65536           /* per round and thread */

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->id + 1);
    int r, i;

    w->root = build(depth);
    for (r = 0; r < rounds; r++) {
        double t0;

        for (i = 0; i < GARBAGE_TREES; i++) {
            volatile struct node *g = build(GARBAGE_DEPTH);
            (void)g;
        }
        t0 = now_s();
        for (i = 0; i < MUTATIONS; i++) {
            /* Walk down to a node whose children are SUBTREE_DEPTH deep. */
            struct node *n = w->root;
            uint64_t path = rnd(&seed);
            int d;

            for (d = depth; d > SUBTREE_DEPTH + 1 && node_ok(n, d); d--, path >>= 1)
                n = (path & 1) ? n->left : n->right;
            if (!node_ok(n, d)) {
                w->walk_bad++;
                continue;
            }
            if (path & 1)
                n->left = build(SUBTREE_DEPTH);
            else
                n->right = build(SUBTREE_DEPTH);
        }
        w->mutate_s += now_s() - t0;

        /* This thread allocates nothing until the stores are done, and
         * only it changes its tree: the sampled nodes stay reachable. */
        for (i = 0; i < TOUCHES; i++) {
            struct node *n = w->root;
            uint64_t path = rnd(&seed);
            int d;

            for (d = depth; d > 1 && node_ok(n, d); d--, path >>= 1)
                n = (path & 1) ? n->left : n->right;
            if (!node_ok(n, d)) {
                w->walk_bad++;
                n = w->root;    /* touch something harmless instead */
            }
            w->sample[i] = n;
        }
        t0 = now_s();
        for (i = 0; i < TOUCHES; i++)
            *(volatile uintptr_t *)&w->sample[i]->size = w->sample[i]->size;
        w->touch_s += now_s() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct worker w[MAX_THREADS];
    double t0, total, mutate = 0, touch = 0;
    unsigned long bad = 0, nodes;
    int opt, i;

    while ((opt = getopt(argc, argv, "t:m:r:i:")) != -1) {
        switch (opt) {
        case 't': nthreads = atoi(optarg); break;
        case 'm': mib = atol(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'i': incremental = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: gcbench [-t THREADS] [-m MIB] [-r ROUNDS] [-i 0|1]\n");
            return 2;
        }
    }
    if (nthreads < 1 || nthreads > MAX_THREADS || mib < 1 || rounds < 0) {
        fprintf(stderr, "gcbench: bad arguments\n");
        return 2;
    }
    /* Nodes are 32 bytes: the largest depth whose trees fit in mib. */
    nodes = (unsigned long)(mib << 20) / 32 / nthreads;
    for (depth = 1; ((1UL << (depth + 1)) - 1) <= nodes; depth++)
        continue;

    GC_INIT();
    GC_allow_register_threads();
    if (incremental) {
        GC_enable_incremental();
        if (!GC_is_incremental_mode()) {
            fprintf(stderr, "gcbench: the incremental mode could not be enabled\n");
            return 1;
        }
    }
    GC_set_on_collection_event(on_event);

    t0 = now_s();
    for (i = 0; i < nthreads; i++) {
        w[i].id = i;
        w[i].root = NULL;
        w[i].mutate_s = w[i].touch_s = 0;
        w[i].walk_bad = 0;
        w[i].sample = malloc(TOUCHES * sizeof(*w[i].sample));
        if (w[i].sample == NULL) {
            fprintf(stderr, "gcbench: out of memory\n");
            return 1;
        }
        if (GC_pthread_create(&w[i].thread, NULL, work, &w[i]) != 0) {
            fprintf(stderr, "gcbench: cannot create a thread\n");
            return 1;
        }
    }
    for (i = 0; i < nthreads; i++) {
        GC_pthread_join(w[i].thread, NULL);
        mutate += w[i].mutate_s;
        touch += w[i].touch_s;
    }
    total = now_s() - t0;

    /* No write lost: collect, reuse freed memory, then check every node. */
    GC_set_on_collection_event(0);
    GC_gcollect();
    for (i = 0; i < 64; i++) {
        volatile struct node *g = build(GARBAGE_DEPTH);
        (void)g;
    }
    for (i = 0; i < nthreads; i++)
        bad += w[i].walk_bad + verify(w[i].root, depth);

    qsort(pauses, npauses, sizeof(pauses[0]), cmp_double);
    {
        double sum = 0;
        size_t k;

        for (k = 0; k < npauses; k++)
            sum += pauses[k];
        printf("gcbench threads=%d depth=%d tree_mib=%lu heap_mib=%lu incremental=%d "
               "total_ms=%.0f mutate_ms=%.0f touch_ms=%.0f pauses=%zu pause_med_us=%.0f "
               "pause_p90_us=%.0f pause_max_us=%.0f pause_total_ms=%.1f gc_no=%lu errors=%lu\n",
               nthreads, depth,
               (unsigned long)(nthreads * ((1UL << depth) - 1) * 32 >> 20),
               (unsigned long)(GC_get_heap_size() >> 20), GC_is_incremental_mode(),
               total * 1e3, mutate * 1e3, touch * 1e3, npauses,
               npauses ? pauses[npauses / 2] * 1e6 : 0,
               npauses ? pauses[(npauses * 9 + 9) / 10 - 1] * 1e6 : 0,
               npauses ? pauses[npauses - 1] * 1e6 : 0, sum * 1e3,
               (unsigned long)GC_get_gc_no(), bad);
    }
    return bad ? 1 : 0;
}
