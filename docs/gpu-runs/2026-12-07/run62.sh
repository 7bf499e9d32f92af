set -u
S=$(date +%s)
R=/tmp/r62; mkdir -p $R /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12)" >> $R/marks.txt; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 100 > $R/smi.csv 2>&1 &
SMI=$!
for i in 1 2; do
  mark on$i;  timeout 100 $F bench --device cuda --json $R/grid-on$i.json > $R/grid-on$i.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/grid-on$i.log
  mark off$i; FLASHATTN_BACKWARD_OVERLAP=0 timeout 100 $F bench --device cuda --json $R/grid-off$i.json > $R/grid-off$i.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/grid-off$i.log
done
mark probe
timeout 200 $P all --out $R/p --variants D64_M128_N64_W4,D64_M128_N64_W4_LR --jit-forward --jit-sets D64_M128_N64_W4_LR --jit-only D64_M128 --no-cli --no-bwd-check --no-bwd-bench --lengths 512,1024,2048,4096,8192,16384 --bf16-only --no-features --feature-bench --feature-forward-only --feature-dims 64 --feature-lengths 1024,4096,16384 > $R/probe.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/probe.log
mark peers
timeout 150 python3 .device/peers_gpu.py --no-cpu --json $R/peers.json > $R/peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $R/peers.log
mark end
kill $SMI
tar czf $OUT/r62.tgz -C /tmp r62
