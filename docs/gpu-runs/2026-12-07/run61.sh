set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
F=/tmp/app/fa-probe/flashattn; P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
M=$OUT/run61-marks.txt
mark() { echo "$1 $(date +%H:%M:%S.%N | cut -c1-12)" >> $M; }
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv -lms 100 > $OUT/run61-smi.csv 2>&1 &
SMI=$!
nvidia-smi --query-gpu=timestamp,clocks_event_reasons.active --format=csv -lms 250 > $OUT/run61-reasons.csv 2>&1 &
RS=$!
mark grid1
timeout 100 $F bench --device cuda --json $OUT/run61-grid1.json > $OUT/run61-grid1.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-grid1.log
mark alone16k
timeout 60 $F bench --device cuda --config 1,32,16384,64 --config 1,16,16384,128 --json $OUT/run61-alone.json > $OUT/run61-alone.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-alone.log
mark after8k
timeout 60 $F bench --device cuda --config 2,32,8192,64 --config 1,32,16384,64 --config 2,32,8192,64 --config 1,32,16384,64 --json $OUT/run61-after8k.json > $OUT/run61-after8k.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-after8k.log
mark long16k
timeout 60 $F bench --device cuda --repeats 60 --config 1,32,16384,64 --json $OUT/run61-long.json > $OUT/run61-long.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-long.log
mark probe
timeout 120 $P all --out /tmp/r61 --no-jit --no-cli --no-check --no-bwd-check --no-bench --breakdown --breakdown-lengths 16384 --bwd-lengths 16384 --default-only > $OUT/run61-probe.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-probe.log
mark fwd1k
timeout 120 $P all --out /tmp/r61f --no-jit --no-cli --no-check --no-bwd-check --no-bwd-bench --lengths 1024,2048 --bf16-only --no-features --variants D64_M128_N64_W4,D64_M128_N64_W4_QS,D64_M128_N64_W4_LR,D64_M128_N64_W4_SE,D128_M128_N64_W4_QS_LR_SE_AP,D128_M128_N48_W4_QS_LR_SE,D128_M128_N64_W4_QS_LR_SE,D128_M128_N48_W4_QS_LR_SE_AP > $OUT/run61-fwd.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-fwd.log
mark sm90
FLASHATTN_SM90_MIN_SEQQ=1024 timeout 60 $F bench --device cuda --config 16,16,1024,128,fwd --config 8,16,2048,128,fwd --json $OUT/run61-sm90.json > $OUT/run61-sm90.log 2>&1
timeout 60 $F bench --device cuda --config 16,16,1024,128,fwd --config 8,16,2048,128,fwd --json $OUT/run61-nosm90.json > $OUT/run61-nosm90.log 2>&1
mark grid2
timeout 100 $F bench --device cuda --json $OUT/run61-grid2.json > $OUT/run61-grid2.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-grid2.log
mark peers
timeout 150 python3 .device/peers_gpu.py --no-cpu --json $OUT/run61-peers.json > $OUT/run61-peers.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run61-peers.log
mark end
kill $SMI $RS
cp /tmp/r61/probe.json $OUT/run61-probe.json 2>/dev/null; cp /tmp/r61f/probe.json $OUT/run61-fwd.json 2>/dev/null
