#!/bin/sh
# bench/disk.sh - the disk's own sequential write speed under a data
# directory, to compare duet-bench's upload MB/s with (BENCHMARKS.md,
# "Uploads"). Two dd figures of 512 MiB of zeros: O_DIRECT (the device, no
# page cache) and through the page cache with one fdatasync at the end (what
# duetd's local blob store does: write, fsync, rename). With result files of
# `duet-bench --scenario upload --out`, prints each one's median upload MB/s
# and its ratio to the fdatasync figure.
#
#   bench/disk.sh DATA_DIR [RESULT.json...]
set -eu
dir=${1:?usage: bench/disk.sh DATA_DIR [RESULT.json...]}
shift
f="$dir/ddtest.$$"
trap 'rm -f "$f" "$f.log"' EXIT INT TERM
# dd's last line: "536870912 bytes (537 MB, 512 MiB) copied, 0.356 s, 1.5 GB/s";
# its own rate has two digits, so bytes / seconds, in MB/s (10^6 bytes)
mbps() {
    tee -a "$f.log" | sed -n 's/^\([0-9]*\) bytes .* copied, \([0-9.,]*\) s,.*/\1 \2/p' | tr , . |
        awk '{printf "%.0f\n", $1 / $2 / 1e6}'
}
direct=$(dd if=/dev/zero of="$f" bs=1M count=512 oflag=direct 2>&1 | mbps)
rm -f "$f"
sync
fdsync=$(dd if=/dev/zero of="$f" bs=1M count=512 conv=fdatasync 2>&1 | mbps)
rm -f "$f"
echo "dd 512 MiB, oflag=direct:    $direct MB/s"
echo "dd 512 MiB, conv=fdatasync:  $fdsync MB/s"
sed 's/^/    dd: /' "$f.log"
for r in "$@"; do
    # shellcheck disable=SC2016 # the template literals are node's, not the shell's
    node -e '
        const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        for (const s of doc.results.filter((x) => x.scenario === "upload")) {
            const u = s.runs[0].upload;
            console.log(`${process.argv[1]}: ${u.uploads} x ${(u.size / 1048576).toFixed(0)} MiB: ` +
                `median ${s.median.toFixed(1)} MB/s = ${(s.median / process.argv[2]).toFixed(2)} of dd fdatasync, ` +
                `${(s.median / process.argv[3]).toFixed(2)} of dd direct`);
        }' "$r" "$fdsync" "$direct"
done
