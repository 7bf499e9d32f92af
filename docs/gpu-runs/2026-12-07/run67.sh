set -u
S=$(date +%s)
R=/tmp/r67; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12) $(( $(date +%s)-S )) s" >> $R/marks.txt; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
mark grid1; timeout 100 $F bench --device cuda --json $R/grid1.json > $R/grid1.log 2>&1; echo "rc $?" >> $R/grid1.log
mark peers; timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $?" >> $R/peers.log
mark grid2; timeout 100 $F bench --device cuda --json $R/grid2.json > $R/grid2.log 2>&1; echo "rc $?" >> $R/grid2.log
mark end; kill $SMI; tar czf $OUT/r67.tgz -C /tmp r67
