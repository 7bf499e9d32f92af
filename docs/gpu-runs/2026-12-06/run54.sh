set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
for M in 4 16 4b; do
  timeout 100 $P cpu-pairs 61 --budget-mib ${M%b} > $OUT/run54-cpu-pairs-budget$M.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run54-cpu-pairs-budget$M.log
done
timeout 40 python3 .device/peers_gpu.py --no-gpu --json $OUT/run54-peers-cpu.json > /dev/null 2>&1; echo "peers rc $? $(( $(date +%s)-S )) s" >> $OUT/run54-cpu-pairs-budget4b.log
