using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Kernels;

/// <summary>The high 32 bits of a 32×32-bit product; one implementation per place the Philox code runs.</summary>
internal interface IMulHigh
{
    /// <summary>(a·b) &gt;&gt; 32.</summary>
    uint High(uint a, uint b);
}

/// <summary>On the GPU: one mul.hi.u32 (a 64-bit multiply in C# would compile to a slower wide product).</summary>
internal readonly struct PtxMulHigh : IMulHigh
{
    public uint High(uint a, uint b) => PtxOps.MulHigh(a, b);
}

/// <summary>On the host (tests): the same value in plain C#.</summary>
internal readonly struct HostMulHigh : IMulHigh
{
    public uint High(uint a, uint b) => (uint)(((ulong)a * b) >> 32);
}

/// <summary>
/// The dropout mask as the kernels draw it: Philox4x32-10 with the CPU backend's counter and key
/// (<c>FlashAttention.DropoutMask</c>), written so that ILGPU compiles it (no tuples, no arrays) and the host can run
/// the very same code with <see cref="HostMulHigh"/> (tests compare it with the CPU mask bit for bit).
/// </summary>
internal static class DropoutBits
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

    /// <summary>
    /// Keep bits of two neighbouring keys of one query row: Philox4x32-10 of counter (c0, c1, c2, c3) and key (k0, k1);
    /// words 0 and 1 (<paramref name="upper"/> = 0) or 2 and 3 (otherwise) are compared with
    /// <paramref name="threshold"/>. Bit 0: the first key is kept; bit 1: the second.
    /// </summary>
    public static uint KeepPair<TMul>(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint upper, uint threshold)
        where TMul : struct, IMulHigh
    {
        uint bits = KeepQuad<TMul>(c0, c1, c2, c3, k0, k1, threshold);
        return upper != 0 ? bits >> 2 : bits & 3u;
    }

    /// <summary>
    /// Keep bits of four neighbouring keys 4·c0 .. 4·c0 + 3 of one query row (bit i: key 4·c0 + i is kept), from one
    /// Philox4x32-10 call with counter (c0, c1, c2, c3) and key (k0, k1).
    /// </summary>
    public static uint KeepQuad<TMul>(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint threshold)
        where TMul : struct, IMulHigh
    {
        var mul = default(TMul);
        for (int round = 0; round < 10; round++)
        {
            uint hi0 = mul.High(M0, c0), lo0 = M0 * c0;
            uint hi1 = mul.High(M1, c2), lo1 = M1 * c2;
            uint n0 = hi1 ^ c1 ^ k0;
            uint n2 = hi0 ^ c3 ^ k1;
            c1 = lo1;
            c3 = lo0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return (c0 < threshold ? 1u : 0u) | (c1 < threshold ? 2u : 0u) | (c2 < threshold ? 4u : 0u) | (c3 < threshold ? 8u : 0u);
    }
}
