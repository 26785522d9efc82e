/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwbench.c - what a first write and a GetWriteWatch cost under Wine (or Windows).
 *
 *   wwbench [threads] [pages] [seq|rand] [getreset|separate] [rounds]
 *   defaults: 1 4096 seq getreset 20
 *
 * One MEM_WRITE_WATCH allocation of `pages` pages, split into one contiguous
 * share per thread.  Each round: every thread writes one byte to each page of
 * its share (in address order or in a random order), each write being the
 * first to a clean page; then the main thread calls GetWriteWatch, which must
 * report every page, and re-arms them all, either with WRITE_WATCH_FLAG_RESET
 * ("getreset") or with a separate ResetWriteWatch ("separate").
 *
 * Prints one line of name=value pairs:
 *   write_ns   mean time of one first write, as seen by the writing thread
 *   wall_ns    wall time of a round's writes divided by the pages written
 *   get_us     mean time of one GetWriteWatch call (all pages written)
 *   reset_us   mean time of one ResetWriteWatch call ("separate" only)
 *   errors     rounds in which GetWriteWatch failed or reported wrong pages
 *
 * x86_64-w64-mingw32-gcc -O2 -o wwbench.exe wwbench.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096

struct worker
{
    char **order;           /* the pages of this thread's share, in write order */
    size_t n;
    HANDLE go;              /* set by the main thread to start a round */
    LONGLONG ticks;         /* sum over rounds of the time its writes took */
};

static volatile LONG writers_done;  /* rounds finished, summed over the workers */
static HANDLE round_done;           /* set by the last worker to finish a round */
static int rounds, threads;

static LONGLONG now(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter( &t );
    return t.QuadPart;
}

static DWORD WINAPI writer( void *arg )
{
    struct worker *w = arg;
    int r;

    for (r = 1; r <= rounds; r++)
    {
        LONGLONG t0;
        size_t i;

        WaitForSingleObject( w->go, INFINITE );
        t0 = now();
        for (i = 0; i < w->n; i++) *(volatile char *)w->order[i] = (char)r;
        w->ticks += now() - t0;
        if (InterlockedIncrement( &writers_done ) == r * threads) SetEvent( round_done );
    }
    return 0;
}

static unsigned int rng = 12345;
static unsigned int next_random(void)
{
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return rng;
}

/* GetWriteWatch must report exactly every page, in order. */
static BOOL check_report( char *base, void **found, ULONG_PTR count, size_t pages, DWORD gran )
{
    size_t i;

    if (count != pages || gran != PAGE) return FALSE;
    for (i = 0; i < pages; i++) if (found[i] != base + i * PAGE) return FALSE;
    return TRUE;
}

int main( int argc, char **argv )
{
    size_t pages = argc > 2 ? strtoul( argv[2], NULL, 0 ) : 4096;
    BOOL random = argc > 3 && !strcmp( argv[3], "rand" );
    BOOL separate = argc > 4 && !strcmp( argv[4], "separate" );
    struct worker *workers;
    HANDLE *handles;
    LARGE_INTEGER freq;
    LONGLONG get_ticks = 0, reset_ticks = 0, wall_ticks = 0, write_ticks = 0;
    void **found;
    char *base;
    size_t i;
    int t, r, errors = 0;

    threads = argc > 1 ? atoi( argv[1] ) : 1;
    rounds = argc > 5 ? atoi( argv[5] ) : 20;
    if (threads < 1 || threads > 64 || pages < (size_t)threads || rounds < 1)
    {
        fprintf( stderr, "usage: wwbench [threads] [pages] [seq|rand] [getreset|separate] [rounds]\n" );
        return 2;
    }
    QueryPerformanceFrequency( &freq );

    base = VirtualAlloc( NULL, pages * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE );
    found = malloc( pages * sizeof(*found) );
    workers = calloc( threads, sizeof(*workers) );
    handles = calloc( threads, sizeof(*handles) );
    if (!base || !found || !workers || !handles)
    {
        fprintf( stderr, "wwbench: allocation failed (%lu)\n", GetLastError() );
        return 1;
    }

    for (t = 0; t < threads; t++)
    {
        struct worker *w = &workers[t];
        size_t first = pages * t / threads;

        w->n = pages * (t + 1) / threads - first;
        w->order = malloc( w->n * sizeof(*w->order) );
        w->go = CreateEventA( NULL, FALSE, FALSE, NULL );
        for (i = 0; i < w->n; i++) w->order[i] = base + (first + i) * PAGE;
        for (i = w->n - 1; random && i > 0; i--)
        {
            size_t j = next_random() % (i + 1);
            char *tmp = w->order[i];
            w->order[i] = w->order[j];
            w->order[j] = tmp;
        }
    }

    /* populate every page once, so that rounds measure write watching, not page faults */
    memset( base, 1, pages * PAGE );
    if (ResetWriteWatch( base, pages * PAGE )) errors++;

    round_done = CreateEventA( NULL, FALSE, FALSE, NULL );
    for (t = 0; t < threads; t++) handles[t] = CreateThread( NULL, 0, writer, &workers[t], 0, NULL );

    for (r = 1; r <= rounds; r++)
    {
        ULONG_PTR count = pages;
        DWORD gran = 0;
        LONGLONG t0 = now(), t1;

        for (t = 0; t < threads; t++) SetEvent( workers[t].go );
        WaitForSingleObject( round_done, INFINITE );
        t1 = now();
        wall_ticks += t1 - t0;

        t0 = now();
        if (GetWriteWatch( separate ? 0 : WRITE_WATCH_FLAG_RESET, base, pages * PAGE, found, &count, &gran ))
            count = 0;
        get_ticks += now() - t0;
        if (!check_report( base, found, count, pages, gran )) errors++;

        if (separate)
        {
            t0 = now();
            if (ResetWriteWatch( base, pages * PAGE )) errors++;
            reset_ticks += now() - t0;
        }
    }
    WaitForMultipleObjects( threads, handles, TRUE, INFINITE );
    for (t = 0; t < threads; t++) write_ticks += workers[t].ticks;

#define NS(ticks) ((double)(ticks) * 1e9 / (double)freq.QuadPart)
    printf( "wwbench threads=%d pages=%lu order=%s mode=%s rounds=%d "
            "write_ns=%.0f wall_ns=%.0f get_us=%.1f reset_us=%.1f errors=%d\n",
            threads, (unsigned long)pages, random ? "rand" : "seq", separate ? "separate" : "getreset",
            rounds, NS(write_ticks) / ((double)pages * rounds), NS(wall_ticks) / ((double)pages * rounds),
            NS(get_ticks) / 1e3 / rounds, separate ? NS(reset_ticks) / 1e3 / rounds : 0.0, errors );
    VirtualFree( base, 0, MEM_RELEASE );
    return errors ? 1 : 0;
}
