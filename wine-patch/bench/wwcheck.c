/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwcheck.c - write-watch behaviour that Wine's kernel32 test leaves out and
 * that the libwritewatch patch implements in its own code: MEM_RESET and a
 * partial MEM_DECOMMIT keep the written/clean state of every page (also past
 * the patch's 32-run buffer), recommitted pages read as zeros, a released
 * address range can be watched again, a count-limited reset re-arms only the
 * pages it returned, a 64 GiB reservation reports only what was written in
 * what was committed (and prints how long reserving it took), a partial
 * release (NtFreeVirtualMemory with a size), a write to a PAGE_GUARD page
 * after its guard fault is reported, no write racing with a MEM_RESET of
 * its page goes unreported, and, where Wine has placeholders
 * (10.0), splitting and replacing placeholders keep the state of the pages
 * that stay watched.  Expectations are those of stock Wine (8.0 and 10.0); a
 * feature the Wine under test lacks is skipped with a "skipped:" line.
 *
 * Prints one "wwcheck: N checks, F failures" line; exit status 1 on failure.
 * x86_64-w64-mingw32-gcc -O2 -o wwcheck.exe wwcheck.c
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096
#define PAGES 256

static int checks, failures;

static void check( int ok, int line, const char *what )
{
    checks++;
    if (!ok)
    {
        failures++;
        printf( "wwcheck.c:%d: failed: %s\n", line, what );
    }
}
#define CHECK(x) check( !!(x), __LINE__, #x )

/* GetWriteWatch of the first pages of base must report exactly the pages
 * listed in want[] (ascending). */
static void expect_in( char *base, int pages, DWORD flags, ULONG_PTR cap, const int *want, int n, int line )
{
    static void *found[PAGES];
    ULONG_PTR count = cap;
    DWORD gran;
    int i, ok;

    ok = !GetWriteWatch( flags, base, pages * PAGE, found, &count, &gran ) && count == (ULONG_PTR)n;
    for (i = 0; ok && i < n; i++) ok = found[i] == base + want[i] * PAGE;
    check( ok, line, "GetWriteWatch reports the expected pages" );
    if (!ok)
    {
        printf( "  got %lu:", (unsigned long)count );
        for (i = 0; i < (int)count && i < 16; i++) printf( " %d", (int)(((char *)found[i] - base) / PAGE) );
        printf( "\n" );
    }
}
#define expect( base, flags, cap, want, n, line ) expect_in( base, PAGES, flags, cap, want, n, line )
#define EXPECT_IN(b, pages, ...) do { static const int w_[] = { __VA_ARGS__ }; \
    expect_in( b, pages, 0, PAGES, w_, sizeof(w_) / sizeof(w_[0]), __LINE__ ); } while (0)
#define EXPECT_NONE_IN(b, pages) expect_in( b, pages, 0, PAGES, NULL, 0, __LINE__ )
#define EXPECT(flags, cap, ...) do { static const int w_[] = { __VA_ARGS__ }; \
    expect( base, flags, cap, w_, sizeof(w_) / sizeof(w_[0]), __LINE__ ); } while (0)
#define EXPECT_NONE(flags) expect( base, flags, PAGES, NULL, 0, __LINE__ )

static char *alloc_watched( void *at )
{
    return VirtualAlloc( at, PAGES * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE );
}

static BOOL is_zero( const char *p, int pages )
{
    int i;

    for (i = 0; i < pages * PAGE; i++) if (p[i]) return FALSE;
    return TRUE;
}

static BOOL not_watched( char *p )
{
    ULONG_PTR count = 1;
    DWORD gran;
    void *found[1];

    return GetWriteWatch( 0, p, PAGE, found, &count, &gran ) && GetLastError() == ERROR_INVALID_PARAMETER;
}

/* NtFreeVirtualMemory(MEM_RELEASE) of pages in the middle of a watched
 * allocation: what stays keeps its written and clean pages. */
