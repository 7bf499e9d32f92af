using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FlashAttention;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), the counter-based generator
/// of cuRAND and PyTorch: four 32-bit words of counter and two of key give four random words, with no state.
/// Every backend computes it the same way, so CPU and GPU draw identical dropout masks.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

    /// <summary>Ten Philox rounds over (counter, key); returns the four output words.</summary>
    /// <param name="c0">Counter word 0.</param>
    /// <param name="c1">Counter word 1.</param>
    /// <param name="c2">Counter word 2.</param>
    /// <param name="c3">Counter word 3.</param>
    /// <param name="k0">Key word 0.</param>
    /// <param name="k1">Key word 1.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint X0, uint X1, uint X2, uint X3) Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>
    /// Four Philox4x32-10 streams at once, one per 64-bit lane (values in the low 32 bits): lane i uses counter
    /// (c0[i], c1, c2, c3) and the shared key; the same words as <see cref="Generate"/>, four times over.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<ulong> X0, Vector256<ulong> X1, Vector256<ulong> X2, Vector256<ulong> X3) Generate4(
        Vector256<ulong> c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        var low32 = Vector256.Create(0xFFFF_FFFFul);
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        var v1 = Vector256.Create((ulong)c1);
        var v2 = Vector256.Create((ulong)c2);
        var v3 = Vector256.Create((ulong)c3);
        for (int round = 0; round < 10; round++)
        {
            var p0 = Avx2.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx2.Multiply(v2.AsUInt32(), m1);
            var n0 = (p1 >> 32) ^ v1 ^ Vector256.Create((ulong)k0);
            var n2 = (p0 >> 32) ^ v3 ^ Vector256.Create((ulong)k1);
            v1 = p1 & low32;
            v3 = p0 & low32;
            c0 = n0;
            v2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return (c0, v1, v2, v3);
    }
}

