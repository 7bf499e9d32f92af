set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv > $OUT/run57-gpu.txt 2>&1
timeout 90 python3 .device/fa2_d128.py 512,1024,2048,4096,8192,16384 > $OUT/run57-fa2.log 2>&1
timeout 220 $P all --out /tmp/b57 --variants D128_M128_N48_W4_QS_LR_SE,D128_M128_N64_W4_QS_LR_SE_AP --jit-only D128_M128_N --jit-forward --no-cli --no-check --no-bwd-check --no-bwd-bench --lengths 512,1024,2048,4096,8192,16384 --bf16-only --no-features > $OUT/run57-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run57-bench.log
cp /tmp/b57/jit.log $OUT/run57-jit.log 2>/dev/null; cp /tmp/b57/*.json $OUT/ 2>/dev/null
timeout 200 $P all --out /tmp/f57 --variants D128_M128_N64_W4_QS_LR_SE_AP --no-jit --no-cli --no-check --no-bench --no-bwd-check --no-bwd-bench --feature-bench --feature-forward-only --feature-dims 128 --feature-lengths 1024,4096 > $OUT/run57-features.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run57-features.log
timeout 60 python3 .device/fa2_d128.py 1024,2048,4096 >> $OUT/run57-fa2.log 2>&1
echo "all done $(( $(date +%s)-S )) s" >> $OUT/run57-fa2.log
