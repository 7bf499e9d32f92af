set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
S=$(date +%s)
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv > $OUT/run53-gpu.txt 2>&1
timeout 200 $P wgmma-forward --kernels unrolled3wg,unrolled128,ws128,ws128pp > $OUT/run53-wgmma-forward.log 2>&1; R=$?; echo "rc $R $(( $(date +%s)-S )) s" >> $OUT/run53-wgmma-forward.log
if [ $R -ne 124 ]; then
  timeout 150 $P tests Sm90ForwardTests WgmmaPtxTests > $OUT/run53-tests.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run53-tests.log
  timeout 120 python3 .device/peers_gpu.py --no-cpu --json $OUT/run53-peers.json > $OUT/run53-peers.log 2>&1; echo "peers rc $? $(( $(date +%s)-S )) s" >> $OUT/run53-peers.log
fi
timeout 110 $P cpu-pairs 61 > $OUT/run53-cpu-pairs.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run53-cpu-pairs.log
timeout 40 python3 .device/peers_gpu.py --no-gpu --json $OUT/run53-peers-cpu.json > /dev/null 2>&1; echo "peers rc $? $(( $(date +%s)-S )) s" >> $OUT/run53-cpu-pairs.log
