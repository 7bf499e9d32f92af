set -u
S=$(date +%s)
R=/tmp/r65; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12) $(( $(date +%s)-S )) s" >> $R/marks.txt; }
fin() { mark end; kill $SMI 2>/dev/null; tar czf $OUT/r65.tgz -C /tmp r65; exit 0; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 200 > $R/smi.csv 2>&1 &
SMI=$!
mark tests; timeout 150 $P tests Sm90BackwardDq > $R/tests.log 2>&1; T=$?; echo "rc $T" >> $R/tests.log
mark jit; timeout 60 $P all --out $R/jit --jit-only Sm90_DQ --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench > $R/jit.log 2>&1; echo "rc $?" >> $R/jit.log
[ $T -ne 0 ] && fin
BD="all --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --breakdown --breakdown-lengths 4096,16384"
for V in 0 WG2 WG2_RS WG3_RS; do mark bd$V; FLASHATTN_SM90_DQ=$V timeout 90 $P $BD --out $R/bd$V > $R/bd$V.log 2>&1; done
for V in WG2_RS 0 WG3_RS WG2; do mark grid$V; FLASHATTN_SM90_DQ=$V timeout 100 $F bench --device cuda --json $R/grid$V.json > $R/grid$V.log 2>&1; echo "rc $?" >> $R/grid$V.log; done
mark peers; timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $?" >> $R/peers.log
fin
