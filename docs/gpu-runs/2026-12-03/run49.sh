set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
nvidia-smi --query-gpu=name,clocks.current.sm,temperature.gpu --format=csv > $OUT/run49-gpu.txt
timeout 150 $P tests Sm90ForwardTests > $OUT/run49-tests.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run49-tests.log
timeout 120 $P wgmma-forward > $OUT/run49-wgmma-forward.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run49-wgmma-forward.log
timeout 120 /tmp/app/fa-probe/flashattn bench --device cuda --json $OUT/run49-bench.json > $OUT/run49-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run49-bench.log
FLASHATTN_SM90_MIN_SEQQ=2048 timeout 120 /tmp/app/fa-probe/flashattn bench --device cuda --json $OUT/run49-bench-min2048.json > $OUT/run49-bench-min2048.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run49-bench-min2048.log
timeout 150 python3 .device/peers_gpu.py --no-cpu --json $OUT/run49-peers.json > $OUT/run49-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run49-peers.log
