using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;
using HardwareRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.HardwareRegister;
using ConstantRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.ConstantRegister;
using CompoundRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.CompoundRegister;

namespace FlashAttention.Cuda.Ptx;

/// <summary>Four floats: one thread's share of an m16n8 fp32 accumulator tile (c0..c3 of mma.sync).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Float4
{
    public float X, Y, Z, W;
}

/// <summary>
/// Thirty-two floats: one thread's share of a 64×64 fp32 wgmma accumulator. Warp w of the warpgroup holds rows
/// 16w … 16w + 15 as eight m16n8 tiles of mma.sync's C layout: F[4i … 4i + 3] are tile i (columns 8i …), i.e. (row g,
/// columns 8i + 2t, +1) and (row g + 8, the same columns) for lane 4g + t.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Float32x32
{
    public float F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24, F25, F26, F27, F28, F29, F30, F31;
}

/// <summary>Sixty-four floats: one thread's share of a 64×128 fp32 wgmma accumulator (as <see cref="Float32x32"/>, sixteen m16n8 tiles).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Float32x64
{
    public float F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24, F25, F26, F27, F28, F29, F30, F31, F32, F33, F34, F35, F36, F37, F38, F39, F40, F41, F42, F43, F44, F45, F46, F47, F48, F49, F50, F51, F52, F53, F54, F55, F56, F57, F58, F59, F60, F61, F62, F63;
}

/// <summary>The two accumulators of <see cref="PtxOps.WgmmaBf16AttentionStep"/>: F0…F31 the 64×64 S tile, F32…F95 the 64×128 O tile (layouts as <see cref="Float32x32"/>, <see cref="Float32x64"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Float32x96
{
    public float F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24, F25, F26, F27, F28, F29, F30, F31, F32, F33, F34, F35, F36, F37, F38, F39, F40, F41, F42, F43, F44, F45, F46, F47, F48, F49, F50, F51, F52, F53, F54, F55, F56, F57, F58, F59, F60, F61, F62, F63, F64, F65, F66, F67, F68, F69, F70, F71, F72, F73, F74, F75, F76, F77, F78, F79, F80, F81, F82, F83, F84, F85, F86, F87, F88, F89, F90, F91, F92, F93, F94, F95;
}

/// <summary>The two accumulators of <see cref="PtxOps.WgmmaBf16AttentionStep128"/>: F0…F63 the 64×128 S tile, F64…F127 the 64×128 O tile (layouts as <see cref="Float32x64"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Float32x128
{
    public float F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19, F20, F21, F22, F23, F24, F25, F26, F27, F28, F29, F30, F31, F32, F33, F34, F35, F36, F37, F38, F39, F40, F41, F42, F43, F44, F45, F46, F47, F48, F49, F50, F51, F52, F53, F54, F55, F56, F57, F58, F59, F60, F61, F62, F63, F64, F65, F66, F67, F68, F69, F70, F71, F72, F73, F74, F75, F76, F77, F78, F79, F80, F81, F82, F83, F84, F85, F86, F87, F88, F89, F90, F91, F92, F93, F94, F95, F96, F97, F98, F99, F100, F101, F102, F103, F104, F105, F106, F107, F108, F109, F110, F111, F112, F113, F114, F115, F116, F117, F118, F119, F120, F121, F122, F123, F124, F125, F126, F127;
}

/// <summary>Four 32-bit registers, e.g. the result of ldmatrix.x4.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Uint4
{
    public uint X, Y, Z, W;
}

/// <summary>
/// Value-returning PTX instructions as ILGPU intrinsics. ILGPU's own <c>CudaAsm.Emit</c> hands outputs back through
/// local-memory slots (a stack frame unless ptxas promotes them); these methods are instead compiled by the code
/// generators below, which write the instruction with ILGPU's own registers, so results stay in registers. Each method
/// only exists on the GPU: called on the host it throws. Register them with <see cref="Register"/> on the
/// <see cref="Context.Builder"/> used to compile kernels.
/// </summary>
internal static class PtxOps
{
    /// <summary>Name of the dynamic shared-memory array that <see cref="KernelCompiler"/> declares at module scope.</summary>
    public const string SharedArrayName = "fa_smem";

    // On the GPU each method below is replaced by the PTX its generator writes; the C# bodies run only on ILGPU's CPU
    // accelerator, where HostSimt emulates the instruction (and outside an emulated launch they throw).

    /// <summary>The shared-window address of the kernel's dynamic shared memory (16-byte aligned).</summary>
    [IntrinsicImplementation] public static uint SharedBase() => HostSimt.SharedBase();

    /// <summary>d = a·b + c, a 16×16 fp16 (row), b 16×8 fp16 (col), c and d fp32.</summary>
    [IntrinsicImplementation]
    public static Float4 MmaF16(float c0, float c1, float c2, float c3, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) =>
        HostSimt.Mma(false, c0, c1, c2, c3, a0, a1, a2, a3, b0, b1);

    /// <summary>d = a·b + c, a 16×16 bf16 (row), b 16×8 bf16 (col), c and d fp32.</summary>
    [IntrinsicImplementation]
    public static Float4 MmaBf16(float c0, float c1, float c2, float c3, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) =>
        HostSimt.Mma(true, c0, c1, c2, c3, a0, a1, a2, a3, b0, b1);

    /// <summary>ldmatrix.sync.aligned.m8n8.x4.shared.b16: four 8×8 b16 matrices, row addresses from lanes 0-7, 8-15, 16-23, 24-31.</summary>
    [IntrinsicImplementation] public static Uint4 LdMatrixX4(uint sharedAddress) => HostSimt.LdMatrix(sharedAddress, transpose: false);

    /// <summary>As <see cref="LdMatrixX4"/>, each matrix transposed.</summary>
    [IntrinsicImplementation] public static Uint4 LdMatrixX4Trans(uint sharedAddress) => HostSimt.LdMatrix(sharedAddress, transpose: true);

    // ---- Hopper warpgroup MMA (wgmma, sm_90a): a warpgroup of 4 warps computes a 64×N tile; operands in shared memory
    // are named by 64-bit matrix descriptors (start address, leading and stride byte offsets, swizzle; PTX ISA
    // "Matrix Descriptor Format"). Not emulated on the host: the probe's wgmma check runs them on the GPU only.

    /// <summary>wgmma.commit_group: closes the warpgroup MMAs issued so far into a group.</summary>
    [IntrinsicImplementation] public static void WgmmaCommit() => throw GpuOnly();

    /// <summary>wgmma.wait_group 0: every committed group of warpgroup MMAs is done; their accumulators may be read.</summary>
    [IntrinsicImplementation] public static void WgmmaWait0() => throw GpuOnly();

    /// <summary>wgmma.wait_group 1: all but the newest committed group of warpgroup MMAs are done.</summary>
    [IntrinsicImplementation] public static void WgmmaWait1() => throw GpuOnly();

    /// <summary>fence.proxy.async.shared::cta: this thread's generic-proxy shared-memory writes become visible to the async proxy (wgmma operand reads).</summary>
    [IntrinsicImplementation] public static void FenceProxyAsyncShared() => throw GpuOnly();

