using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlashAttention.Cuda.Ptx;
using ILGPU;

namespace FlashAttention.Cuda.Kernels;

/// <summary>The parameter of the element-wise and per-row tensor kernels (conversion, L2 normalisation and its gradient).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TensorParams
{
    /// <summary>The input tensor.</summary>
    public ulong Source;
    /// <summary>The output tensor.</summary>
    public ulong Target;
    /// <summary>A second input: the un-normalised rows x of the L2 normalisation's gradient.</summary>
    public ulong Raw;
    /// <summary>Elements (conversion) or rows of <see cref="Dim"/> elements (row kernels).</summary>
    public long Count;
    /// <summary>Row length (the head dim).</summary>
    public int Dim;
    /// <summary>L2 normalisation: equal groups per row, each normalised on its own.</summary>
    public int Groups;
    /// <summary>Non-zero: <see cref="Source"/> is float32 (otherwise the kernel's 16-bit element type).</summary>
    public int SourceFloat;
    /// <summary>Non-zero: <see cref="Raw"/> is float32.</summary>
    public int RawFloat;
    /// <summary>Non-zero: <see cref="Target"/> is float32.</summary>
    public int TargetFloat;
}

/// <summary>
/// Small kernels around the attention kernels: float32 → float16 conversion (fp32 storage runs on fp16 tensor cores),
/// the grouped L2 normalisation of cosine attention, and its gradient. Memory-bound, a few percent of an attention call.
/// </summary>
internal static class TensorKernels
{
    /// <summary>Threads per block of every kernel here.</summary>
    public const int Threads = 256;

    /// <summary>F.normalize's ε: x / max(‖x‖, ε).</summary>
    private const float Epsilon = 1e-12f;

    /// <summary>float32 pairs → fp16 pairs (round to nearest even); one thread per pair, <see cref="TensorParams.Count"/> elements (even).</summary>
    public static void ToHalf(TensorParams p)
    {
        long pair = (long)Grid.IdxX * Threads + Group.IdxX;
        if (pair * 2 >= p.Count)
            return;
        float a = PtxOps.LoadFloat(p.Source + (ulong)(pair * 8));
        float b = PtxOps.LoadFloat(p.Source + (ulong)(pair * 8 + 4));
        PtxOps.StoreWord(p.Target + (ulong)(pair * 4), PtxOps.PackF16(a, b));
    }

    /// <summary>
    /// x̂ = x / max(‖x_g‖, ε) per group of every row, one warp per row (8 rows per block): rows of
    /// <see cref="TensorParams.Source"/> (element type or float32) into <see cref="TensorParams.Target"/> (element type).
    /// </summary>
    public static void Normalize<TKind>(TensorParams p) where TKind : struct, IElementKind
    {
        var kind = default(TKind);
        int lane = Group.IdxX & 31;
        long row = (long)Grid.IdxX * (Threads / 32) + (Group.IdxX >> 5);
        if (row >= p.Count)
            return;
        int size = p.Dim / p.Groups;
        long start = row * p.Dim;
        for (int g = 0; g < p.Groups; g++)
        {
            float sum = 0f;
            for (int x = g * size + lane; x < (g + 1) * size; x += 32)
            {
                float v = Load(kind, p.Source, start + x, p.SourceFloat);
                sum += v * v;
            }
            float inverse = 1f / PtxOps.Max(Sqrt(WarpSum(sum)), Epsilon);
            for (int x = g * size + lane; x < (g + 1) * size; x += 32)
                StoreHalf(kind, p.Target, start + x, Load(kind, p.Source, start + x, p.SourceFloat) * inverse);
        }
    }

    /// <summary>
    /// The gradient through x̂ = x / max(‖x_g‖, ε): dx = (dx̂ − x̂·(x̂·dx̂)) / ‖x_g‖ (dx̂ / ε where the norm is clamped).
    /// dx̂ is float32 in <see cref="TensorParams.Source"/>, x in <see cref="TensorParams.Raw"/>; dx goes to
    /// <see cref="TensorParams.Target"/> (element type or float32). One warp per row.
    /// </summary>
    public static void NormalizeBackward<TKind>(TensorParams p) where TKind : struct, IElementKind
    {
        var kind = default(TKind);
        int lane = Group.IdxX & 31;
        long row = (long)Grid.IdxX * (Threads / 32) + (Group.IdxX >> 5);
        if (row >= p.Count)
            return;
        int size = p.Dim / p.Groups;
        long start = row * p.Dim;
        for (int g = 0; g < p.Groups; g++)
        {
            float squares = 0f, dot = 0f;
            for (int x = g * size + lane; x < (g + 1) * size; x += 32)
            {
                float v = Load(kind, p.Raw, start + x, p.RawFloat);
                squares += v * v;
                dot += v * PtxOps.LoadFloat(p.Source + (ulong)((start + x) * 4));
            }
            float norm = Sqrt(WarpSum(squares));
            dot = WarpSum(dot);
            bool clamped = norm <= Epsilon;
            float inverse = 1f / (clamped ? Epsilon : norm);
            // x̂·dx̂ = (x·dx̂)/‖x‖; dx = (dx̂ − x̂·(x̂·dx̂))/‖x‖ = (dx̂ − x·(x·dx̂)/‖x‖²)/‖x‖.
            float projection = clamped ? 0f : dot * inverse * inverse;
            for (int x = g * size + lane; x < (g + 1) * size; x += 32)
            {
                float grad = PtxOps.LoadFloat(p.Source + (ulong)((start + x) * 4));
                float v = Load(kind, p.Raw, start + x, p.RawFloat);
                float result = (grad - v * projection) * inverse;
                if (p.TargetFloat != 0)
                    PtxOps.StoreFloat(p.Target + (ulong)((start + x) * 4), result);
                else
                    StoreHalf(kind, p.Target, start + x, result);
            }
        }
    }

    /// <summary>float32 → the element type, element-wise (pairs); one thread per pair.</summary>
    public static void FromFloat<TKind>(TensorParams p) where TKind : struct, IElementKind
    {
        var kind = default(TKind);
        long pair = (long)Grid.IdxX * Threads + Group.IdxX;
        if (pair * 2 >= p.Count)
            return;
        float a = PtxOps.LoadFloat(p.Source + (ulong)(pair * 8));
        float b = PtxOps.LoadFloat(p.Source + (ulong)(pair * 8 + 4));
        PtxOps.StoreWord(p.Target + (ulong)(pair * 4), kind.Pack(a, b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Load<TKind>(TKind kind, ulong tensor, long index, int isFloat) where TKind : struct, IElementKind
    {
        if (isFloat != 0)
            return PtxOps.LoadFloat(tensor + (ulong)(index * 4));
        uint pair = PtxOps.LoadWord(tensor + (ulong)((index >> 1) * 4));
        return (index & 1) != 0 ? kind.High(pair) : kind.Low(pair);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalf<TKind>(TKind kind, ulong tensor, long index, float value) where TKind : struct, IElementKind =>
        PtxOps.StoreHalfWord(tensor + (ulong)(index * 2), kind.Pack(value, 0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WarpSum(float value)
    {
        value += PtxOps.ShuffleXor(value, 16);
        value += PtxOps.ShuffleXor(value, 8);
        value += PtxOps.ShuffleXor(value, 4);
        value += PtxOps.ShuffleXor(value, 2);
        value += PtxOps.ShuffleXor(value, 1);
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sqrt(float x) => PtxOps.Sqrt(x);
}
