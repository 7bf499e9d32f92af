using System.Runtime.InteropServices;

namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The single kernel parameter of every forward kernel, passed by value (ILGPU lays it out as this C# struct:
/// sequential, natural alignment). Addresses are raw device pointers; all element offsets are computed in the kernel.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ForwardParams
{
    /// <summary>q [B, Nq, H, D].</summary>
    public ulong Q;
    /// <summary>k [B, Nk, Hkv, D].</summary>
    public ulong K;
    /// <summary>v [B, Nk, Hkv, D].</summary>
    public ulong V;
    /// <summary>out [B, Nq, H, D].</summary>
    public ulong O;
    /// <summary>log-sum-exp [B, H, Nq], float32.</summary>
    public ulong Lse;
    /// <summary>Key padding mask [B, Nk], one byte per key (non-zero keeps it); 0 when there is none.</summary>
    public ulong KeyMask;
    /// <summary>Query length (packed layout: the longest sequence's).</summary>
    public int SeqQ;
    /// <summary>Key length (packed layout: the longest sequence's).</summary>
    public int SeqK;
    /// <summary>Query heads.</summary>
    public int Heads;
    /// <summary>Key/value heads.</summary>
    public int KvHeads;
    /// <summary>Heads / KvHeads.</summary>
    public int GroupSize;
    /// <summary>Number of query blocks per (batch, head) pair.</summary>
    public int QueryBlocks;
    /// <summary>Keys visible left of the bottom-right diagonal; negative: unlimited.</summary>
    public int WindowLeft;
    /// <summary>Keys visible right of the diagonal; negative: unlimited (causal: 0).</summary>
    public int WindowRight;
    /// <summary>
    /// Factor that puts a (prepared) score in base-2 units: softmax scale · log2(e); with softcap, cap · log2(e).
    /// </summary>
    public float ScaleLog2;
    /// <summary>Factor used by the score mode's preparation step (softcap: 2·log2(e)·scale/cap); 0 when unused.</summary>
    public float PrepScale;
    /// <summary>ALiBi slopes [B·H] already multiplied by log2(e), float32; 0 when the kernel has no ALiBi.</summary>
    public ulong Alibi;
    /// <summary>Dropout: Philox key word 0, low32(seed).</summary>
    public uint DropSeedLow;
    /// <summary>Dropout: Philox key word 1, high32(seed) xor high32(offset).</summary>
    public uint DropKeyHigh;
    /// <summary>Dropout: Philox counter word 3, low32(offset).</summary>
    public uint DropOffsetLow;
    /// <summary>Dropout: a key is kept when its Philox word is below this, round((1 − p)·2³²).</summary>
    public uint KeepThreshold;
    /// <summary>Dropout: 1/(1 − p), applied once to each output row.</summary>
    public float DropScale;
    /// <summary>Head dimension of the tensors (at most the kernel's; the kernel zero-fills the columns past it).</summary>
    public int HeadDim;
    /// <summary>Total query tokens (packed layout: the LSE is [H, TotalQ]).</summary>
    public int TotalQ;
    /// <summary>Cumulative query offsets [B + 1], int32 (packed layout); 0 for the dense layout.</summary>
    public ulong CuQ;
    /// <summary>Cumulative key offsets [B + 1], int32 (packed layout); 0 for the dense layout.</summary>
    public ulong CuK;
    /// <summary>Keys per sequence row of the key padding mask ([B, max_seqlen_k]).</summary>
    public int KeyMaskStride;
    /// <summary>Non-zero: the output is float32 (fp32 storage), not the kernel's 16-bit element type.</summary>
    public int FloatOutput;
    /// <summary>Cosine attention: the fixed running maximum, in base-2 units (score bound · log2(e)); unused otherwise.</summary>
    public float FixedShift;
    /// <summary>log2 of the heads per group of the block order (<see cref="TileMath.GroupedBlock"/>); grid x is QueryBlocks · 2^shift.</summary>
    public int HeadGroupShift;
}