    /// <summary>
    /// d = a·b (+ c when <paramref name="accumulate"/> ≠ 0): a 64×16 bf16 (shared, K-major, <paramref name="descA"/>), b
    /// 16×64 bf16 (shared, K-major, i.e. Bᵀ stored by rows, <paramref name="descB"/>), fp32 64×64 accumulator. Asynchronous:
    /// read the result only after <see cref="WgmmaCommit"/> and <see cref="WgmmaWait0"/>. Includes its wgmma.fence.
    /// </summary>
    [IntrinsicImplementation] public static Float32x32 WgmmaBf16M64N64K16SS(Float32x32 c, ulong descA, ulong descB, int accumulate) => throw GpuOnly();

    /// <summary>
    /// As <see cref="WgmmaBf16M64N64K16SS"/> with a from registers (the mma.sync m16n8k16 A fragment of the warp's 16 rows,
    /// packed bf16 pairs) and b transposed: stored N-major (rows of b's K index, N contiguous), as V in P·V.
    /// </summary>
    [IntrinsicImplementation]
    public static Float32x32 WgmmaBf16M64N64K16RSTransB(Float32x32 c, uint a0, uint a1, uint a2, uint a3, ulong descB, int accumulate) => throw GpuOnly();

    /// <summary>As <see cref="WgmmaBf16M64N64K16RSTransB"/> for a 64×128 accumulator (b 16×128).</summary>
    [IntrinsicImplementation]
    public static Float32x64 WgmmaBf16M64N128K16RSTransB(Float32x64 c, uint a0, uint a1, uint a2, uint a3, ulong descB, int accumulate) => throw GpuOnly();

    /// <summary>
    /// A whole chain of <paramref name="steps"/> SS m64n64k16 wgmma in one block of PTX on one set of accumulator
    /// registers, d = Σ a_k·b_k from zero, the k-th descriptors advanced by k·<paramref name="stepA"/> and
    /// k·<paramref name="stepB"/> (in 16-byte units). One intrinsic per product because ILGPU gives each call's result
    /// fresh registers: a chain of separate calls leaves moves between the MMAs, and ptxas then serialises them (C7511,
    /// device run 42). <paramref name="steps"/>, <paramref name="stepA"/> and <paramref name="stepB"/> must be constants.
    /// </summary>
    [IntrinsicImplementation] public static Float32x32 WgmmaBf16M64N64SSChain(ulong descA, ulong descB, int steps, int stepA, int stepB) => throw GpuOnly();

    /// <summary>
    /// d = c + Σ_k a_k·b_k over four RS m64n128k16 wgmma in one block (as <see cref="WgmmaBf16M64N64SSChain"/>): a_k is
    /// the A fragment (a[4k] … a[4k + 3]), b_k read transposed at <paramref name="descB"/> + k·<paramref name="stepB"/>
    /// (a constant, 16-byte units).
    /// </summary>
    [IntrinsicImplementation]
    public static Float32x64 WgmmaBf16M64N128RSTransBChain4(Float32x64 c, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6, uint a7,
        uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, ulong descB, int stepB) => throw GpuOnly();

    /// <summary>
    /// d = Σ_k a_k·b_k from zero over four RS m64n64k16 wgmma in one block: a_k is the A fragment (a[4k] … a[4k + 3]) from
    /// registers, b_k K-major (Bᵀ stored by rows, as K in Q·Kᵀ) at <paramref name="descB"/> + k·<paramref name="stepB"/>
    /// (a constant, 16-byte units). S = Q·Kᵀ with the Q fragments held in registers, so that only K is read from shared memory.
    /// </summary>
    [IntrinsicImplementation]
    public static Float32x32 WgmmaBf16M64N64RSChain4(uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6, uint a7,
        uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, ulong descB, int stepB) => throw GpuOnly();

    /// <summary>As <see cref="WgmmaBf16M64N128RSTransBChain4"/> for a 64×64 accumulator (b 16×64 per step): the dQ product dS·K.</summary>
    [IntrinsicImplementation]
    public static Float32x32 WgmmaBf16M64N64RSTransBChain4(Float32x32 c, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6, uint a7,
        uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, ulong descB, int stepB) => throw GpuOnly();

    /// <summary>
    /// One step of an attention forward with both products in flight: S = Σ_k Q_k·K_kᵀ (8 SS m64n64k16 from
    /// <paramref name="descQ"/>, <paramref name="descK"/>, 16-byte steps of 16) committed as one group, then
    /// O = <paramref name="o"/> + Σ_k P_k·V_k (4 RS m64n128k16, P = a0…a15, V transposed at <paramref name="descV"/>, steps
    /// of 256) as a second. The moves of O's input into its output registers come before the first MMA: written after
    /// it (two intrinsics), they are register writes inside the pipeline stage and ptxas serialises (C7513, device run 44).
    /// Wait for S with <see cref="WgmmaWait1"/>, for O with <see cref="WgmmaWait0"/>.
    /// </summary>
    [IntrinsicImplementation]
    public static Float32x96 WgmmaBf16AttentionStep(ulong descQ, ulong descK, Float32x64 o, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6,
        uint a7, uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, ulong descV) => throw GpuOnly();

    /// <summary>As <see cref="WgmmaBf16M64N64SSChain"/> with m64n128k16 (b: 128 rows of Bᵀ, a 64×128 accumulator).</summary>
    [IntrinsicImplementation] public static Float32x64 WgmmaBf16M64N128SSChain(ulong descA, ulong descB, int steps, int stepA, int stepB) => throw GpuOnly();

    /// <summary>As <see cref="WgmmaBf16M64N128RSTransBChain4"/> over eight k-steps (128 rows of b, a0…a31).</summary>
    [IntrinsicImplementation]
    public static Float32x64 WgmmaBf16M64N128RSTransBChain8(Float32x64 c, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6, uint a7, uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, uint a16, uint a17, uint a18, uint a19, uint a20, uint a21, uint a22, uint a23, uint a24, uint a25, uint a26, uint a27, uint a28, uint a29, uint a30, uint a31, ulong descB, int stepB) => throw GpuOnly();

    /// <summary>
    /// As <see cref="WgmmaBf16AttentionStep"/> for 128-key tiles: S = Σ_k Q_k·K_kᵀ by 8 SS m64n128k16 (64×128), then
    /// O = <paramref name="o"/> + Σ_k P_k·V_k by 8 RS m64n128k16 (P = a0…a31, V transposed, steps of 256), two commit groups.
    /// </summary>
    [IntrinsicImplementation]
    public static Float32x128 WgmmaBf16AttentionStep128(ulong descQ, ulong descK, Float32x64 o, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5, uint a6, uint a7, uint a8, uint a9, uint a10, uint a11, uint a12, uint a13, uint a14, uint a15, uint a16, uint a17, uint a18, uint a19, uint a20, uint a21, uint a22, uint a23, uint a24, uint a25, uint a26, uint a27, uint a28, uint a29, uint a30, uint a31, ulong descV) => throw GpuOnly();

    /// <summary>
    /// A shared-memory matrix descriptor without swizzle for the wgmma above: start address, leading and stride byte
    /// offsets (each in 16-byte units). Plain arithmetic, compiled into the kernel like any other C#.
    /// </summary>
    public static ulong WgmmaDescriptor(uint address, int leadingBytes, int strideBytes) =>
        ((ulong)(address & 0x3FFFF) >> 4) | ((ulong)(uint)(leadingBytes >> 4) << 16) | ((ulong)(uint)(strideBytes >> 4) << 32);

