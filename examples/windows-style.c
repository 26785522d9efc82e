/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * windows-style.c - Windows source, unchanged, using write watches.
 *
 * With WW_WIN32_NAMES defined before <writewatch/win32.h>, VirtualAlloc,
 * GetWriteWatch, ResetWriteWatch, GetLastError, ... are libwritewatch's
 * ww_ functions, with Windows' signatures and semantics.  On Windows the
 * same code would include <windows.h> instead.
 *
 * The program reserves and commits 1 MiB with MEM_WRITE_WATCH, writes to a
 * few pages, lists the written pages, resets, and checks that the lists
 * are what Windows would return.  Exit status 0 on success.
 *
 *   cc windows-style.c $(pkg-config --cflags --libs libwritewatch)
 */
#define WW_WIN32_NAMES
#include <writewatch/win32.h>

#include <stdio.h>

#define SIZE (1u << 20)

/* Print the written pages of the allocation and return how many there
 * were, or -1 on error.  WRITE_WATCH_FLAG_RESET (if given) marks exactly
 * the pages returned unwritten again. */
static int show_written(const char *when, char *base, DWORD flags)
{
    PVOID pages[16];
    ULONG_PTR count = 16;
    ULONG granularity;

    if (GetWriteWatch(flags, base, SIZE, pages, &count, &granularity) != 0) {
        printf("GetWriteWatch failed: error %lu\n",
               (unsigned long)GetLastError());
        return -1;
    }
    printf("%-22s %lu page(s):", when, (unsigned long)count);
    for (ULONG_PTR i = 0; i < count; i++)
        printf(" +%lu", (unsigned long)((char *)pages[i] - base));
    printf("  (granularity %lu)\n", (unsigned long)granularity);
    return (int)count;
}

int main(void)
{
    char *base = VirtualAlloc(NULL, SIZE,
                              MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                              PAGE_READWRITE);
    int ok;

    if (!base) {
        printf("VirtualAlloc failed: error %lu\n",
               (unsigned long)GetLastError());
        /* No write-watch backend here: "skipped", for make check. */
        return GetLastError() == ERROR_NOT_SUPPORTED ? 77 : 1;
    }

    base[5000] = 1;                     /* page 1 */
    base[5001] = 2;                     /* page 1 again */
    base[70000] = 3;                    /* page 17 */
    ok = show_written("after three writes", base, 0) == 2;
    /* Without the reset flag nothing changed: the same two pages. */
    ok &= show_written("asked again, reset", base,
                       WRITE_WATCH_FLAG_RESET) == 2;
    ok &= show_written("after the reset", base, 0) == 0;

    base[SIZE - 1] = 4;                 /* the last page */
    ok &= show_written("after one more write", base, 0) == 1;
    if (ResetWriteWatch(base, SIZE) != 0)
        ok = 0;
    ok &= show_written("after ResetWriteWatch", base, 0) == 0;

    if (!VirtualFree(base, 0, MEM_RELEASE))
        ok = 0;
    printf("%s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
