set -u
S=$(date +%s)
R=/tmp/r63; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12)" >> $R/marks.txt; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
mark bench1; timeout 100 $F bench --device cuda --json $R/bench1.json > $R/bench1.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/bench1.log
mark peers;  timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/peers.log
mark bench2; timeout 100 $F bench --device cuda --json $R/bench2.json > $R/bench2.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/bench2.log
mark check;  timeout 250 $F check --device cuda > $R/check.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/check.log
mark end
kill $SMI
tar czf $OUT/r63.tgz -C /tmp r63
