set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
for M in 8 16 8b 4; do
  timeout 60 $P cpu-pairs 61 --budget-mib ${M%b} > $OUT/run55-cpu-pairs-budget$M.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run55-cpu-pairs-budget$M.log
done
