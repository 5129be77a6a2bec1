#!/bin/bash
# run.sh TARGET SECONDS [extra libFuzzer args]: one fuzzing session, logged
# to logs/TARGET/fuzz-HHMMSS.log (libFuzzer's own output, one per session,
# so that sessions of different targets can run side by side).
t=$1; secs=$2; shift 2
cd "$(dirname "$0")/.."
mkdir -p logs/$t artifacts/$t corpus/$t
stamp=$(date +%H%M%S)
# A small ASan quarantine, given back to the system: the rss limit then
# measures what the target holds, not up to 256 MB of freed memory that
# ASan keeps to catch use-after-free (which safe Rust cannot have).
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32:allocator_release_to_os_interval_ms=1000}
RUSTC_BOOTSTRAP=1 cargo fuzz run -O $t corpus/$t -- -max_total_time=$secs \
  -rss_limit_mb=512 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
  -artifact_prefix=artifacts/$t/ "$@" > logs/$t/fuzz-$stamp.log 2>&1
echo "exit $?" >> logs/$t/fuzz-$stamp.log