    // ---- Warp specialisation (sm_90): shared-memory mbarriers between a producer and consumer warpgroups, register
    // reallocation between warpgroups, named barriers. Not emulated on the host, like wgmma.

    /// <summary>mbarrier.init.shared::cta.b64: the 8-byte barrier at <paramref name="address"/> expects <paramref name="count"/> arrivals per phase.</summary>
    [IntrinsicImplementation] public static void MbarrierInit(uint address, uint count) => throw GpuOnly();

    /// <summary>mbarrier.arrive.shared::cta.b64 (release, CTA scope): one arrival on the barrier at <paramref name="address"/>.</summary>
    [IntrinsicImplementation] public static void MbarrierArrive(uint address) => throw GpuOnly();

    /// <summary>Spins on mbarrier.try_wait.parity (acquire, CTA scope) until the barrier's phase of parity <paramref name="parity"/> (0 or 1) has completed.</summary>
    [IntrinsicImplementation] public static void MbarrierWaitParity(uint address, uint parity) => throw GpuOnly();

    /// <summary>setmaxnreg.inc.sync.aligned.u32: this warpgroup's register budget grows to <paramref name="registers"/> (a constant, multiple of 8, 24–256).</summary>
    [IntrinsicImplementation] public static void SetMaxRegistersInc(int registers) => throw GpuOnly();

    /// <summary>setmaxnreg.dec.sync.aligned.u32: this warpgroup's register budget shrinks to <paramref name="registers"/> (a constant, multiple of 8, 24–256).</summary>
    [IntrinsicImplementation] public static void SetMaxRegistersDec(int registers) => throw GpuOnly();

    /// <summary>bar.sync on named barrier <paramref name="id"/> (1–15) among <paramref name="threads"/> threads (a multiple of 32).</summary>
    [IntrinsicImplementation] public static void NamedBarrierSync(uint id, uint threads) => throw GpuOnly();

    /// <summary>bar.arrive on named barrier <paramref name="id"/>: counts this warp toward <paramref name="threads"/> without waiting.</summary>
    [IntrinsicImplementation] public static void NamedBarrierArrive(uint id, uint threads) => throw GpuOnly();

    private static NotSupportedException GpuOnly() =>
        new("wgmma runs on an sm_90 GPU only; the host emulation does not implement it.");

    /// <summary>2^x (ex2.approx.ftz.f32; 2^-inf = +0).</summary>
    [IntrinsicImplementation] public static float Exp2(float x) => OnHost(float.Exp2(x));

    /// <summary>log2(x) (lg2.approx.ftz.f32).</summary>
    [IntrinsicImplementation] public static float Log2(float x) => OnHost(MathF.Log2(x));

    /// <summary>√x, correctly rounded (sqrt.rn.f32).</summary>
    [IntrinsicImplementation] public static float Sqrt(float x) => OnHost(MathF.Sqrt(x));

    /// <summary>1/x (rcp.approx.ftz.f32; 1/inf = 0).</summary>
    [IntrinsicImplementation] public static float Reciprocal(float x) => OnHost(1f / x);

    /// <summary>The byte at a global address, zero-extended (ld.global.nc.u8).</summary>
    [IntrinsicImplementation] public static uint LoadByte(ulong address) => HostSimt.LoadGlobal<byte>(address);

    /// <summary>The float at a global address (ld.global.nc.f32).</summary>
    [IntrinsicImplementation] public static float LoadFloat(ulong address) => HostSimt.LoadGlobal<float>(address);

    /// <summary>The 32-bit word at a global address (ld.global.nc.b32).</summary>
    [IntrinsicImplementation] public static uint LoadWord(ulong address) => HostSimt.LoadGlobal<uint>(address);

    /// <summary>The int at a global address (ld.global.nc.s32).</summary>
    [IntrinsicImplementation] public static int LoadInt(ulong address) => HostSimt.LoadGlobal<int>(address);

    /// <summary>The high 32 bits of the 64-bit product of two unsigned words (mul.hi.u32).</summary>
    [IntrinsicImplementation] public static uint MulHigh(uint a, uint b) => OnHost((uint)(((ulong)a * b) >> 32));

    /// <summary>max(a, b) (max.f32: a NaN operand loses).</summary>
    [IntrinsicImplementation] public static float Max(float a, float b) => OnHost(float.MaxNumber(a, b));

    /// <summary>min(a, b) (min.f32: a NaN operand loses).</summary>
    [IntrinsicImplementation] public static float Min(float a, float b) => OnHost(float.MinNumber(a, b));

    /// <summary>The value of the lane whose id is this lane's xor <paramref name="laneMask"/> (shfl.sync.bfly, full warp).</summary>
    [IntrinsicImplementation] public static float ShuffleXor(float value, int laneMask) => HostSimt.ShuffleXor(value, laneMask);

    /// <summary>The word of the lane whose id is this lane's xor <paramref name="laneMask"/> (shfl.sync.bfly.b32, full warp).</summary>
    [IntrinsicImplementation] public static uint ShuffleXorBits(uint value, int laneMask) => HostSimt.ShuffleXorBits(value, laneMask);

    /// <summary>1 when <paramref name="predicate"/> is non-zero in any lane of the warp, else 0 (vote.sync.any, full warp).</summary>
    [IntrinsicImplementation] public static int VoteAny(int predicate) => HostSimt.VoteAny(predicate);

    /// <summary>Two floats rounded to fp16 and packed: <paramref name="lo"/> in bits 0-15, <paramref name="hi"/> in 16-31.</summary>
    [IntrinsicImplementation]
    public static uint PackF16(float lo, float hi) =>
        OnHost(BitConverter.HalfToUInt16Bits((System.Half)lo) | ((uint)BitConverter.HalfToUInt16Bits((System.Half)hi) << 16));

    /// <summary>Two floats rounded to bf16 (nearest even) and packed: <paramref name="lo"/> in bits 0-15, <paramref name="hi"/> in 16-31.</summary>
    [IntrinsicImplementation]
    public static uint PackBf16(float lo, float hi) => OnHost(((BFloat16)lo).Bits | ((uint)((BFloat16)hi).Bits << 16));

    /// <summary>The fp16 number in bits 0-15 of <paramref name="bits"/>, widened (cvt.f32.f16).</summary>
    [IntrinsicImplementation] public static float HalfToFloat(uint bits) => OnHost((float)BitConverter.UInt16BitsToHalf((ushort)bits));

    /// <summary>cp.async.cg.shared.global, 16 bytes (bypasses L1).</summary>
    [IntrinsicImplementation] public static void CopyAsync16(uint shared, ulong global) => HostSimt.CopyAsync(shared, global, 16);

    /// <summary>As <see cref="CopyAsync16"/> reading only <paramref name="sourceBytes"/> (0 or 16) and zero-filling the rest.</summary>
    [IntrinsicImplementation] public static void CopyAsync16Fill(uint shared, ulong global, uint sourceBytes) => HostSimt.CopyAsync(shared, global, sourceBytes);

    /// <summary>cp.async.commit_group.</summary>
    [IntrinsicImplementation] public static void CommitGroup() => HostSimt.CommitGroup();

    /// <summary>cp.async.wait_group 0: every committed copy of this thread has landed.</summary>
    [IntrinsicImplementation] public static void WaitGroup0() => HostSimt.WaitGroup(0);

