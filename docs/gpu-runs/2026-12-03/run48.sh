set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
nvidia-smi --query-gpu=name,clocks.current.sm,temperature.gpu --format=csv > $OUT/run48-gpu.txt
timeout 150 $P tests Sm90ForwardTests WgmmaPtxTests > $OUT/run48-tests.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run48-tests.log
timeout 200 $P wgmma-forward > $OUT/run48-wgmma-forward.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run48-wgmma-forward.log
timeout 240 /tmp/app/fa-probe/flashattn bench --device cuda --json $OUT/run48-bench.json > $OUT/run48-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run48-bench.log
timeout 150 python3 .device/peers_gpu.py --no-cpu --json $OUT/run48-peers.json > $OUT/run48-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run48-peers.log
