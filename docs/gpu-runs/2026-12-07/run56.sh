set -u
S=$(date +%s)
mkdir -p /tmp/app && tar xJf .device/fa-probe.tar.xz -C /tmp/app
P=/tmp/app/fa-probe/FlashAttention.Cuda.Probe
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv > $OUT/run56-gpu.txt 2>&1
# The timings and the check first: the static part (disk scan, libtorch extraction) takes what time is left.
timeout 60 python3 .device/fa2_d128.py 1024,2048,4096 > $OUT/run56-fa2.log 2>&1
timeout 200 $P all --out /tmp/b56 --variants D128_M128_N48_W4_QS_LR_SE,D128_M128_N64_W4_QS_LR_SE,D128_M128_N48_W4_QS_LR_SE_TT,D128_M128_N64_W4_QS_LR_SE_AP,D128_M128_N48_W4_QS_LR_SE_AP --jit-only D128_M128_N --no-cli --no-check --no-bwd-check --no-bwd-bench --lengths 1024,2048,4096 --bf16-only --no-features > $OUT/run56-bench.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run56-bench.log
cp /tmp/b56/jit.log $OUT/run56-jit.log 2>/dev/null
timeout 60 python3 .device/fa2_d128.py 1024,2048,4096 >> $OUT/run56-fa2.log 2>&1
timeout 170 $P all --out /tmp/c56 --variants D128_M128_N64_W4_QS_LR_SE_AP,D128_M128_N48_W4_QS_LR_SE_AP --no-jit --no-cli --no-bench --no-bwd-check --no-bwd-bench > $OUT/run56-check.log 2>&1; echo "rc $? $(( $(date +%s)-S )) s" >> $OUT/run56-check.log
TR=$(python3 -c "import triton,os;print(os.path.dirname(triton.__file__))" 2>/dev/null)
# One scan of the disk for the CUDA tools (Triton bundles ptxas, cuobjdump and nvdisasm).
find / -xdev \( -name ptxas -o -name ncu -o -name cuobjdump -o -name nvdisasm \) -type f 2>/dev/null > /tmp/tools.txt
PTXAS=$(grep -m1 '/ptxas$' /tmp/tools.txt); CUOBJ=$(grep -m1 '/cuobjdump$' /tmp/tools.txt)
{ echo "triton dir $TR"; which ptxas nvcc cuobjdump nvdisasm ncu nsys; ls /usr/local/cuda*/bin 2>&1 | head -40; cat /tmp/tools.txt
  echo "ptxas=$PTXAS cuobjdump=$CUOBJ"; $PTXAS --version; } > $OUT/run56-tools.txt 2>&1
if [ -z "$PTXAS" ] || [ -z "$CUOBJ" ]; then echo "no ptxas/cuobjdump: static part skipped" >> $OUT/run56-tools.txt; fi
mkdir -p $OUT/sass
if [ -n "$PTXAS" ] && [ -n "$CUOBJ" ]; then
for f in .device/ptx/*.ptx; do b=$(basename $f .ptx)
  sed 's/^\.target sm_80/.target sm_90/' $f > /tmp/$b.ptx
  $PTXAS -arch=sm_90 -v -o /tmp/$b.cubin /tmp/$b.ptx > $OUT/sass/$b.ptxas.txt 2>&1
  $CUOBJ -sass /tmp/$b.cubin > $OUT/sass/$b.sass 2>&1
done
echo "static done $(( $(date +%s)-S )) s" >> $OUT/run56-tools.txt
# FA2's hdim-128 forward from libtorch_cuda.so
LIB=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib','libtorch_cuda.so'))")
mkdir -p /tmp/fa2 && cd /tmp/fa2
( timeout 150 $CUOBJ -lelf $LIB > $OUT/sass/fa2-elf-list.txt 2>&1
  for e in $(grep -o '[^ ]*sm_90[^ ]*\.cubin' $OUT/sass/fa2-elf-list.txt | grep -i flash | head -20); do timeout 60 $CUOBJ -xelf $e $LIB > /dev/null 2>&1; done
  if ! ls *.cubin >/dev/null 2>&1; then for e in $(grep -o '[^ ]*sm_90[^ ]*\.cubin' $OUT/sass/fa2-elf-list.txt); do timeout 20 $CUOBJ -xelf $e $LIB >/dev/null 2>&1; done; fi
  for c in *.cubin; do if grep -q "flash_fwd_kernel" $c; then echo "$c" >> $OUT/sass/fa2-cubins.txt
    $CUOBJ -res-usage $c 2>&1 | grep -A1 "flash_fwd_kernel" >> $OUT/sass/fa2-res-usage.txt
    $CUOBJ -sass $c 2>/dev/null | awk '/Function : .*flash_fwd_kernel.*Flash_fwd_kernel_traitsILi128ELi128ELi64ELi4ELb0ELb0E/{p=1} /Function : /{if(!($0 ~ /Flash_fwd_kernel_traitsILi128ELi128ELi64ELi4ELb0ELb0E/))p=0} p' | head -c 30000000 > $OUT/sass/fa2-d128-$c.sass
  fi; done ) 2>> $OUT/run56-tools.txt
cd - > /dev/null
fi
find $OUT/sass -size 0 -delete
echo "fa2 done $(( $(date +%s)-S )) s" >> $OUT/run56-tools.txt
echo "all done $(( $(date +%s)-S )) s" >> $OUT/run56-tools.txt