    /// <summary>cp.async.wait_group 1: all but the newest committed group have landed.</summary>
    [IntrinsicImplementation] public static void WaitGroup1() => HostSimt.WaitGroup(1);

    /// <summary>cp.async.wait_group 2: all but the two newest committed groups have landed.</summary>
    [IntrinsicImplementation] public static void WaitGroup2() => HostSimt.WaitGroup(2);

    /// <summary>ld.shared.b32.</summary>
    [IntrinsicImplementation] public static uint LoadShared(uint address) => HostSimt.LoadShared32(address);

    /// <summary>ld.shared.f32.</summary>
    [IntrinsicImplementation] public static float LoadSharedFloat(uint address) => BitConverter.UInt32BitsToSingle(HostSimt.LoadShared32(address));

    /// <summary>st.shared.b32.</summary>
    [IntrinsicImplementation] public static void StoreShared(uint address, uint value) => HostSimt.StoreShared32(address, value);

    /// <summary>ld.shared.v4.b32: 16 bytes from a 16-byte aligned shared-memory address.</summary>
    [IntrinsicImplementation]
    public static Uint4 LoadShared128(uint address) => new()
    {
        X = HostSimt.LoadShared32(address), Y = HostSimt.LoadShared32(address + 4),
        Z = HostSimt.LoadShared32(address + 8), W = HostSimt.LoadShared32(address + 12),
    };

    /// <summary>st.global.v4.b32: 16 bytes to a 16-byte aligned global address (one full-width store per lane).</summary>
    [IntrinsicImplementation]
    public static void StoreGlobal128(ulong address, uint x, uint y, uint z, uint w)
    {
        HostSimt.StoreGlobal(address, x);
        HostSimt.StoreGlobal(address + 4, y);
        HostSimt.StoreGlobal(address + 8, z);
        HostSimt.StoreGlobal(address + 12, w);
    }

    /// <summary>st.global.b32.</summary>
    [IntrinsicImplementation] public static void StoreWord(ulong address, uint value) => HostSimt.StoreGlobal(address, value);

    /// <summary>st.global.b16 (the low half of <paramref name="value"/>).</summary>
    [IntrinsicImplementation] public static void StoreHalfWord(ulong address, uint value) => HostSimt.StoreGlobal(address, (ushort)value);

    /// <summary>st.global.f32.</summary>
    [IntrinsicImplementation] public static void StoreFloat(ulong address, float value) => HostSimt.StoreGlobal(address, value);

    /// <summary>red.global.add.f32: atomic add without a result.</summary>
    [IntrinsicImplementation] public static void AtomicAdd(ulong address, float value) => HostSimt.AtomicAdd(address, value);

    /// <summary>red.global.add.v2.f32: two neighbouring floats (8-byte aligned) in one atomic (sm_90, PTX ISA 8.1).</summary>
    [IntrinsicImplementation]
    public static void AtomicAdd2(ulong address, float a, float b)
    {
        HostSimt.AtomicAdd(address, a);
        HostSimt.AtomicAdd(address + 4, b);
    }

    /// <summary>red.global.add.v4.f32: four neighbouring floats (16-byte aligned) in one atomic (sm_90, PTX ISA 8.1).</summary>
    [IntrinsicImplementation]
    public static void AtomicAdd4(ulong address, float a, float b, float c, float d)
    {
        HostSimt.AtomicAdd(address, a);
        HostSimt.AtomicAdd(address + 4, b);
        HostSimt.AtomicAdd(address + 8, c);
        HostSimt.AtomicAdd(address + 12, d);
    }

    /// <summary>Host value of a lane-local intrinsic; it exists only in a kernel (GPU or emulated), as before.</summary>
    private static T OnHost<T>(T value) => value;

    /// <summary>Registers the code generators of every intrinsic above with a context under construction.</summary>
    public static void Register(Context.Builder builder)
    {
        var manager = builder.GetIntrinsicManager();
        void Map(string method, string generator) =>
            manager.RegisterMethod(
                typeof(PtxOps).GetMethod(method, BindingFlags.Public | BindingFlags.Static)!,
                new PTXIntrinsic(typeof(PtxOps), generator, IntrinsicImplementationMode.GenerateCode));
        Map(nameof(SharedBase), nameof(GenerateSharedBase));
        Map(nameof(MmaF16), nameof(GenerateMmaF16));
        Map(nameof(MmaBf16), nameof(GenerateMmaBf16));
        Map(nameof(LdMatrixX4), nameof(GenerateLdMatrix));
        Map(nameof(LdMatrixX4Trans), nameof(GenerateLdMatrixTrans));
        Map(nameof(Exp2), nameof(GenerateExp2));
        Map(nameof(Log2), nameof(GenerateLog2));
        Map(nameof(Reciprocal), nameof(GenerateReciprocal));
        Map(nameof(LoadByte), nameof(GenerateLoadByte));
        Map(nameof(LoadFloat), nameof(GenerateLoadFloat));
        Map(nameof(MulHigh), nameof(GenerateMulHigh));
        Map(nameof(Max), nameof(GenerateMax));
        Map(nameof(Min), nameof(GenerateMin));
        Map(nameof(ShuffleXor), nameof(GenerateShuffleXor));
        Map(nameof(ShuffleXorBits), nameof(GenerateShuffleXor));
        Map(nameof(PackF16), nameof(GeneratePackF16));
        Map(nameof(PackBf16), nameof(GeneratePackBf16));
        Map(nameof(LoadWord), nameof(GenerateLoadWord));
        Map(nameof(Sqrt), nameof(GenerateSqrt));
        Map(nameof(VoteAny), nameof(GenerateVoteAny));
        Map(nameof(HalfToFloat), nameof(GenerateHalfToFloat));
        Map(nameof(LoadInt), nameof(GenerateLoadInt));
        Map(nameof(CopyAsync16), nameof(GenerateCopyAsync16));
        Map(nameof(CopyAsync16Fill), nameof(GenerateCopyAsync16Fill));
        Map(nameof(CommitGroup), nameof(GenerateCommitGroup));
        Map(nameof(WaitGroup0), nameof(GenerateWaitGroup0));
        Map(nameof(WaitGroup1), nameof(GenerateWaitGroup1));
        Map(nameof(WaitGroup2), nameof(GenerateWaitGroup2));
        Map(nameof(LoadShared), nameof(GenerateLoadShared));
        Map(nameof(LoadSharedFloat), nameof(GenerateLoadSharedFloat));
        Map(nameof(StoreShared), nameof(GenerateStoreShared));
        Map(nameof(StoreWord), nameof(GenerateStoreWord));
        Map(nameof(LoadShared128), nameof(GenerateLoadShared128));
        Map(nameof(StoreGlobal128), nameof(GenerateStoreGlobal128));
        Map(nameof(StoreHalfWord), nameof(GenerateStoreHalfWord));
        Map(nameof(StoreFloat), nameof(GenerateStoreFloat));
        Map(nameof(AtomicAdd), nameof(GenerateAtomicAdd));
        Map(nameof(AtomicAdd2), nameof(GenerateAtomicAdd2));
        Map(nameof(AtomicAdd4), nameof(GenerateAtomicAdd4));
        Map(nameof(WgmmaCommit), nameof(GenerateWgmmaCommit));
        Map(nameof(WgmmaWait0), nameof(GenerateWgmmaWait0));
        Map(nameof(WgmmaWait1), nameof(GenerateWgmmaWait1));
        Map(nameof(FenceProxyAsyncShared), nameof(GenerateFenceProxyAsyncShared));
        Map(nameof(WgmmaBf16M64N64K16SS), nameof(GenerateWgmmaSS));
        Map(nameof(WgmmaBf16M64N64K16RSTransB), nameof(GenerateWgmmaRSTransB));
        Map(nameof(WgmmaBf16M64N128K16RSTransB), nameof(GenerateWgmmaRSTransB));
        Map(nameof(WgmmaBf16M64N64SSChain), nameof(GenerateWgmmaSSChain));
        Map(nameof(WgmmaBf16M64N128RSTransBChain4), nameof(GenerateWgmmaRSChain));
        Map(nameof(WgmmaBf16M64N64RSTransBChain4), nameof(GenerateWgmmaRSChain));
        Map(nameof(WgmmaBf16M64N64RSChain4), nameof(GenerateWgmmaRSChainFromZero));
        Map(nameof(WgmmaBf16AttentionStep), nameof(GenerateWgmmaAttentionStep));
        Map(nameof(WgmmaBf16M64N128SSChain), nameof(GenerateWgmmaSSChain));
        Map(nameof(WgmmaBf16M64N128RSTransBChain8), nameof(GenerateWgmmaRSChain));
        Map(nameof(WgmmaBf16AttentionStep128), nameof(GenerateWgmmaAttentionStep));
        Map(nameof(MbarrierInit), nameof(GenerateMbarrierInit));
        Map(nameof(MbarrierArrive), nameof(GenerateMbarrierArrive));
        Map(nameof(MbarrierWaitParity), nameof(GenerateMbarrierWaitParity));
        Map(nameof(SetMaxRegistersInc), nameof(GenerateSetMaxRegistersInc));
        Map(nameof(SetMaxRegistersDec), nameof(GenerateSetMaxRegistersDec));
        Map(nameof(NamedBarrierSync), nameof(GenerateNamedBarrierSync));
        Map(nameof(NamedBarrierArrive), nameof(GenerateNamedBarrierArrive));
    }