static void check_partial_release(void)
{
    LONG (WINAPI *pNtFreeVirtualMemory)( HANDLE, void **, SIZE_T *, ULONG ) =
        (void *)GetProcAddress( GetModuleHandleA( "ntdll.dll" ), "NtFreeVirtualMemory" );
    char *base = alloc_watched( NULL );
    void *addr = base + 100 * PAGE;
    SIZE_T size = 20 * PAGE;

    CHECK( base != NULL );
    if (!base) return;
    base[10 * PAGE] = base[99 * PAGE] = base[105 * PAGE] = base[120 * PAGE] = base[200 * PAGE] = 1;
    if (!pNtFreeVirtualMemory || pNtFreeVirtualMemory( GetCurrentProcess(), &addr, &size, MEM_RELEASE ))
    {
        printf( "skipped: partial MEM_RELEASE (not supported here)\n" );
        VirtualFree( base, 0, MEM_RELEASE );
        return;
    }
    EXPECT_IN( base, 100, 10, 99 );
    EXPECT_IN( base + 120 * PAGE, PAGES - 120, 0, 80 );
    base[50 * PAGE] = base[130 * PAGE] = 2;
    expect_in( base, 100, WRITE_WATCH_FLAG_RESET, PAGES, (const int[]){ 10, 50, 99 }, 3, __LINE__ );
    expect_in( base + 120 * PAGE, PAGES - 120, WRITE_WATCH_FLAG_RESET, PAGES, (const int[]){ 0, 10, 80 }, 3, __LINE__ );
    EXPECT_NONE_IN( base, 100 );
    EXPECT_NONE_IN( base + 120 * PAGE, PAGES - 120 );
    base[0] = base[255 * PAGE] = 3;
    EXPECT_IN( base, 100, 0 );
    EXPECT_IN( base + 120 * PAGE, PAGES - 120, 135 );
    addr = base + 120 * PAGE;
    size = 0;
    CHECK( !pNtFreeVirtualMemory( GetCurrentProcess(), &addr, &size, MEM_RELEASE ));
    CHECK( VirtualFree( base, 0, MEM_RELEASE ) );
}

/* Placeholders (VirtualAlloc2, Wine >= 9): a watched replacement starts clean,
 * splitting it keeps each part's state, a part turned back into a placeholder
 * and replaced again is clean and zero, one replaced without MEM_WRITE_WATCH is
 * not watched. */
static void check_placeholders(void)
{
    void *(WINAPI *pVirtualAlloc2)( HANDLE, void *, SIZE_T, ULONG, ULONG, void *, ULONG ) =
        (void *)GetProcAddress( GetModuleHandleA( "kernelbase.dll" ), "VirtualAlloc2" );
    const ULONG replace = MEM_RESERVE | MEM_COMMIT | 0x4000 /* MEM_REPLACE_PLACEHOLDER */;
    const ULONG preserve = MEM_RELEASE | 0x2 /* MEM_PRESERVE_PLACEHOLDER */;
    char *p = NULL, *q;

    if (pVirtualAlloc2)
        p = pVirtualAlloc2( NULL, NULL, 2 * PAGES * PAGE, MEM_RESERVE | 0x40000 /* MEM_RESERVE_PLACEHOLDER */,
                            PAGE_NOACCESS, NULL, 0 );
    if (!p)
    {
        printf( "skipped: placeholders (not supported here)\n" );
        return;
    }
    CHECK( VirtualFree( p, PAGES * PAGE, preserve ) );
    q = pVirtualAlloc2( NULL, p, PAGES * PAGE, replace | MEM_WRITE_WATCH, PAGE_READWRITE, NULL, 0 );
    CHECK( q == p );
    if (q != p) return;
    EXPECT_NONE_IN( p, PAGES );
    p[3 * PAGE] = p[70 * PAGE] = p[200 * PAGE] = 1;
    EXPECT_IN( p, PAGES, 3, 70, 200 );

    /* the middle quarter back to a placeholder: both ends keep their state */
    CHECK( VirtualFree( p + 64 * PAGE, 64 * PAGE, preserve ) );
    EXPECT_IN( p, 64, 3 );
    EXPECT_IN( p + 128 * PAGE, 128, 72 );
    CHECK( not_watched( p + 64 * PAGE ) );
    q = pVirtualAlloc2( NULL, p + 64 * PAGE, 64 * PAGE, replace | MEM_WRITE_WATCH, PAGE_READWRITE, NULL, 0 );
    CHECK( q == p + 64 * PAGE );
    if (q != p + 64 * PAGE) return;
    CHECK( is_zero( q, 64 ) );
    EXPECT_NONE_IN( q, 64 );
    q[5 * PAGE] = 2;
    p[4 * PAGE] = 2;
    EXPECT_IN( q, 64, 5 );
    EXPECT_IN( p, 64, 3, 4 );

    /* a whole part back to a placeholder, replaced without MEM_WRITE_WATCH */
    CHECK( VirtualFree( p, 64 * PAGE, preserve ) );
    q = pVirtualAlloc2( NULL, p, 64 * PAGE, replace, PAGE_READWRITE, NULL, 0 );
    CHECK( q == p );
    if (q == p)
    {
        CHECK( is_zero( p, 64 ) );
        CHECK( not_watched( p ) );
        memset( p, 3, 64 * PAGE );
    }
    EXPECT_IN( p + 64 * PAGE, 64, 5 );
    EXPECT_IN( p + 128 * PAGE, 128, 72 );
    CHECK( VirtualFree( p, 0, MEM_RELEASE ) );
    CHECK( VirtualFree( p + 64 * PAGE, 0, MEM_RELEASE ) );
    CHECK( VirtualFree( p + 128 * PAGE, 0, MEM_RELEASE ) );
    CHECK( VirtualFree( p + 256 * PAGE, 0, MEM_RELEASE ) );
}

