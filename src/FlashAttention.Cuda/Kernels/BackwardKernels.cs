using System.Reflection;
using System.Runtime.CompilerServices;
using FlashAttention.Cuda.Ptx;
using ILGPU;

namespace FlashAttention.Cuda.Kernels;

/// <summary>A generated backward kernel (dK/dV or dQ) with its launch shape.</summary>
/// <param name="Name">Method name in <see cref="BackwardKernels"/>.</param>
/// <param name="HeadDim">Head dimension it handles.</param>
/// <param name="BlockM">Query rows per tile.</param>
/// <param name="BlockN">Keys per tile (dK/dV: per block).</param>
/// <param name="Threads">Threads per block.</param>
/// <param name="SharedBytes">Dynamic shared memory per block.</param>
/// <param name="FusedDq">dK/dV kernel that also accumulates dQ with atomics.</param>
/// <param name="Sm90">Uses instructions of sm_90 and newer (vector atomics).</param>
/// <param name="Outputs">The gradients a dK/dV kernel produces.</param>
internal sealed record BackwardVariant(string Name, int HeadDim, int BlockM, int BlockN, int Threads, int SharedBytes, bool FusedDq, bool Sm90, KvOutputs Outputs)
{
    /// <summary>The kernel method instantiated for an element kind, a score mode and a set of optional features, without user mods.</summary>
    public MethodInfo Method(Type kind, Type mode, Type features) => Method(kind, mode, features, typeof(NoCudaScoreMod), typeof(NoCudaMaskMod));

    /// <summary>The kernel method instantiated for an element kind, a score mode, optional features and the caller's modifiers.</summary>
    /// <remarks>The token layout is <see cref="DenseLayout"/> when none is given, <see cref="PackedLayout"/> for cu_seqlens.</remarks>
    public MethodInfo Method(Type kind, Type mode, Type features, Type scoreMod, Type maskMod, Type? layout = null) =>
        typeof(BackwardKernels).GetMethod(Name, BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(kind, mode, features, scoreMod, maskMod, layout ?? typeof(DenseLayout));

    /// <summary>Finds a variant by name.</summary>
    public static BackwardVariant Find(string name) =>
        BackwardKernels.KvVariants.Concat(BackwardKernels.DqVariants).FirstOrDefault(v => v.Name == name)
        ?? throw new ArgumentException($"No backward kernel named '{name}'.", nameof(name));
}

/// <summary>The gradients a dK/dV kernel produces.</summary>
internal enum KvOutputs
{
    /// <summary>dK and dV.</summary>
    Both,

    /// <summary>dV only.</summary>
    DvOnly,

    /// <summary>dK only.</summary>
    DkOnly,
}

/// <summary>The hand-written backward kernels (preprocessing, dQ conversion) and helpers of the generated ones.</summary>
internal static partial class BackwardKernels
{
    /// <summary>Threads per block of <see cref="Prepare{TKind}"/>: one warp per query row.</summary>
    public const int PrepareThreads = 128;

    /// <summary>Threads per block of <see cref="ConvertDq{TKind}"/>: one thread per pair of elements.</summary>
    public const int ConvertThreads = 256;

    /// <summary>Query rows of the workspace are padded to a multiple of this (every query tile is whole).</summary>
    public const int RowPadding = 128;

    private const float Log2E = 1.4426950408889634f;

    /// <summary>1f when bit <paramref name="bit"/> of <paramref name="bits"/> is set, else 0f (a select without a branch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float KeepFactor(uint bits, int bit) => Interop.IntAsFloat((uint)-(int)((bits >> bit) & 1u) & 0x3F800000u);

    /// <summary>|a − b|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AbsDistance(int a, int b) => a > b ? a - b : b - a;