    /// <summary>Names of the stub functions ILGPU still emits for the intrinsics (never called; <see cref="KernelCompiler"/> strips them).</summary>
    public static IEnumerable<string> IntrinsicNames =>
    [
        nameof(SharedBase), nameof(MmaF16), nameof(MmaBf16), nameof(LdMatrixX4), nameof(LdMatrixX4Trans), nameof(Exp2),
        nameof(Log2), nameof(Reciprocal), nameof(LoadByte), nameof(LoadFloat), nameof(MulHigh), nameof(Max), nameof(Min), nameof(ShuffleXor), nameof(ShuffleXorBits), nameof(PackF16), nameof(PackBf16),
        nameof(LoadWord), nameof(LoadInt), nameof(HalfToFloat), nameof(VoteAny), nameof(Sqrt), nameof(CopyAsync16), nameof(CopyAsync16Fill), nameof(CommitGroup), nameof(WaitGroup0),
        nameof(WaitGroup1), nameof(WaitGroup2), nameof(LoadShared), nameof(LoadSharedFloat), nameof(StoreShared), nameof(StoreWord), nameof(LoadShared128), nameof(StoreGlobal128),
        nameof(StoreHalfWord), nameof(StoreFloat), nameof(AtomicAdd), nameof(AtomicAdd2), nameof(AtomicAdd4),
        nameof(WgmmaCommit), nameof(WgmmaWait0), nameof(WgmmaWait1), nameof(FenceProxyAsyncShared), nameof(WgmmaBf16M64N64K16SS),
        nameof(WgmmaBf16M64N64K16RSTransB), nameof(WgmmaBf16M64N128K16RSTransB), nameof(WgmmaBf16M64N64SSChain),
        nameof(WgmmaBf16M64N128RSTransBChain4), nameof(WgmmaBf16M64N64RSTransBChain4), nameof(WgmmaBf16M64N64RSChain4), nameof(WgmmaBf16AttentionStep), nameof(WgmmaBf16M64N128SSChain),
        nameof(WgmmaBf16M64N128RSTransBChain8), nameof(WgmmaBf16AttentionStep128), nameof(MbarrierInit), nameof(MbarrierArrive),
        nameof(MbarrierWaitParity), nameof(SetMaxRegistersInc), nameof(SetMaxRegistersDec), nameof(NamedBarrierSync), nameof(NamedBarrierArrive),
    ];

    // ---- code generators: (backend, code generator, the MethodCall value) ----

    private static void GenerateSharedBase(PTXBackend backend, PTXCodeGenerator cg, Value value) =>
        Line(cg, $"mov.u32 {Out(cg, value)}, {SharedArrayName}");

    private static void GenerateMmaF16(PTXBackend backend, PTXCodeGenerator cg, Value value) => Mma(cg, value, "f16");

    private static void GenerateMmaBf16(PTXBackend backend, PTXCodeGenerator cg, Value value) => Mma(cg, value, "bf16");

    private static void Mma(PTXCodeGenerator cg, Value value, string type)
    {
        var call = (MethodCall)value;
        var a = new string[10];
        for (int i = 0; i < a.Length; i++)
            a[i] = In(cg, call.Nodes[i]);
        var d = Outs(cg, value);
        Line(cg, $"mma.sync.aligned.m16n8k16.row.col.f32.{type}.{type}.f32 {{{d[0]}, {d[1]}, {d[2]}, {d[3]}}}, " +
                 $"{{{a[4]}, {a[5]}, {a[6]}, {a[7]}}}, {{{a[8]}, {a[9]}}}, {{{a[0]}, {a[1]}, {a[2]}, {a[3]}}}");
    }

    private static void GenerateLdMatrix(PTXBackend backend, PTXCodeGenerator cg, Value value) => LdMatrix(cg, value, "");

    private static void GenerateLdMatrixTrans(PTXBackend backend, PTXCodeGenerator cg, Value value) => LdMatrix(cg, value, ".trans");

    private static void LdMatrix(PTXCodeGenerator cg, Value value, string trans)
    {
        var address = In(cg, ((MethodCall)value).Nodes[0]);
        var d = Outs(cg, value);
        Line(cg, $"ldmatrix.sync.aligned.m8n8.x4{trans}.shared.b16 {{{d[0]}, {d[1]}, {d[2]}, {d[3]}}}, [{address}]");
    }

    private static void GenerateExp2(PTXBackend backend, PTXCodeGenerator cg, Value value) => Unary(cg, value, "ex2.approx.ftz.f32");

    private static void GenerateLog2(PTXBackend backend, PTXCodeGenerator cg, Value value) => Unary(cg, value, "lg2.approx.ftz.f32");

    private static void Unary(PTXCodeGenerator cg, Value value, string op)
    {
        var x = In(cg, ((MethodCall)value).Nodes[0]);
        Line(cg, $"{op} {Out(cg, value)}, {x}");
    }

    private static void GenerateSqrt(PTXBackend backend, PTXCodeGenerator cg, Value value) => Unary(cg, value, "sqrt.rn.f32");

