#!/bin/sh
# Round 5 (BENCHMARKS.md, section 15): one measured window of a running duetd.
#   measure.sh PID PORT SECONDS OUT MODE
# MODE cpu: per-thread CPU only; stat: with perf stat counters per thread
# (OUT.stat.txt: context switches, fdatasync = commits, pwrite64, all syscalls); perf: perf record -F 999 -g (report text to
# OUT.perf.txt, perf.data removed); strace: strace -c -f; pstat: perf stat
# of syscall tracepoints and context switches per thread (cheap).
# Always writes OUT.cpu: per thread (tid, comm order: main, then the others
# by tid) CPU ns over the window, and the messages stored in it
# (duet_messages_sent_total from /metrics), plus WAL/disk write bytes.
set -eu
pid=$1 port=$2 secs=$3 out=$4 mode=$5
snap() {
    for t in /proc/"$pid"/task/*; do echo "task $(basename "$t") $(cut -d" " -f1,2,3 "$t/schedstat")"; done
    echo "msgs $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^duet_messages_sent_total/ {print $2}')"
    echo "wbytes $(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")"
    echo "t $(date +%s.%N)"
    # core 0 (duetd's) and core 1, all processes: busy and idle jiffies
    awk '/^cpu[01] / {print $1, $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat
}
snap >"$out.s0"
case $mode in
cpu) sleep "$secs" ;;
stat)
    # cheap counters per thread: writer fdatasyncs = commits
    perf stat --per-thread -p "$pid" -x, -o "$out.stat.txt" \
        -e 'context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,raw_syscalls:sys_enter' \
        -- sleep "$secs" 2>/dev/null
    ;;
perf)
    perf record -q -F 999 -g -p "$pid" -o "$out.perf.data" -- sleep "$secs" >/dev/null 2>&1
    ;;
strace)
    timeout -s INT "$secs" strace -c -f -p "$pid" -o "$out.strace.txt" >/dev/null 2>&1 || true
    ;;
pstat)
    perf stat --per-thread -p "$pid" -x, -o "$out.pstat.txt" \
        -e 'context-switches,page-faults,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_fcntl' \
        -- sleep "$secs" 2>/dev/null
    ;;
esac
snap >"$out.s1"
uptime >"$out.uptime"
