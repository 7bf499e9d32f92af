set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 200 > $OUT/run60-smi.csv 2>&1 &
SMI=$!
timeout 200 $P all --out /tmp/r60 --no-jit --no-cli --no-check --no-bwd-check --no-bench --breakdown --breakdown-lengths 4096,8192,16384 --bwd-lengths 8192,16384 --default-only > $OUT/run60-bwd.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run60-bwd.log
kill $SMI
cp /tmp/r60/probe.json $OUT/run60-probe.json 2>/dev/null