/* No write racing with a MEM_RESET of its own page goes unreported.  A
 * writer thread writes every page whose last write was seen; a second
 * thread MEM_RESETs sub-ranges and the whole range without pause; the main
 * thread's GetWriteWatch(RESET) calls must each report every page written
 * before they began (or one call since its last write has).  A patch that
 * found the written pages, freed the rest and re-armed them lost writes
 * landing in between. */
enum { RACE_GETS = 300 };
static char *race_base;
static volatile LONG race_pending[PAGES], race_stop, race_errors;

static DWORD WINAPI race_writer( void *arg )
{
    LONG seq = 1;
    int p;

    (void)arg;
    while (!race_stop)
        for (p = 0; p < PAGES; p++)
        {
            if (race_pending[p]) continue;
            ((volatile LONG *)(race_base + p * PAGE))[1] = seq++;
            InterlockedExchange( &race_pending[p], 1 );
        }
    return 0;
}

static DWORD WINAPI race_resetter( void *arg )
{
    unsigned int r = 1;

    (void)arg;
    while (!race_stop)
    {
        int a, b;

        r = r * 1103515245 + 12345;
        a = (r >> 16) % PAGES;
        b = a + 1 + (r >> 8) % (PAGES - a);
        if (r & 0x400) a = 0, b = PAGES;
        if (VirtualAlloc( race_base + a * PAGE, (b - a) * PAGE, MEM_RESET, PAGE_READWRITE ) != race_base + a * PAGE)
            InterlockedIncrement( &race_errors );
    }
    return 0;
}

static BOOL race_any_pending(void)
{
    int p;

    for (p = 0; p < PAGES; p++) if (race_pending[p]) return TRUE;
    return FALSE;
}

