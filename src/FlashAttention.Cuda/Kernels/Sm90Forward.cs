using System.Runtime.InteropServices;

namespace FlashAttention.Cuda.Kernels;

/// <summary>The parameter of <see cref="Sm90Forward.Kernel"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Sm90ForwardParams
{
    /// <summary>q, out: bf16 [B, Nq, H, 128]; k, v: bf16 [B, Nk, Hkv, 128]; lse: float32 [B, H, Nq].</summary>
    public ulong Q, K, V, O, Lse;
    public int SeqQ, SeqK, Heads, KvHeads, GroupSize;
    /// <summary>Query blocks per head (⌈Nq / rows per block⌉) and B·H: the grid is their product.</summary>
    public int QueryBlocks, BatchHeads;
    /// <summary>softmax scale · log2(e), positive.</summary>
    public float ScaleLog2;
}

/// <summary>
/// The Hopper (sm_90a) forward kernel: warpgroup MMA (wgmma) for head dim 128 in bf16, the plain case only — no mask,
/// window, softcap, ALiBi, dropout, cosine variant, user modifier or returned softmax, dense layout, Nk a multiple of
/// 64. A block of three warpgroups owns 192 query rows (64 each, 384 threads, at most 168 registers: 12 warps per SM);
/// 64-key K/V tiles stream through three shared-memory buffers by cp.async into 8×8 core matrices; S = Q·Kᵀ by SS
/// wgmma m64n64k16, the online softmax on S's registers, O += P·V by RS wgmma with P from registers; S of tile j and
/// P·V of tile j − 1 are in flight together, two key tiles per loop trip with two sets of P fragments so the softmax
/// never writes what an MMA in flight reads. The kernel is written by tools/FlashAttention.Cuda.Probe/wgmma_forward_gen.py
/// (its prototype KernelUnrolled3, docs/benchmarks.md run 33). Everything else takes the mma.sync kernels.
/// Beside it, FlashAttention-3's warp-specialised layout (<see cref="KernelWarpSpecialized"/>, <see cref="KernelWarpSpecializedPingpong"/>;
/// prototypes KernelWs128[Pingpong]): checked on the device but slower, so off unless <see cref="WarpSpecialized"/> is set (run 38).
/// </summary>
internal static partial class Sm90Forward
{
    public const int Threads = 384, BlockM = 192, BlockN = 64, HeadDim = 128;
    private const int QBytes = BlockM * HeadDim * 2, TileBytes = BlockN * HeadDim * 2;

    /// <summary>Q and three K/V tile pairs: 144 KiB.</summary>
    public const int SharedBytes = QBytes + 6 * TileBytes;

    /// <summary>
    /// The warp-specialised kernels (<see cref="KernelWarpSpecialized"/>, <see cref="KernelWarpSpecializedPingpong"/>;
    /// FlashAttention-3's layout), taken where Nk is a multiple of 128: 384 threads, two consumer warpgroups of 64 query
    /// rows (128 per block, so a 1k head fills its blocks) and a producer warpgroup that streams 128-key K/V tiles through
    /// three stages with cp.async and mbarriers; setmaxnreg gives the producer 24 registers and each consumer 240.
    /// </summary>
    public const int BlockMWs = 128, BlockNWs = 128, ProducerRegisters = 24, ConsumerRegisters = 240;
    private const int QBytesWs = BlockMWs * HeadDim * 2, Tile128Bytes = BlockNWs * HeadDim * 2;

    /// <summary>Q, three 128-key K/V tile pairs and six 8-byte mbarriers: 224 KiB + 48 B.</summary>
    public const int SharedBytesWs = QBytesWs + 6 * Tile128Bytes + 48;

    /// <summary>
    /// Whether calls with Nk a multiple of 128 take the warp-specialised kernels. Off: on an H100 they pass every check
    /// but run at 0.65–0.86× the three-warpgroup kernel (docs/benchmarks.md run 38); the device tests and the probe turn it on.
    /// </summary>
    internal static bool WarpSpecialized { get; set; }

    /// <summary>Whether the warp-specialised kernel takes the ping-pong form (consumers alternate issuing their MMAs).</summary>
    internal static bool PingPong { get; set; } = true;

    /// <summary>The kernel a call takes: the method, its cache label, and the rows a block owns.</summary>
    internal static (string Method, string Label, int SharedBytes, int BlockM) Choose(AttentionProblem problem) =>
        !WarpSpecialized || problem.MaxSeqK % BlockNWs != 0 ? (nameof(Kernel), "Sm90_D128_M192_N64_WG3", SharedBytes, BlockM)
        : PingPong ? (nameof(KernelWarpSpecializedPingpong), "Sm90_D128_M128_N128_WS_PP", SharedBytesWs, BlockMWs)
        : (nameof(KernelWarpSpecialized), "Sm90_D128_M128_N128_WS", SharedBytesWs, BlockMWs);

