set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
S=$(date +%s)
nvidia-smi --query-gpu=name,clocks.current.sm,temperature.gpu --format=csv > $OUT/run50-gpu.txt
for r in 1 2; do
  timeout 100 $F bench --device cuda --json $OUT/run50-bench-on$r.json > $OUT/run50-bench.log 2>&1; echo "on$r rc $? $(( $(date +%s)-S )) s" >> $OUT/run50-times.txt
  FLASHATTN_SM90_MIN_SEQQ=1000000000 timeout 100 $F bench --device cuda --json $OUT/run50-bench-off$r.json >> $OUT/run50-bench.log 2>&1; echo "off$r rc $? $(( $(date +%s)-S )) s" >> $OUT/run50-times.txt
done
timeout 120 python3 .device/peers_gpu.py --no-cpu --json $OUT/run50-peers.json > /dev/null 2>> $OUT/run50-times.txt; echo "peers rc $? $(( $(date +%s)-S )) s" >> $OUT/run50-times.txt