    /// <summary>
    /// D = rowsum(dO∘O) and LSE₂ = LSE·log2(e) for every (b, h, row) into the [B, H, SeqQPad] workspace (0 and +∞ in the
    /// padding and past a packed sequence's end), and the dQ accumulator rows cleared when there is one.
    /// Grid (SeqQPad / 4, H, B), 4 warps, a row per warp. O and dO are read in the element type (fp32 storage: O as
    /// float32, dO as the fp16 copy the other kernels read).
    /// </summary>
    public static void Prepare<TKind>(BackwardParams p) where TKind : struct, IElementKind
    {
        var kind = default(TKind);
        int lane = Group.IdxX & 31;
        int row = Grid.IdxX * 4 + (Group.IdxX >> 5);
        int head = Grid.IdxY;
        int batch = Grid.IdxZ;
        int headDim = p.HeadDim;
        int seqQ = p.SeqQ;
        long qTok0 = (long)batch * p.SeqQ;
        if (p.CuQ != 0)
        {
            int q0 = PtxOps.LoadInt(p.CuQ + (ulong)(batch * 4));
            seqQ = PtxOps.LoadInt(p.CuQ + (ulong)(batch * 4 + 4)) - q0;
            qTok0 = q0;
        }
        float dot = 0f;
        float lse2 = float.PositiveInfinity;
        if (row < seqQ)
        {
            long element = ((qTok0 + row) * p.Heads + head) * headDim;
            for (int pair = lane; pair < headDim / 2; pair += 32)
            {
                if (p.FloatInputs != 0)
                {
                    // fp32 storage: O is float32, dO the kernels' fp16 copy.
                    ulong at = (ulong)((element + 2 * pair) * 4);
                    uint b = PtxOps.LoadWord(p.DO + (ulong)((element + 2 * pair) * 2));
                    dot += PtxOps.LoadFloat(p.O + at) * kind.Low(b) + PtxOps.LoadFloat(p.O + at + 4) * kind.High(b);
                }
                else
                {
                    ulong at = (ulong)((element + 2 * pair) * 2);
                    uint a = PtxOps.LoadWord(p.O + at);
                    uint b = PtxOps.LoadWord(p.DO + at);
                    dot += kind.Low(a) * kind.Low(b) + kind.High(a) * kind.High(b);
                }
            }
            if (p.DqAccum != 0)
                for (int x = lane; x < headDim; x += 32)
                    PtxOps.StoreFloat(p.DqAccum + (ulong)((element + x) * 4), 0f);
            long lseRow = p.CuQ != 0 ? (long)head * p.TotalQ + qTok0 : ((long)batch * p.Heads + head) * p.SeqQ;
            float lse = PtxOps.LoadFloat(p.Lse + (ulong)((lseRow + row) * 4));
            lse2 = lse == float.PositiveInfinity ? float.PositiveInfinity : lse * Log2E;
        }
        dot += PtxOps.ShuffleXor(dot, 16);
        dot += PtxOps.ShuffleXor(dot, 8);
        dot += PtxOps.ShuffleXor(dot, 4);
        dot += PtxOps.ShuffleXor(dot, 2);
        dot += PtxOps.ShuffleXor(dot, 1);
        if (lane == 0 && row < p.SeqQPad)
        {
            ulong at = (ulong)((((long)batch * p.Heads + head) * p.SeqQPad + row) * 4);
            PtxOps.StoreFloat(p.RowDot + at, dot);
            PtxOps.StoreFloat(p.Lse2 + at, lse2);
        }
    }

    /// <summary>dq = scale·accumulator, rounded to the element type (or kept float32); one thread per pair of elements.</summary>
    public static void ConvertDq<TKind>(BackwardParams p) where TKind : struct, IElementKind
    {
        var kind = default(TKind);
        long pair = (long)Grid.IdxX * ConvertThreads + Group.IdxX;
        if (pair * 2 >= p.DqElements)
            return;
        float a = PtxOps.LoadFloat(p.DqAccum + (ulong)(pair * 8)) * p.Scale;
        float b = PtxOps.LoadFloat(p.DqAccum + (ulong)(pair * 8 + 4)) * p.Scale;
        if (p.DqFloat != 0)
        {
            PtxOps.StoreFloat(p.DQ + (ulong)(pair * 8), a);
            PtxOps.StoreFloat(p.DQ + (ulong)(pair * 8 + 4), b);
        }
        else
        {
            PtxOps.StoreWord(p.DQ + (ulong)(pair * 4), kind.Pack(a, b));
        }
    }
}