    /// <summary>The label of the kernel a dense call takes (tests).</summary>
    internal static string Label(AttentionShape shape) => Choose(new AttentionProblem(shape, null)).Label;

    /// <summary>
    /// The shortest query length the public forward sends to this kernel: <see cref="int.MaxValue"/> (never) unless
    /// FLASHATTN_SM90_MIN_SEQQ sets it. Opt-in because of a measured side effect: in one process, the mma.sync causal
    /// head-dim-128 forward and backward ran 3–8 % slower at 512–4k when this kernel had run just before them (benchmarks
    /// run 35, three calls), which outweighs its own gain (+1–2 % at 4k–16k; at 2k it is 0.96× and at 1k 0.86–0.88× the
    /// mma.sync kernel, because 192-row blocks leave the last block of a head partly empty). 4096 is the measured
    /// crossover. Tests set it directly.
    /// </summary>
    public static int MinSeqQ { get; internal set; } =
        int.TryParse(Environment.GetEnvironmentVariable("FLASHATTN_SM90_MIN_SEQQ"), out int rows) && rows >= 1 ? rows : int.MaxValue;

    /// <summary>
    /// Whether a call can take this kernel (pure; tested without a GPU): the plain case in bf16 at head dim 128, see the
    /// class summary. <paramref name="bf16"/>: the kernels read bf16 (the caller's storage is BFloat16);
    /// <paramref name="userMods"/>: the caller passed score or mask modifiers; <paramref name="softmax"/>: the
    /// probabilities were asked for.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="bf16">Whether the kernels read bf16.</param>
    /// <param name="userMods">Whether the caller passed modifiers.</param>
    /// <param name="softmax">Whether the probabilities were asked for.</param>
    /// <param name="minSeqQ">The shortest query length to take (<see cref="MinSeqQ"/> unless forced).</param>
    public static bool Applies(AttentionProblem problem, bool bf16, bool userMods, bool softmax, int minSeqQ) =>
        bf16 && !userMods && !softmax && problem.HeadDim == HeadDim && !problem.Packed && !problem.HasWindow
        && problem.Softcap == 0 && problem.Scale > 0 && problem.AlibiSlopes is null && problem.KeyMask is null
        && !problem.Dropout.Enabled && problem.Variant == AttentionVariant.Softmax
        && problem.MaxSeqK >= BlockN && problem.MaxSeqK % BlockN == 0 && problem.MaxSeqQ >= minSeqQ;

    /// <summary><see cref="Applies(AttentionProblem, bool, bool, bool, int)"/> for a dense call (tests).</summary>
    internal static bool Applies(AttentionShape shape, AttentionOptions? options, bool bf16, bool userMods, bool softmax, int minSeqQ) =>
        Applies(new AttentionProblem(shape, options), bf16, userMods, softmax, minSeqQ);

    /// <summary><see cref="Applies(AttentionProblem, bool, bool, bool, int)"/> for a packed call (tests).</summary>
    internal static bool Applies(VarlenLayout layout, AttentionOptions? options, bool bf16, bool userMods, bool softmax) =>
        Applies(new AttentionProblem(layout, options), bf16, userMods, softmax, MinSeqQ);

    /// <summary><see cref="Parameters(AttentionProblem, ulong, ulong, ulong, ulong, ulong, float)"/> for a dense call (tests).</summary>
    internal static (Sm90ForwardParams Parameters, int Blocks) Parameters(AttentionShape shape, ulong q, ulong k, ulong v, ulong output, ulong lse, float scaleLog2) =>
        Parameters(new AttentionProblem(shape, null), q, k, v, output, lse, scaleLog2);

    /// <summary>The kernel's parameters and grid for a call <see cref="Applies(AttentionProblem, bool, bool, bool, int)"/> accepts.</summary>
    public static (Sm90ForwardParams Parameters, int Blocks) Parameters(AttentionProblem problem, ulong q, ulong k, ulong v, ulong output, ulong lse,
        float scaleLog2)
    {
        int blockM = Choose(problem).BlockM;
        int queryBlocks = (problem.MaxSeqQ + blockM - 1) / blockM, batchHeads = problem.Batch * problem.Heads;
        var parameters = new Sm90ForwardParams
        {
            Q = q, K = k, V = v, O = output, Lse = lse,
            SeqQ = problem.MaxSeqQ, SeqK = problem.MaxSeqK, Heads = problem.Heads, KvHeads = problem.KvHeads, GroupSize = problem.GroupSize,
            QueryBlocks = queryBlocks, BatchHeads = batchHeads, ScaleLog2 = scaleLog2,
        };
        return (parameters, checked(queryBlocks * batchHeads));
    }
}
