set -u
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn
S=$(date +%s)
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv -lms 250 > $OUT/run51-clocks.csv 2>&1 &
M=$!
echo "on start $(date +%T.%N)" >> $OUT/run51-times.txt
timeout 100 $F bench --device cuda --json $OUT/run51-bench-on.json > $OUT/run51-bench.log 2>&1
echo "off start $(date +%T.%N)" >> $OUT/run51-times.txt
FLASHATTN_SM90_MIN_SEQQ=1000000000 timeout 100 $F bench --device cuda --json $OUT/run51-bench-off.json >> $OUT/run51-bench.log 2>&1
echo "end $(date +%T.%N) $(( $(date +%s)-S )) s" >> $OUT/run51-times.txt
kill $M
