# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/local.mk - the tests, included by Makefile.am (paths are from the
# top of the tree).
#
# make check       the Check suites, every case on every backend, as TAP
#                  (one "ok N - suite:backend:test" line per case, "# SKIP
#                  why" for what cannot run here), the examples, and the
#                  scripts that check the installed files; about 15 s.
# make check-slow  what takes long: the no-lost-write stress test, the
#                  VMA-limit tests, the benchmark's smoke run.
#                  scripts/test.sh runs both.
# make fuzz, make tsan   in builds configured for them (end of this file).
#
# WW_TEST_REQUIRE=uffd,mprotect makes an unavailable backend fail instead
# of SKIP.

# The Check suites write TAP (tests/helpers.c, run_suite()); so do
# tests/test_win32_dropin and tests/examples.tap.  The .sh scripts pass or
# fail by exit status (77: skipped).
TEST_EXTENSIONS = .tap .sh
WW_TAP_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_DRIVER = $(WW_TAP_DRIVER)
TAP_LOG_DRIVER = $(WW_TAP_DRIVER)
TAP_LOG_COMPILER = $(SHELL)

# What install-test.sh needs to know: where things go, how to compile.
AM_TESTS_ENVIRONMENT = \
	WW_MAKE='$(MAKE)' WW_VERSION='$(PACKAGE_VERSION)' \
	WW_CC='$(CC)' WW_CFLAGS='$(WARN_CFLAGS) $(CFLAGS) $(SAN_CFLAGS)' \
	WW_LDFLAGS='$(LDFLAGS) $(SAN_CFLAGS)' WW_PKG_CONFIG='$(PKG_CONFIG)' \
	WW_LIBDIR='$(libdir)' WW_INCLUDEDIR='$(includedir)' \
	WW_PKGCONFIGDIR='$(pkgconfigdir)' WW_BINDIR='$(bindir)' \
	WW_MANDIR='$(mandir)'; \
	export WW_MAKE WW_VERSION WW_CC WW_CFLAGS WW_LDFLAGS WW_PKG_CONFIG \
	WW_LIBDIR WW_INCLUDEDIR WW_PKGCONFIGDIR WW_BINDIR WW_MANDIR;

# The slow tests are in TESTS too: make check lists them as SKIP (they run
# only with WW_TEST_SLOW=1), make check-slow runs them alone.
WW_SCRIPT_TESTS = tests/examples.tap tests/man-lint.sh tests/abi-check.sh \
	tests/install-test.sh
WW_SLOW_TESTS = tests/wwbench-smoke.sh
TESTS = $(WW_SCRIPT_TESTS) $(WW_SLOW_TESTS)
dist_check_SCRIPTS = $(WW_SCRIPT_TESTS) $(WW_SLOW_TESTS)

if HAVE_CHECK
# Defaults of every test program: Check, the shared helpers (compiled once
# into tests/libwwtest.la), the shared library.
check_LTLIBRARIES = tests/libwwtest.la
tests_libwwtest_la_SOURCES = tests/helpers.c tests/helpers.h
AM_CFLAGS += $(CHECK_CFLAGS)
LDADD = tests/libwwtest.la libwritewatch/libwritewatch.la $(CHECK_LIBS)
# Suites that reach into the library's headers (kernel-uapi.h, ...).
WW_INTERNAL_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libwritewatch

WW_CHECK_SUITES = tests/test_native tests/test_errors tests/test_kernel \
	tests/test_internal tests/test_model tests/test_resources \
	tests/test_limits tests/test_mprotect tests/test_signals \
	tests/test_protect tests/test_world
WW_SLOW_CHECK_SUITES = tests/test_stress tests/test_vma_limit
check_PROGRAMS = $(WW_CHECK_SUITES) $(WW_SLOW_CHECK_SUITES)
TESTS += $(WW_CHECK_SUITES) $(WW_SLOW_CHECK_SUITES)
WW_SLOW_TESTS += $(WW_SLOW_CHECK_SUITES)

tests_test_kernel_CPPFLAGS = $(WW_INTERNAL_CPPFLAGS)
tests_test_model_SOURCES = tests/test_model.c tests/model.c tests/model.h
tests_test_resources_CPPFLAGS = $(WW_INTERNAL_CPPFLAGS)
tests_test_world_LDADD = $(LDADD) $(PTHREAD_LIBS)
# Includes mprotect-watch.c, registry.c, vma.c and uffd.c to reach their
# static functions (and uffd.c's test seam); links the convenience library
# statically for the rest.
tests_test_internal_CPPFLAGS = $(WW_INTERNAL_CPPFLAGS)
tests_test_internal_LDADD = tests/libwwtest.la libwritewatch/libwwcore.la \
	$(CHECK_LIBS) $(PTHREAD_LIBS)