    private static void GenerateReciprocal(PTXBackend backend, PTXCodeGenerator cg, Value value) => Unary(cg, value, "rcp.approx.ftz.f32");

    private static void GenerateLoadByte(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var address = In(cg, ((MethodCall)value).Nodes[0]);
        Line(cg, $"ld.global.nc.u8 {Out(cg, value)}, [{address}]");
    }

    private static void GenerateLoadFloat(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var address = In(cg, ((MethodCall)value).Nodes[0]);
        Line(cg, $"ld.global.nc.f32 {Out(cg, value)}, [{address}]");
    }

    private static void GenerateMulHigh(PTXBackend backend, PTXCodeGenerator cg, Value value) => Binary(cg, value, "mul.hi.u32");

    private static void GenerateMax(PTXBackend backend, PTXCodeGenerator cg, Value value) => Binary(cg, value, "max.f32");

    private static void GenerateMin(PTXBackend backend, PTXCodeGenerator cg, Value value) => Binary(cg, value, "min.f32");

    private static void Binary(PTXCodeGenerator cg, Value value, string op)
    {
        var call = (MethodCall)value;
        string a = In(cg, call.Nodes[0]), b = In(cg, call.Nodes[1]);
        Line(cg, $"{op} {Out(cg, value)}, {a}, {b}");
    }

    private static void GenerateShuffleXor(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string x = In(cg, call.Nodes[0]), mask = In(cg, call.Nodes[1]);
        Line(cg, $"shfl.sync.bfly.b32 {Out(cg, value)}, {x}, {mask}, 31, -1");
    }

    private static void GeneratePackF16(PTXBackend backend, PTXCodeGenerator cg, Value value) => Pack(cg, value, "f16x2");

    private static void GeneratePackBf16(PTXBackend backend, PTXCodeGenerator cg, Value value) => Pack(cg, value, "bf16x2");

    private static void Pack(PTXCodeGenerator cg, Value value, string type)
    {
        // cvt.rn.f16x2.f32 d, a, b puts a in the upper half and b in the lower half.
        var call = (MethodCall)value;
        string lo = In(cg, call.Nodes[0]), hi = In(cg, call.Nodes[1]);
        Line(cg, $"cvt.rn.{type}.f32 {Out(cg, value)}, {hi}, {lo}");
    }


    private static void GenerateLoadWord(PTXBackend backend, PTXCodeGenerator cg, Value value) => Load(cg, value, "ld.global.nc.b32");

    private static void GenerateLoadInt(PTXBackend backend, PTXCodeGenerator cg, Value value) => Load(cg, value, "ld.global.nc.s32");

    private static void GenerateLoadShared(PTXBackend backend, PTXCodeGenerator cg, Value value) => Load(cg, value, "ld.shared.b32");

    private static void GenerateLoadSharedFloat(PTXBackend backend, PTXCodeGenerator cg, Value value) => Load(cg, value, "ld.shared.f32");

    private static void Load(PTXCodeGenerator cg, Value value, string op)
    {
        var address = In(cg, ((MethodCall)value).Nodes[0]);
        Line(cg, $"{op} {Out(cg, value)}, [{address}]");
    }

    private static void GenerateVoteAny(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var predicate = In(cg, ((MethodCall)value).Nodes[0]);
        Block(cg, $"{{ .reg .pred %fa_p; setp.ne.s32 %fa_p, {predicate}, 0; vote.sync.any.pred %fa_p, %fa_p, 0xffffffff; selp.s32 {Out(cg, value)}, 1, 0, %fa_p; }}");
    }

    private static void GenerateHalfToFloat(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var bits = In(cg, ((MethodCall)value).Nodes[0]);
        Block(cg, $"{{ .reg .b16 %fa_h; cvt.u16.u32 %fa_h, {bits}; cvt.f32.f16 {Out(cg, value)}, %fa_h; }}");
    }

    private static void GenerateCopyAsync16(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string shared = In(cg, call.Nodes[0]), global = In(cg, call.Nodes[1]);
        Line(cg, $"cp.async.cg.shared.global [{shared}], [{global}], 16");
    }

    private static void GenerateCopyAsync16Fill(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string shared = In(cg, call.Nodes[0]), global = In(cg, call.Nodes[1]), bytes = In(cg, call.Nodes[2]);
        Line(cg, $"cp.async.cg.shared.global [{shared}], [{global}], 16, {bytes}");
    }

    private static void GenerateCommitGroup(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "cp.async.commit_group");

    private static void GenerateWgmmaCommit(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "wgmma.commit_group.sync.aligned");

    private static void GenerateWgmmaWait0(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "wgmma.wait_group.sync.aligned 0");

    private static void GenerateWgmmaWait1(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "wgmma.wait_group.sync.aligned 1");

    private static void GenerateFenceProxyAsyncShared(PTXBackend backend, PTXCodeGenerator cg, Value value) =>
        Line(cg, "fence.proxy.async.shared::cta");

