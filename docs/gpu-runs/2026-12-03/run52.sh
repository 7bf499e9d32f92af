set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
timeout 110 $P cpu-pairs 61 > $OUT/run52-cpu-pairs.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run52-cpu-pairs.log
timeout 40 python3 .device/peers_gpu.py --no-gpu --json $OUT/run52-peers-cpu.json > /dev/null 2>&1; echo "peers rc $? $(( $(date +%s)-S )) s" >> $OUT/run52-cpu-pairs.log