static void check_mem_reset_race(void)
{
    static void *found[PAGES];
    static char before[PAGES], seen[PAGES];
    int g, p, checked = 0, lost = -1, lost_get = 0;
    HANDLE threads[2];

    race_base = alloc_watched( NULL );
    CHECK( race_base != NULL );
    if (!race_base) return;
    threads[0] = CreateThread( NULL, 0, race_writer, NULL, 0, NULL );
    threads[1] = CreateThread( NULL, 0, race_resetter, NULL, 0, NULL );
    CHECK( threads[0] && threads[1] );
    for (g = 0; g < RACE_GETS && lost < 0 && threads[0] && threads[1]; g++)
    {
        ULONG_PTR count = PAGES, i;
        DWORD gran, give_up = GetTickCount() + 30000;

        while (!race_any_pending() && GetTickCount() < give_up) Sleep( 0 );
        for (p = 0; p < PAGES; p++) before[p] = race_pending[p] != 0;
        if (GetWriteWatch( WRITE_WATCH_FLAG_RESET, race_base, PAGES * PAGE, found, &count, &gran ))
        {
            CHECK( !"GetWriteWatch failed" );
            break;
        }
        for (i = 0; i < count; i++) seen[((char *)found[i] - race_base) / PAGE] = 1;
        for (p = 0; p < PAGES && lost < 0; p++)
        {
            if (!before[p]) continue;
            if (!seen[p]) lost = p, lost_get = g;
            seen[p] = 0;
            InterlockedExchange( &race_pending[p], 0 );
            checked++;
        }
    }
    race_stop = 1;
    if (threads[0]) WaitForSingleObject( threads[0], INFINITE );
    if (threads[1]) WaitForSingleObject( threads[1], INFINITE );
    check( lost < 0, __LINE__, "no write racing with MEM_RESET goes unreported" );
    if (lost >= 0) printf( "  get %d: the write to page %d, done before it, was never reported\n", lost_get, lost );
    /* each get waited for a write to check (one each on a slow path: 343 over 300 gets seen) */
    check( checked >= g, __LINE__, "every get of the race checked a write" );
    CHECK( race_errors == 0 );
    printf( "wwcheck: MEM_RESET race: %d writes checked over %d gets\n", checked, g );
    CHECK( VirtualFree( race_base, 0, MEM_RELEASE ) );
}

static volatile LONG guard_hits;

/* A guard page's first touch: count it and let the access run again (the
 * fault has taken the guard off). */