    private static void GenerateMbarrierInit(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), count = In(cg, call.Nodes[1]);
        Line(cg, $"mbarrier.init.shared::cta.b64 [{address}], {count}");
    }

    private static void GenerateMbarrierArrive(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        string address = In(cg, ((MethodCall)value).Nodes[0]);
        Block(cg, $"{{ .reg .b64 %fa_state; mbarrier.arrive.shared::cta.b64 %fa_state, [{address}]; }}");
    }

    /// <summary>Labels are local to their braced block, but each wait gets its own name so no two blocks of a function share one.</summary>
    private static int _waitLabels;

    private static void GenerateMbarrierWaitParity(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), parity = In(cg, call.Nodes[1]);
        string label = $"FA_MBARRIER_WAIT_{Interlocked.Increment(ref _waitLabels)}";
        Block(cg, $"{{ .reg .pred %fa_done; {label}: mbarrier.try_wait.parity.shared::cta.b64 %fa_done, [{address}], {parity}; @!%fa_done bra {label}; }}");
    }

    private static void GenerateSetMaxRegistersInc(PTXBackend backend, PTXCodeGenerator cg, Value value) =>
        Line(cg, $"setmaxnreg.inc.sync.aligned.u32 {RegisterBudget(((MethodCall)value).Nodes[0])}");

    private static void GenerateSetMaxRegistersDec(PTXBackend backend, PTXCodeGenerator cg, Value value) =>
        Line(cg, $"setmaxnreg.dec.sync.aligned.u32 {RegisterBudget(((MethodCall)value).Nodes[0])}");

    private static int RegisterBudget(Value argument)
    {
        int registers = Constant(argument);
        return registers is >= 24 and <= 256 && registers % 8 == 0
            ? registers
            : throw new NotSupportedException($"setmaxnreg needs a multiple of 8 in 24–256, not {registers}.");
    }

    private static void GenerateNamedBarrierSync(PTXBackend backend, PTXCodeGenerator cg, Value value) => NamedBarrier(cg, value, "bar.sync");

    private static void GenerateNamedBarrierArrive(PTXBackend backend, PTXCodeGenerator cg, Value value) => NamedBarrier(cg, value, "bar.arrive");

    private static void NamedBarrier(PTXCodeGenerator cg, Value value, string op)
    {
        var call = (MethodCall)value;
        string id = In(cg, call.Nodes[0]), threads = In(cg, call.Nodes[1]);
        Line(cg, $"{op} {id}, {threads}");
    }

    private static void GenerateWgmmaSS(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        var d = AccumulatorInOut(cg, call.Nodes[0], (CompoundRegister)cg.Allocate(value), 0);
        string descA = In(cg, call.Nodes[1]), descB = In(cg, call.Nodes[2]), accumulate = In(cg, call.Nodes[3]);
        Block(cg, $"{{ .reg .pred %fa_p; setp.ne.b32 %fa_p, {accumulate}, 0; wgmma.fence.sync.aligned; " +
                  $"wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{{string.Join(", ", d)}}}, {descA}, {descB}, %fa_p, 1, 1, 0, 0; }}");
    }

    private static void GenerateWgmmaRSTransB(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        var d = AccumulatorInOut(cg, call.Nodes[0], (CompoundRegister)cg.Allocate(value), 0);
        var a = Ins(cg, call, 1, 4);
        string descB = In(cg, call.Nodes[5]), accumulate = In(cg, call.Nodes[6]);
        Block(cg, $"{{ .reg .pred %fa_p; setp.ne.b32 %fa_p, {accumulate}, 0; wgmma.fence.sync.aligned; " +
                  $"wgmma.mma_async.sync.aligned.m64n{d.Length / 4 * 8}k16.f32.bf16.bf16 {{{string.Join(", ", d)}}}, {{{string.Join(", ", a)}}}, {descB}, %fa_p, 1, 1, 1; }}");
    }

    private static void GenerateWgmmaSSChain(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string descA = In(cg, call.Nodes[0]), descB = In(cg, call.Nodes[1]);
        int steps = Constant(call.Nodes[2]), stepA = Constant(call.Nodes[3]), stepB = Constant(call.Nodes[4]);
        var d = Outs(cg, value);
        var block = ChainPreamble(firstOverwrites: true);
        AppendSSChain(block, d, descA, descB, steps, stepA, stepB);
        Block(cg, block.Append('}').ToString());
    }

    private static void GenerateWgmmaRSChain(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        // (c, a0 … a(4·steps − 1), descB, stepB)
        var call = (MethodCall)value;
        var d = AccumulatorInOut(cg, call.Nodes[0], (CompoundRegister)cg.Allocate(value), 0);
        int fragments = call.Nodes.Length - 3;
        var a = Ins(cg, call, 1, fragments);
        string descB = In(cg, call.Nodes[1 + fragments]);
        var block = ChainPreamble(firstOverwrites: false);
        AppendRSChain(block, d, a, descB, Constant(call.Nodes[2 + fragments]));
        Block(cg, block.Append('}').ToString());
    }

    private static void GenerateWgmmaRSChainFromZero(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        // (a0 … a(4·steps − 1), descB, stepB): B K-major (not transposed), the first MMA overwriting the accumulator.
        var call = (MethodCall)value;
        int fragments = call.Nodes.Length - 2;
        var a = Ins(cg, call, 0, fragments);
        string descB = In(cg, call.Nodes[fragments]);
        int stepB = Constant(call.Nodes[fragments + 1]);
        var d = Outs(cg, value);
        var block = ChainPreamble(firstOverwrites: true);
        for (int k = 0; k < fragments / 4; k++)
        {
            block.Append($"add.s64 %fa_b, {descB}, {k * stepB}; ");
            block.Append($"wgmma.mma_async.sync.aligned.m64n{2 * d.Length}k16.f32.bf16.bf16 {{{string.Join(", ", d)}}}, " +
                         $"{{{a[4 * k]}, {a[4 * k + 1]}, {a[4 * k + 2]}, {a[4 * k + 3]}}}, %fa_b, {(k == 0 ? "%fa_p" : "%fa_q")}, 1, 1, 0; ");
        }
        Block(cg, block.Append('}').ToString());
    }

    private static void GenerateWgmmaAttentionStep(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        // (descQ, descK, o, a0 … a(fragments − 1), descV): S has as many registers as the result beyond O.
        var call = (MethodCall)value;
        string descQ = In(cg, call.Nodes[0]), descK = In(cg, call.Nodes[1]);
        int fragments = call.Nodes.Length - 4;
        var a = Ins(cg, call, 3, fragments);
        string descV = In(cg, call.Nodes[3 + fragments]);
        var target = (CompoundRegister)cg.Allocate(value);
        int sCount = target.NumChildren - ((CompoundRegister)cg.Load(call.Nodes[2])).NumChildren;
        var o = AccumulatorInOut(cg, call.Nodes[2], target, sCount);
        var s = new string[sCount];
        for (int i = 0; i < s.Length; i++)
            s[i] = Name((HardwareRegister)target.Children[i]);
        var block = ChainPreamble(firstOverwrites: true);
        AppendSSChain(block, s, descQ, descK, 8, 16, 16);
        block.Append("wgmma.commit_group.sync.aligned; ");
        AppendRSChain(block, o, a, descV, 256);
        Block(cg, block.Append("wgmma.commit_group.sync.aligned; }").ToString());
    }

    /// <summary>
    /// The start of a chain's PTX block: predicates %fa_q (true: accumulate) and, when the chain's first MMA overwrites
    /// its accumulator, %fa_p (false); descriptor registers; the wgmma.fence after every register write of the call.
    /// </summary>
    private static System.Text.StringBuilder ChainPreamble(bool firstOverwrites) => new(firstOverwrites
        ? "{ .reg .pred %fa_p, %fa_q; .reg .b32 %fa_z; .reg .b64 %fa_a, %fa_b; mov.b32 %fa_z, 0; setp.ne.b32 %fa_p, %fa_z, 0; setp.eq.b32 %fa_q, %fa_z, 0; wgmma.fence.sync.aligned; "
        : "{ .reg .pred %fa_q; .reg .b32 %fa_z; .reg .b64 %fa_b; mov.b32 %fa_z, 0; setp.eq.b32 %fa_q, %fa_z, 0; wgmma.fence.sync.aligned; ");

    /// <summary>
    /// <paramref name="steps"/> SS m64nNk16 on <paramref name="d"/> (N = 2 × its register count: 32 → n64, 64 → n128), the
    /// first overwriting (%fa_p), descriptors advanced per step.
    /// </summary>
    private static void AppendSSChain(System.Text.StringBuilder block, string[] d, string descA, string descB, int steps, int stepA, int stepB)
    {
        for (int k = 0; k < steps; k++)
        {
            block.Append($"add.s64 %fa_a, {descA}, {k * stepA}; add.s64 %fa_b, {descB}, {k * stepB}; ");
            block.Append($"wgmma.mma_async.sync.aligned.m64n{2 * d.Length}k16.f32.bf16.bf16 {{{string.Join(", ", d)}}}, %fa_a, %fa_b, {(k == 0 ? "%fa_p" : "%fa_q")}, 1, 1, 0, 0; ");
        }
    }

    /// <summary>
    /// RS m64nNk16 accumulating into <paramref name="d"/> (N = 2 × its register count: 32 → n64, 64 → n128), one per A
    /// fragment: fragment k is a[4k … 4k + 3], B read transposed at descB + k·stepB.
    /// </summary>
    private static void AppendRSChain(System.Text.StringBuilder block, string[] d, string[] a, string descB, int stepB)
    {
        for (int k = 0; k < a.Length / 4; k++)
        {
            block.Append($"add.s64 %fa_b, {descB}, {k * stepB}; ");
            block.Append($"wgmma.mma_async.sync.aligned.m64n{2 * d.Length}k16.f32.bf16.bf16 {{{string.Join(", ", d)}}}, " +
                         $"{{{a[4 * k]}, {a[4 * k + 1]}, {a[4 * k + 2]}, {a[4 * k + 3]}}}, %fa_b, %fa_q, 1, 1, 1; ");
        }
    }

    /// <summary>The registers of <paramref name="count"/> consecutive arguments from <paramref name="first"/> on.</summary>
    private static string[] Ins(PTXCodeGenerator cg, MethodCall call, int first, int count)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++)
            names[i] = In(cg, call.Nodes[first + i]);
        return names;
    }

    /// <summary>The value of an argument that must be a compile-time constant (a chain's step count or stride, a register budget).</summary>
    private static int Constant(Value argument) =>
        argument.Resolve() is PrimitiveValue primitive
            ? primitive.Int32Value
            : throw new NotSupportedException("This intrinsic argument (a wgmma chain's step or stride, a setmaxnreg budget) must be a constant.");

    /// <summary>
    /// The output registers of a wgmma (children <paramref name="offset"/> … of <paramref name="target"/>), holding the
    /// input accumulator <paramref name="source"/> first: wgmma reads and writes the same registers, ILGPU gives the
    /// result its own, so the input is moved over (ptxas folds the moves where it can). Those moves and the A fragments
    /// are register writes, which the PTX ISA requires a wgmma.fence between and the wgmma: the generators write one
    /// right before each wgmma.
    /// </summary>
    private static string[] AccumulatorInOut(PTXCodeGenerator cg, Value source, CompoundRegister target, int offset)
    {
        var input = (CompoundRegister)cg.Load(source);
        var d = new string[input.NumChildren];
        for (int i = 0; i < d.Length; i++)
        {
            var register = (HardwareRegister)target.Children[offset + i];
            d[i] = Name(register);
            using var move = cg.BeginCommand("mov.b32");
            move.AppendArgument(register);
            if (input.Children[i] is HardwareRegister hardware)
                move.AppendArgument(hardware);
            else
                move.AppendArgument((ConstantRegister)input.Children[i]);
        }
        return d;
    }

    private static void GenerateWaitGroup0(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "cp.async.wait_group 0");

    private static void GenerateWaitGroup1(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "cp.async.wait_group 1");

    private static void GenerateWaitGroup2(PTXBackend backend, PTXCodeGenerator cg, Value value) => Line(cg, "cp.async.wait_group 2");

    private static void GenerateStoreShared(PTXBackend backend, PTXCodeGenerator cg, Value value) => Store(cg, value, "st.shared.b32");

    private static void GenerateStoreWord(PTXBackend backend, PTXCodeGenerator cg, Value value) => Store(cg, value, "st.global.b32");

    private static void GenerateLoadShared128(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var address = In(cg, ((MethodCall)value).Nodes[0]);
        var d = Outs(cg, value);
        Line(cg, $"ld.shared.v4.b32 {{{d[0]}, {d[1]}, {d[2]}, {d[3]}}}, [{address}]");
    }

    private static void GenerateStoreGlobal128(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), x = In(cg, call.Nodes[1]), y = In(cg, call.Nodes[2]), z = In(cg, call.Nodes[3]), w = In(cg, call.Nodes[4]);
        Line(cg, $"st.global.v4.b32 [{address}], {{{x}, {y}, {z}, {w}}}");
    }

    private static void GenerateStoreFloat(PTXBackend backend, PTXCodeGenerator cg, Value value) => Store(cg, value, "st.global.f32");

    private static void GenerateAtomicAdd(PTXBackend backend, PTXCodeGenerator cg, Value value) => Store(cg, value, "red.global.add.f32");

    private static void GenerateAtomicAdd2(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), a = In(cg, call.Nodes[1]), b = In(cg, call.Nodes[2]);
        Line(cg, $"red.global.add.v2.f32 [{address}], {{{a}, {b}}}");
    }

    private static void GenerateAtomicAdd4(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), a = In(cg, call.Nodes[1]), b = In(cg, call.Nodes[2]), c = In(cg, call.Nodes[3]), d = In(cg, call.Nodes[4]);
        Line(cg, $"red.global.add.v4.f32 [{address}], {{{a}, {b}, {c}, {d}}}");
    }

    /// <summary>Instructions that exist from sm_90 (PTX ISA 8.1) only; a module using one is retargeted by <see cref="KernelCompiler"/>.</summary>
    public static readonly string[] Sm90Instructions = ["red.global.add.v2.f32", "red.global.add.v4.f32", "fence.proxy.async", "mbarrier.try_wait"];

    /// <summary>Instructions of sm_90a (the architecture-specific Hopper features): a module using one is retargeted to it.</summary>
    public static readonly string[] Sm90aInstructions = ["wgmma.", "setmaxnreg."];

    private static void GenerateStoreHalfWord(PTXBackend backend, PTXCodeGenerator cg, Value value)
    {
        // st.global.b16 takes a 16-bit register: move the low half of the 32-bit value into one.
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), word = In(cg, call.Nodes[1]);
        Block(cg, $"{{ .reg .b16 %fa_h; cvt.u16.u32 %fa_h, {word}; st.global.b16 [{address}], %fa_h; }}");
    }

    private static void Store(PTXCodeGenerator cg, Value value, string op)
    {
        var call = (MethodCall)value;
        string address = In(cg, call.Nodes[0]), data = In(cg, call.Nodes[1]);
        Line(cg, $"{op} [{address}], {data}");
    }

    // ---- helpers ----

    private static void Line(PTXCodeGenerator cg, string instruction) =>
        cg.Builder.Append('\t').Append(instruction).Append(";\n");

    /// <summary>A braced block of instructions with its own registers (no statement terminator after the brace).</summary>
    private static void Block(PTXCodeGenerator cg, string block) =>
        cg.Builder.Append('\t').Append(block).Append('\n');

    private static string Name(HardwareRegister register) => "%" + PTXRegisterAllocator.GetStringRepresentation(register);

    /// <summary>The register holding an argument; a constant is first moved into a fresh register (mma takes no immediates).</summary>
    private static string In(PTXCodeGenerator cg, Value argument)
    {
        var register = cg.LoadPrimitive(argument);
        if (register is HardwareRegister hardware)
            return Name(hardware);
        var constant = (ConstantRegister)register;
        var type = constant.BasicValueType;
        var temp = cg.AllocateRegister(type, PTXRegisterAllocator.GetRegisterKind(type));
        using (var move = cg.BeginCommand(type is BasicValueType.Int64 or BasicValueType.Float64 ? "mov.b64" : "mov.b32"))
        {
            move.AppendArgument(temp);
            move.AppendArgument(constant);
        }
        return Name(temp);
    }

    private static string Out(PTXCodeGenerator cg, Value value) => Name(cg.AllocateHardware(value));

    private static string[] Outs(PTXCodeGenerator cg, Value value)
    {
        var compound = (CompoundRegister)cg.Allocate(value);
        var names = new string[compound.NumChildren];
        for (int i = 0; i < names.Length; i++)
            names[i] = Name((HardwareRegister)compound.Children[i]);
        return names;
    }
}
