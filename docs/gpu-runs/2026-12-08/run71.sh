set -u
S=$(date +%s)
R=/tmp/r71; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12) $(( $(date +%s)-S )) s" >> $R/marks.txt; tar czf $OUT/r71.tgz -C /tmp r71; }
fin() { mark end; kill $SMI 2>/dev/null; tar czf $OUT/r71.tgz -C /tmp r71; exit 0; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
nvidia-smi > $R/gpu.txt 2>&1
mark jit; timeout 120 $P all --out $R/jit --jit-only Sm90_D --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench > $R/jit.log 2>&1; echo "rc $?" >> $R/jit.log
mark tests; timeout 300 $P tests Sm90Backward > $R/tests.log 2>&1; T=$?; echo "rc $T" >> $R/tests.log
[ $T -ne 0 ] && fin
BD="all --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --breakdown --breakdown-lengths 1024,4096,8192,16384"
for V in 0 WG3 WG3_SERIAL WG2; do mark bd$V; FLASHATTN_SM90_KV=$V timeout 100 $P $BD --out $R/bd$V > $R/bd$V.log 2>&1; done
fin