static LONG CALLBACK guard_handler( EXCEPTION_POINTERS *e )
{
    if (e->ExceptionRecord->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION) return EXCEPTION_CONTINUE_SEARCH;
    guard_hits++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

int main(void)
{
    static int every_other[PAGES / 2];
    ULONG_PTR count;
    DWORD gran;
    void *found[4];
    char *base = alloc_watched( NULL ), *again;
    int i, zero;

    CHECK( base != NULL );
    if (!base) return 1;
    EXPECT_NONE( 0 );

    /* count-limited get+reset re-arms exactly the pages it returned */
    base[1 * PAGE] = base[5 * PAGE] = base[6 * PAGE + 7] = base[40 * PAGE] = 1;
    EXPECT( 0, PAGES, 1, 5, 6, 40 );
    EXPECT( WRITE_WATCH_FLAG_RESET, 2, 1, 5 );
    EXPECT( 0, PAGES, 6, 40 );
    CHECK( !ResetWriteWatch( base, PAGES * PAGE ) );
    EXPECT_NONE( 0 );

    /* MEM_RESET drops contents, not the write-watch state */
    base[3 * PAGE] = base[4 * PAGE] = 2;
    CHECK( VirtualAlloc( base + 2 * PAGE, 8 * PAGE, MEM_RESET, PAGE_READWRITE ) == base + 2 * PAGE );
    EXPECT( 0, PAGES, 3, 4 );
    CHECK( !ResetWriteWatch( base, PAGES * PAGE ) );

    /* ... also with more written runs than the patch buffers at once */
    for (i = 0; i < PAGES / 2; i++)
    {
        every_other[i] = 2 * i;
        base[2 * i * PAGE] = 3;
    }
    CHECK( VirtualAlloc( base, PAGES * PAGE, MEM_RESET, PAGE_READWRITE ) == base );
    expect( base, WRITE_WATCH_FLAG_RESET, PAGES, every_other, PAGES / 2, __LINE__ );
    EXPECT_NONE( 0 );

    /* partial decommit keeps the state; recommitted pages are zero and clean */
    base[12 * PAGE] = base[15 * PAGE] = base[30 * PAGE] = 4;
    CHECK( VirtualFree( base + 10 * PAGE, 10 * PAGE, MEM_DECOMMIT ) );
    EXPECT( 0, PAGES, 12, 15, 30 );
    CHECK( VirtualAlloc( base + 10 * PAGE, 10 * PAGE, MEM_COMMIT, PAGE_READWRITE ) == base + 10 * PAGE );
    for (zero = 1, i = 10 * PAGE; i < 20 * PAGE; i++) zero &= !base[i];
    CHECK( zero );
    EXPECT( 0, PAGES, 12, 15, 30 );
    base[11 * PAGE] = 5;
    EXPECT( WRITE_WATCH_FLAG_RESET, PAGES, 11, 12, 15, 30 );

    /* a released range can be watched again, from a clean start */
    CHECK( VirtualFree( base, 0, MEM_RELEASE ) );
    again = alloc_watched( base );
    CHECK( again == base );
    if (again != base) base = again ? again : alloc_watched( NULL );
    EXPECT_NONE( 0 );
    base[0] = 6;
    EXPECT( 0, PAGES, 0 );
    CHECK( VirtualFree( base, 0, MEM_RELEASE ) );

    /* ... and a plain allocation there is not watched */
    again = VirtualAlloc( base, PAGES * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE );
    CHECK( again != NULL );
    if (again)
    {
        memset( again, 7, PAGES * PAGE );
        count = 4;
        CHECK( GetWriteWatch( 0, again, PAGE, found, &count, &gran ) &&
               GetLastError() == ERROR_INVALID_PARAMETER );
        VirtualFree( again, 0, MEM_RELEASE );
    }

    /* committed with PAGE_GUARD: the guard fault gives the page its access,
     * and the write that follows is reported (Wine's i386 kernel32 test
     * test_guard_page does this; the patch once left such pages unwatched) */
    {
        volatile char *g = VirtualAlloc( NULL, 4 * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                                         PAGE_READWRITE | PAGE_GUARD );
        void *h = AddVectoredExceptionHandler( 1, guard_handler );

        CHECK( g != NULL && h != NULL );
        if (g && h)
        {
            EXPECT_NONE_IN( (char *)g, 4 );
            g[2 * PAGE] = 1;
            CHECK( guard_hits == 1 );
            CHECK( g[2 * PAGE] == 1 );
            if (guard_hits != 1) printf( "  guard faults: %ld\n", (long)guard_hits );
            EXPECT_IN( (char *)g, 4, 2 );
        }
        if (h) RemoveVectoredExceptionHandler( h );
        if (g) VirtualFree( (void *)g, 0, MEM_RELEASE );
    }

    /* a big reservation (as garbage collectors make): pages never committed
     * are never reported, commits in pieces are watched as they come, also
     * those committed without access and given it later */
    {
        /* 64 GiB; a 32-bit program's address space has room for 256 MiB */
        const SIZE_T big_size = sizeof(void *) > 4 ? (SIZE_T)64 << 30 : (SIZE_T)256 << 20;
        LARGE_INTEGER f, t0, t1;
        char *big, *mid;
        void *all[8];

        QueryPerformanceFrequency( &f );
        QueryPerformanceCounter( &t0 );
        big = VirtualAlloc( NULL, big_size, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS );
        QueryPerformanceCounter( &t1 );
        CHECK( big != NULL );
        if (big)
        {
            printf( "wwcheck: VirtualAlloc(%u MiB MEM_RESERVE|MEM_WRITE_WATCH): %.2f ms\n",
                    (unsigned)(big_size >> 20), (double)(t1.QuadPart - t0.QuadPart) * 1000 / f.QuadPart );
            mid = big + big_size / 2;
            CHECK( VirtualAlloc( mid, PAGES * PAGE, MEM_COMMIT, PAGE_READWRITE ) == mid );
            CHECK( VirtualAlloc( big, PAGE, MEM_COMMIT, PAGE_NOACCESS ) == big );
            mid[3 * PAGE] = 1;
            count = 8;
            CHECK( !GetWriteWatch( 0, big, big_size, all, &count, &gran ) && count == 1 &&
                   all[0] == mid + 3 * PAGE );
            CHECK( VirtualProtect( big, PAGE, PAGE_READWRITE, &gran ) );
            big[5] = 2;
            count = 8;
            CHECK( !GetWriteWatch( WRITE_WATCH_FLAG_RESET, big, big_size, all, &count, &gran ) &&
                   count == 2 && all[0] == big && all[1] == mid + 3 * PAGE );
            count = 8;
            CHECK( !GetWriteWatch( 0, big, big_size, all, &count, &gran ) && count == 0 );
            CHECK( VirtualFree( big, 0, MEM_RELEASE ) );
        }
    }

    check_partial_release();
    check_placeholders();
    check_mem_reset_race();

    printf( "wwcheck: %d checks, %d failures\n", checks, failures );
    return failures ? 1 : 0;
}
