/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwcheck.c - write-watch behaviour that Wine's kernel32 test leaves out and
 * that the libwritewatch patch implements in its own code: MEM_RESET and a
 * partial MEM_DECOMMIT keep the written/clean state of every page (also past
 * the patch's 32-run buffer), recommitted pages read as zeros, a released
 * address range can be watched again, a count-limited reset re-arms only the
 * pages it returned, a 64 GiB reservation reports only what was written in
 * what was committed (and prints how long reserving it took).  Expectations
 * are those of stock Wine 8.0.
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

/* GetWriteWatch must report exactly the pages listed in want[] (ascending). */
static void expect( char *base, DWORD flags, ULONG_PTR cap, const int *want, int n, int line )
{
    static void *found[PAGES];
    ULONG_PTR count = cap;
    DWORD gran;
    int i, ok;

    ok = !GetWriteWatch( flags, base, PAGES * PAGE, found, &count, &gran ) && count == (ULONG_PTR)n;
    for (i = 0; ok && i < n; i++) ok = found[i] == base + want[i] * PAGE;
    check( ok, line, "GetWriteWatch reports the expected pages" );
    if (!ok)
    {
        printf( "  got %lu:", (unsigned long)count );
        for (i = 0; i < (int)count && i < 16; i++) printf( " %d", (int)(((char *)found[i] - base) / PAGE) );
        printf( "\n" );
    }
}
#define EXPECT(flags, cap, ...) do { static const int w_[] = { __VA_ARGS__ }; \
    expect( base, flags, cap, w_, sizeof(w_) / sizeof(w_[0]), __LINE__ ); } while (0)
#define EXPECT_NONE(flags) expect( base, flags, PAGES, NULL, 0, __LINE__ )

static char *alloc_watched( void *at )
{
    return VirtualAlloc( at, PAGES * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE );
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

    /* a big reservation (as garbage collectors make): pages never committed
     * are never reported, commits in pieces are watched as they come, also
     * those committed without access and given it later */
    {
        const SIZE_T big_size = (SIZE_T)64 << 30;
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
            printf( "wwcheck: VirtualAlloc(64 GiB MEM_RESERVE|MEM_WRITE_WATCH): %.2f ms\n",
                    (double)(t1.QuadPart - t0.QuadPart) * 1000 / f.QuadPart );
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

    printf( "wwcheck: %d checks, %d failures\n", checks, failures );
    return failures ? 1 : 0;
}