/// <summary>
/// The dropout mask as a pure function of (seed, offset, batch, head, query row, key column), so forward and backward,
/// CPU and GPU, regenerate it without storing it. One Philox call covers four neighbouring keys:
/// counter = (key/4, query, batch·heads + head, low32(offset)), key = (low32(seed), high32(seed) ^ high32(offset)),
/// and key j keeps its probability when word j mod 4 is below (1 − p)·2³².
/// </summary>
public readonly struct DropoutMask
{
    /// <summary>Whether dropout is on (p &gt; 0).</summary>
    public bool Enabled { get; }

    /// <summary>The drop probability p.</summary>
    public float Probability { get; }

    /// <summary>Words below this threshold keep their element: round((1 − p)·2³²).</summary>
    public uint KeepThreshold { get; }

    /// <summary>1/(1 − p), the scale of kept probabilities.</summary>
    public float KeepScale { get; }

    internal readonly uint SeedLow, KeyHigh, OffsetLow;
    internal readonly int Heads;

    /// <summary>Describes a mask.</summary>
    /// <param name="probability">Drop probability in [0, 1).</param>
    /// <param name="seed">Generator seed.</param>
    /// <param name="offset">Generator offset.</param>
    /// <param name="heads">Query heads of the call (part of the counter).</param>
    public DropoutMask(float probability, ulong seed, ulong offset, int heads)
    {
        if (!(probability >= 0f && probability < 1f))
            throw new ArgumentException($"Dropout probability must be in [0, 1); got {probability}.", nameof(probability));
        Enabled = probability > 0f;
        Probability = probability;
        KeepThreshold = (uint)Math.Min(uint.MaxValue, Math.Round((1.0 - probability) * 4294967296.0));
        KeepScale = 1f / (1f - probability);
        SeedLow = (uint)seed;
        KeyHigh = (uint)(seed >> 32) ^ (uint)(offset >> 32);
        OffsetLow = (uint)offset;
        Heads = heads;
    }

    /// <summary>Whether the probability at (batch, head, query, key) is kept.</summary>
    /// <param name="batch">Sequence index.</param>
    /// <param name="head">Query head.</param>
    /// <param name="query">Query row inside the sequence.</param>
    /// <param name="key">Key column inside the sequence.</param>
    public bool IsKept(int batch, int head, int query, int key)
    {
        if (!Enabled)
            return true;
        var (x0, x1, x2, x3) = Philox.Generate((uint)key >> 2, (uint)query, (uint)(batch * Heads + head), OffsetLow, SeedLow, KeyHigh);
        uint word = (key & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
        return word < KeepThreshold;
    }

    /// <summary>
    /// Zeroes the dropped entries of a run of keys firstKey, firstKey+1, … of one query row (kept ones are left unscaled).
    /// </summary>
    /// <param name="values">The row segment, modified in place.</param>
    /// <param name="batch">Sequence index.</param>
    /// <param name="head">Query head.</param>
    /// <param name="query">Query row.</param>
    /// <param name="firstKey">The key of values[0].</param>
    public unsafe void ZeroDropped(Span<float> values, int batch, int head, int query, int firstKey)
    {
        fixed (float* v = values)
            Visit(v, 1, values.Length, batch, head, query, firstKey, negateInstead: false);
    }

    /// <summary>Flips the sign bit of the dropped entries (the returned-softmax encoding: negative = dropped).</summary>
    /// <param name="values">The row segment, modified in place.</param>
    /// <param name="batch">Sequence index.</param>
    /// <param name="head">Query head.</param>
    /// <param name="query">Query row.</param>
    /// <param name="firstKey">The key of values[0].</param>
    public unsafe void MarkDropped(Span<float> values, int batch, int head, int query, int firstKey)
    {
        fixed (float* v = values)
            Visit(v, 1, values.Length, batch, head, query, firstKey, negateInstead: true);
    }

    /// <summary>Zeroes dropped entries of keys firstKey.. stored <paramref name="stride"/> floats apart (a column of a transposed tile).</summary>
    internal unsafe void ZeroDropped(float* values, int stride, int count, int batch, int head, int query, int firstKey) =>
        Visit(values, stride, count, batch, head, query, firstKey, negateInstead: false);

    internal unsafe void MarkDropped(float* values, int stride, int count, int batch, int head, int query, int firstKey) =>
        Visit(values, stride, count, batch, head, query, firstKey, negateInstead: true);

    private unsafe void Visit(float* values, int stride, int count, int batch, int head, int query, int firstKey, bool negateInstead)
    {
        for (int start = 0; start < count; start += 64)
        {
            int n = Math.Min(64, count - start);
            ulong dropped = DroppedBits(batch, head, query, firstKey + start, n);
            ApplyDropped(values + (long)start * stride, stride, dropped, negateInstead);
        }
    }

    /// <summary>Zeroes (or negates) the entries whose bit is set: bit j is values[j·stride].</summary>
    internal static unsafe void ApplyDropped(float* values, int stride, ulong dropped, bool negateInstead)
    {
        while (dropped != 0)
        {
            int bit = System.Numerics.BitOperations.TrailingZeroCount(dropped);
            dropped &= dropped - 1;
            float* x = values + (long)bit * stride;
            *x = negateInstead ? -*x : 0f;
        }
    }

    /// <summary>Bit j set when key firstKey + j (j &lt; count ≤ 64) of this query row is dropped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ulong DroppedBits(int batch, int head, int query, int firstKey, int count)
    {
        uint c1 = (uint)query, c2 = (uint)(batch * Heads + head);
        ulong result = 0;
        int j = 0;
        if (Avx2.IsSupported && (firstKey & 3) == 0)
        {
            // Sixteen keys per step: four counters (key/4 .. key/4+3) through four Philox lanes.
            var threshold = Vector256.Create((ulong)KeepThreshold);
            var lanes = Vector256.Create(0ul, 1ul, 2ul, 3ul);
            for (; j + 16 <= count; j += 16)
            {
                var counters = Vector256.Create((ulong)((uint)(firstKey + j) >> 2)) + lanes;
                var (x0, x1, x2, x3) = Philox.Generate4(counters, c1, c2, OffsetLow, SeedLow, KeyHigh);
                // bit (lane) of word w set where key 4·lane + w is dropped
                uint d0 = Vector256.GreaterThanOrEqual(x0, threshold).ExtractMostSignificantBits();
                uint d1 = Vector256.GreaterThanOrEqual(x1, threshold).ExtractMostSignificantBits();
                uint d2 = Vector256.GreaterThanOrEqual(x2, threshold).ExtractMostSignificantBits();
                uint d3 = Vector256.GreaterThanOrEqual(x3, threshold).ExtractMostSignificantBits();
                ulong block = Spread(d0) | Spread(d1) << 1 | Spread(d2) << 2 | Spread(d3) << 3;
                result |= block << j;
            }
        }
        while (j < count)
        {
            int key = firstKey + j;
            var (x0, x1, x2, x3) = Philox.Generate((uint)key >> 2, c1, c2, OffsetLow, SeedLow, KeyHigh);
            for (int lane = key & 3; lane < 4 && j < count; lane++, j++)
            {
                uint word = lane switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
                if (word >= KeepThreshold)
                    result |= 1ul << j;
            }
        }
        return result;
    }

    /// <summary>Moves bit i of a 4-bit mask to bit 4·i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Spread(uint bits) => (bits & 1) | (bits & 2) << 3 | (bits & 4) << 6 | (bits & 8) << 9;
}
