set -u
S=$(date +%s)
R=/tmp/r64; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12) $(( $(date +%s)-S )) s" >> $R/marks.txt; }
fin() { mark end; kill $SMI 2>/dev/null; tar czf $OUT/r64.tgz -C /tmp r64; exit 0; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 200 > $R/smi.csv 2>&1 &
SMI=$!
mark tests; timeout 120 $P tests Sm90BackwardDq > $R/tests.log 2>&1; T=$?; echo "rc $T" >> $R/tests.log
mark jit; timeout 60 $P all --out $R/jit --jit-only Sm90_DQ --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench > $R/jit.log 2>&1; echo "rc $?" >> $R/jit.log
[ $T -ne 0 ] && fin
mark bdon; timeout 90 $P all --out $R/bdon --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --breakdown --breakdown-lengths 4096,16384 > $R/bdon.log 2>&1
mark bdoff; FLASHATTN_SM90_DQ=0 timeout 90 $P all --out $R/bdoff --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --breakdown --breakdown-lengths 4096,16384 > $R/bdoff.log 2>&1
mark grid1; timeout 100 $F bench --device cuda --json $R/grid-on1.json > $R/grid-on1.log 2>&1; echo "rc $?" >> $R/grid-on1.log
mark peers; timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $?" >> $R/peers.log
mark grid2; FLASHATTN_SM90_DQ=0 timeout 100 $F bench --device cuda --json $R/grid-off.json > $R/grid-off.log 2>&1; echo "rc $?" >> $R/grid-off.log
mark grid3; timeout 100 $F bench --device cuda --json $R/grid-on2.json > $R/grid-on2.log 2>&1; echo "rc $?" >> $R/grid-on2.log
mark check; timeout 200 $F check --device cuda > $R/check.log 2>&1; echo "rc $?" >> $R/check.log
fin
