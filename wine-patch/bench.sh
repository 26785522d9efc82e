# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# wine-patch/bench.sh - sourced (bash) by 8.0/test.sh and 10.0/test.sh: the
# bench/wwbench.c part both share, its scenarios, the runs, their check and
# the rows of the table.  The caller defines
#   bench_loader CFG    the Wine loader that runs configuration CFG
#   env_of CFG          the environment assignment CFG runs with
#   pass; fail MESSAGE  count one check (fail shows MESSAGE)
#   say MESSAGE         a progress line
# and sets LOGS.  The configurations: stock, patched, fallback.

# threads pages order mode [rounds]
BENCH_SCENARIOS=("1 4096 seq getreset" "1 4096 rand separate" "2 4096 rand getreset"
                 "2 4096 seq separate" "1 65536 seq getreset 5")
BENCH_CONFIGS=(stock patched fallback)

# bench_run EXE REPEAT SERVER: the three configurations take turns, REPEAT
# times (each figure's median is kept: the machine may be shared), all with
# one wineserver (SERVER), made persistent and given its system processes
# before the first run.  Why: with Wine's default persistence a run's output
# pipe stayed open until the wineserver and the services it had started
# exited, 3 s after the run; the next run then started just as that server
# went away, and once in some thousand runs connected to it on its way out
# ("wine client error:0: recvmsg: Connection reset by peer", no result).
# Those started here write to bench-server.log, so no run's pipe waits for
# them; SERVER -k (the caller's) ends them all.
bench_run() {
    local exe=$1 repeat=$2 server=$3 rep i cfg
    rm -f "$LOGS"/bench-*.log
    "$server" -k >/dev/null 2>&1 || true
    "$server" -w || true
    "$server" -p </dev/null >"$LOGS/bench-server.log" 2>&1
    env WINEDEBUG=-all timeout 300 "$(bench_loader stock)" "$exe" 1 64 seq getreset \
        </dev/null >>"$LOGS/bench-server.log" 2>&1 || true
    for rep in $(seq 1 "$repeat"); do
        for i in "${!BENCH_SCENARIOS[@]}"; do
            say "wwbench ${BENCH_SCENARIOS[$i]} (run $rep of $repeat: stock, patched, fallback)"
            for cfg in "${BENCH_CONFIGS[@]}"; do
                # shellcheck disable=SC2046,SC2086
                env $(env_of $cfg) WINEDEBUG=-all timeout 900 "$(bench_loader $cfg)" "$exe" \
                    ${BENCH_SCENARIOS[$i]} 2>&1 | tr -d '\r' >>"$LOGS/bench-$cfg-$i.log" || true
            done
        done
    done
}

# bench_check REPEAT: one check per configuration and scenario: REPEAT runs,
# none with errors.
bench_check() {
    local repeat=$1 cfg i runs good
    for cfg in "${BENCH_CONFIGS[@]}"; do
        for i in "${!BENCH_SCENARIOS[@]}"; do
            runs=$(grep -c '^wwbench' "$LOGS/bench-$cfg-$i.log" || true)
            good=$(grep -c '^wwbench .* errors=0$' "$LOGS/bench-$cfg-$i.log" || true)
            if [ "$runs" -ne "$repeat" ] || [ "$good" -ne "$repeat" ]; then
                fail "$cfg: wwbench ${BENCH_SCENARIOS[$i]}: $runs runs, $((runs - good)) with errors (see $LOGS)"
            else pass; fi
        done
    done
}

# bench_median FIELD CFG I: the median of FIELD over the runs of scenario I
bench_median() {
    sed -n "s/^wwbench .* $1=\([^ ]*\).*/\1/p" "$LOGS/bench-$2-$3.log" | sort -g |
        awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'
}
bench_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1fx", a / b; else print "-" }'
}
# One row of the table: what, which, stock, patched, fallback, stock/patched.
bench_row() { printf '| %-31s | %-20s | %15s | %15s | %15s | %8s |\n' "$@"; }
bench_metric() {   # SCENARIO LABEL FIELD I
    local a b c
    a=$(bench_median "$3" stock "$4"); b=$(bench_median "$3" patched "$4")
    c=$(bench_median "$3" fallback "$4")
    bench_row "$1" "$2" "$a" "$b" "$c" "$(bench_ratio "$a" "$b")"
}
# The benchmark's rows of the table, scenario by scenario.
bench_rows() {
    local i scenario
    for i in "${!BENCH_SCENARIOS[@]}"; do
        # shellcheck disable=SC2086
        set -- ${BENCH_SCENARIOS[$i]}
        scenario="$1 thr, $2 pg, $3, $([ "$4" = getreset ] && echo get+reset || echo get/reset)"
        bench_metric "$scenario" "ns / first write" write_ns "$i"
        if [ "$1" -gt 1 ]; then bench_metric "$scenario" "wall ns / page" wall_ns "$i"; fi
        bench_metric "$scenario" "us / GetWriteWatch" get_us "$i"
        if [ "$4" = separate ]; then bench_metric "$scenario" "us / ResetWriteWatch" reset_us "$i"; fi
    done
}
