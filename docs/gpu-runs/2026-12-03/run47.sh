set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
nvidia-smi --query-gpu=name,clocks.current.sm,temperature.gpu --format=csv > $OUT/run47-gpu.txt
timeout 240 $P wgmma-forward > $OUT/run47-wgmma-forward.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run47-wgmma-forward.log
timeout 150 python3 .device/peers_gpu.py --no-cpu --json $OUT/run47-peers.json > $OUT/run47-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run47-peers.log
timeout 120 $P cpu-pairs 21 > $OUT/run47-cpu-pairs.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run47-cpu-pairs.log
timeout 60 python3 .device/peers_gpu.py --no-gpu --json $OUT/run47-peers-cpu.json > $OUT/run47-peers-cpu.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run47-peers-cpu.log
