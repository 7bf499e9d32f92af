set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv > $OUT/run58-gpu.txt 2>&1
timeout 260 $F bench --device cuda --json $OUT/run58-bench.json > $OUT/run58-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run58-bench.log
timeout 250 python3 .device/peers_gpu.py --no-cpu --json $OUT/run58-peers.json > $OUT/run58-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run58-peers.log