# The Win32/NT layer's suites use Wine's types where Wine's headers are,
# the header's own elsewhere.  test_win32_header compiles
# win32_standalone.c without Wine's headers; test_win32_wine checks the
# header against them; test_win32_dropin is plain Windows source, built
# with -DWW_WIN32_NAMES -include writewatch/win32.h.
check_LTLIBRARIES += tests/libwwtestwin32.la
tests_libwwtestwin32_la_SOURCES = tests/win32_helpers.c tests/win32_helpers.h
tests_libwwtestwin32_la_CPPFLAGS = $(AM_CPPFLAGS) $(WINE_CPPFLAGS)
WW_WIN32_CPPFLAGS = $(AM_CPPFLAGS) $(WINE_CPPFLAGS)
WW_WIN32_LDADD = tests/libwwtestwin32.la $(LDADD)

WW_WIN32_SUITES = tests/test_win32 tests/test_win32_errors \
	tests/test_win32_vm tests/test_win32_header
if HAVE_WINE_HEADERS
WW_WIN32_SUITES += tests/test_win32_wine tests/test_win32_dropin
endif
check_PROGRAMS += $(WW_WIN32_SUITES)
TESTS += $(WW_WIN32_SUITES)

tests_test_win32_CPPFLAGS = $(WW_WIN32_CPPFLAGS)
tests_test_win32_LDADD = $(WW_WIN32_LDADD)
tests_test_win32_errors_CPPFLAGS = $(WW_WIN32_CPPFLAGS)
tests_test_win32_errors_LDADD = $(WW_WIN32_LDADD)
tests_test_win32_vm_CPPFLAGS = $(WW_WIN32_CPPFLAGS)
tests_test_win32_vm_LDADD = $(WW_WIN32_LDADD)
tests_test_win32_header_SOURCES = tests/test_win32_header.c \
	tests/win32_standalone.c tests/win32_standalone.h
tests_test_win32_wine_SOURCES = tests/test_win32_wine.c \
	tests/win32_own_types.c tests/win32_wine.h
tests_test_win32_wine_CPPFLAGS = $(WW_WIN32_CPPFLAGS) \
	-I$(top_srcdir)/libwritewatch
tests_test_win32_wine_LDADD = $(WW_WIN32_LDADD)
tests_test_win32_dropin_CPPFLAGS = $(WW_WIN32_CPPFLAGS) -DWW_WIN32_NAMES \
	-include writewatch/win32.h
tests_test_win32_dropin_LDADD = libwritewatch/libwritewatch.la
endif

# The slow tests: the same harness, their own summary log.
check-slow: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(WW_SLOW_TESTS)' \
		TEST_SUITE_LOG=tests/slow-suite.log WW_TEST_SLOW=1
.PHONY: check-slow
CLEANFILES += tests/slow-suite.log

# --- make fuzz, make tsan -------------------------------------------------
# Each needs its own build: ./configure CC=clang --enable-fuzzer (libFuzzer:
# API sequences against the model, FUZZ_SECONDS), ./configure CC=clang
# --enable-tsan (the stress test under ThreadSanitizer; WW_STRESS_PERCENT
# scales it, TSan slows it down several times).
FUZZ_SECONDS = 60
TSAN_STRESS_PERCENT = 20
if FUZZER
noinst_PROGRAMS += tests/fuzz/fuzz_api
tests_fuzz_fuzz_api_SOURCES = tests/fuzz/fuzz_api.c tests/model.c tests/model.h
tests_fuzz_fuzz_api_LDADD = libwritewatch/libwritewatch.la
tests_fuzz_fuzz_api_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
fuzz: tests/fuzz/fuzz_api$(EXEEXT)
	@$(MKDIR_P) tests/fuzz/corpus-run
	./tests/fuzz/fuzz_api -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
		-print_final_stats=1 tests/fuzz/corpus-run $(top_srcdir)/tests/fuzz/corpus
else
fuzz:
	@echo "make fuzz: configure this build with CC=clang --enable-fuzzer"; exit 1
endif
if TSAN
tsan: tests/test_stress$(EXEEXT)
	WW_TEST_SLOW=1 WW_STRESS_PERCENT=$(TSAN_STRESS_PERCENT) \
		WW_TEST_REQUIRE=$${WW_TEST_REQUIRE:-uffd} \
		TSAN_OPTIONS="halt_on_error=1 $${TSAN_OPTIONS:-}" ./tests/test_stress
else
tsan:
	@echo "make tsan: configure this build with CC=clang --enable-tsan"; exit 1
endif
.PHONY: fuzz tsan
clean-local:
	rm -rf tests/fuzz/corpus-run

EXTRA_DIST += tests/fuzz/corpus tests/local.mk
