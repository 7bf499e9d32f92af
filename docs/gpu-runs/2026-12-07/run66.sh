set -u
S=$(date +%s)
R=/tmp/r66; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12) $(( $(date +%s)-S )) s" >> $R/marks.txt; }
fin() { mark end; kill $SMI 2>/dev/null; tar czf $OUT/r66.tgz -C /tmp r66; exit 0; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
mark tests; timeout 150 $P tests Sm90BackwardDq > $R/tests.log 2>&1; T=$?; echo "rc $T" >> $R/tests.log
[ $T -ne 0 ] && fin
BD="all --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --breakdown --breakdown-lengths 8192,16384"
for V in WG3_RS 0 WG2; do mark bd$V; FLASHATTN_SM90_DQ=$V timeout 90 $P $BD --out $R/bd$V > $R/bd$V.log 2>&1; done
mark grid1; timeout 100 $F bench --device cuda --json $R/grid1.json > $R/grid1.log 2>&1; echo "rc $?" >> $R/grid1.log
mark same; timeout 150 python3 tools/peers_same_protocol.py --json $R/same.json > $R/same.log 2>&1; echo "rc $?" >> $R/same.log
mark peers; timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $?" >> $R/peers.log
mark grid0; FLASHATTN_SM90_DQ=0 timeout 100 $F bench --device cuda --json $R/grid0.json > $R/grid0.log 2>&1; echo "rc $?" >> $R/grid0.log
mark check; timeout 200 $F check --device cuda > $R/check.log 2>&1; echo "rc $?" >> $R/check.log
fin
