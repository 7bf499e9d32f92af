using System.Runtime.InteropServices;

namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The single by-value parameter of every backward kernel (preprocessing, dK/dV, dQ, conversion). Addresses are raw
/// device pointers; the workspace rows (D, LSE in base 2) are [B, H, SeqQPad], padded so that every query tile is whole.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BackwardParams
{
    /// <summary>q [B, Nq, H, D].</summary>
    public ulong Q;
    /// <summary>k [B, Nk, Hkv, D].</summary>
    public ulong K;
    /// <summary>v [B, Nk, Hkv, D].</summary>
    public ulong V;
    /// <summary>The forward output [B, Nq, H, D].</summary>
    public ulong O;
    /// <summary>dL/dout [B, Nq, H, D].</summary>
    public ulong DO;
    /// <summary>The forward's log-sum-exp [B, H, Nq] (natural log, +∞ for rows that see no key).</summary>
    public ulong Lse;
    /// <summary>Receives dL/dq [B, Nq, H, D].</summary>
    public ulong DQ;
    /// <summary>Receives dL/dk [B, Nk, Hkv, D].</summary>
    public ulong DK;
    /// <summary>Receives dL/dv [B, Nk, Hkv, D].</summary>
    public ulong DV;
    /// <summary>Workspace: dQ accumulated in float32 by atomics, [B, Nq, H, D]; 0 in the deterministic path.</summary>
    public ulong DqAccum;
    /// <summary>Workspace: D = rowsum(dO∘O), [B, H, SeqQPad] float32 (0 past Nq).</summary>
    public ulong RowDot;
    /// <summary>Workspace: LSE·log2(e), [B, H, SeqQPad] float32 (+∞ past Nq).</summary>
    public ulong Lse2;
    /// <summary>Key padding mask [B, Nk], one byte per key (non-zero keeps it); 0 when there is none.</summary>
    public ulong KeyMask;
    /// <summary>ALiBi slopes [B·H] already multiplied by log2(e); 0 when the kernel has no ALiBi.</summary>
    public ulong Alibi;
    /// <summary>Query length (packed layout: the longest sequence's).</summary>
    public int SeqQ;
    /// <summary>Key length (packed layout: the longest sequence's).</summary>
    public int SeqK;
    /// <summary>Query length rounded up to whole query tiles: the row stride of the workspace rows.</summary>
    public int SeqQPad;
    /// <summary>Head dimension.</summary>
    public int HeadDim;
    /// <summary>Query heads.</summary>
    public int Heads;
    /// <summary>Key/value heads.</summary>
    public int KvHeads;
    /// <summary>Heads / KvHeads.</summary>
    public int GroupSize;
    /// <summary>Blocks along grid x of the kernel being launched (key blocks, query blocks or row groups).</summary>
    public int GridBlocks;
    /// <summary>Keys visible left of the bottom-right diagonal; negative: unlimited.</summary>
    public int WindowLeft;
    /// <summary>Keys visible right of the diagonal; negative: unlimited (causal: 0).</summary>
    public int WindowRight;
    /// <summary>Factor that puts a (prepared) score in base-2 units, as in <see cref="ForwardParams.ScaleLog2"/>.</summary>
    public float ScaleLog2;
    /// <summary>Factor of the score mode's preparation step (softcap: 2·log2(e)·scale/cap); 0 when unused.</summary>
    public float PrepScale;
    /// <summary>The softmax scale: dq = scale·dS·k and dk = scale·dSᵀ·q.</summary>
    public float Scale;
    /// <summary>Dropout: Philox key word 0, low32(seed).</summary>
    public uint DropSeedLow;
    /// <summary>Dropout: Philox key word 1, high32(seed) xor high32(offset).</summary>
    public uint DropKeyHigh;
    /// <summary>Dropout: Philox counter word 3, low32(offset).</summary>
    public uint DropOffsetLow;
    /// <summary>Dropout: a key is kept when its Philox word is below this.</summary>
    public uint KeepThreshold;
    /// <summary>Dropout: 1/(1 − p); 1 without dropout.</summary>
    public float DropScale;
    /// <summary>Elements of dq (the conversion kernel's range).</summary>
    public long DqElements;
    /// <summary>Total query tokens (packed layout: the LSE is [H, TotalQ]).</summary>
    public int TotalQ;
    /// <summary>Keys per sequence row of the key padding mask ([B, max_seqlen_k]).</summary>
    public int KeyMaskStride;
    /// <summary>Non-zero: dq is written as float32 (fp32 storage, or the cosine chain's input).</summary>
    public int DqFloat;
    /// <summary>Non-zero: dk is written as float32.</summary>
    public int DkFloat;
    /// <summary>Non-zero: dv is written as float32.</summary>
    public int DvFloat;
    /// <summary>Non-zero: the forward output and dO are float32 (read by the preprocessing kernel).</summary>
    public int FloatInputs;
    /// <summary>Cumulative query offsets [B + 1], int32 (packed layout); 0 for the dense layout.</summary>
    public ulong CuQ;
    /// <summary>Cumulative key offsets [B + 1], int32 (packed layout); 0 for the dense layout.</summary>
    public ulong CuK;
    /// <summary>log2 of the heads per group of the dQ and dK/dV kernels' block order (<see cref="TileMath.GroupedBlock"/>); grid x is GridBlocks · 2^shift.</summary>
    public int HeadGroupShift;
}
