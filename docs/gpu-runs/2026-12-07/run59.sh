set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
timeout 250 $F check --device cuda > $OUT/run59-check.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run59-check.log
timeout 100 $F bench --device cuda --json $OUT/run59-bench.json > $OUT/run59-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run59-bench.log
timeout 120 python3 .device/peers_gpu.py --no-cpu --json $OUT/run59-peers.json > $OUT/run59-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run59-peers.log
