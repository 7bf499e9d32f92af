namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The Hopper (sm_90a) dQ kernel of the split backward: warpgroup MMA for head dim 64 in bf16, the plain case only (no
/// mask, window, causal, softcap, ALiBi, dropout, cosine variant or user modifier; dense layout; Nk a multiple of 64). Two
/// warpgroups of 64 query rows each own a 128-row block with Q and dO resident in shared memory; 64-key K/V tiles stream
/// double-buffered by cp.async. Per tile: S = Q·Kᵀ and dP = dO·Vᵀ by SS wgmma, dS = P∘(dP − D) on their registers,
/// dQ += dS·K by RS wgmma with dS from registers. It does the mma.sync dQ kernel's work (three products per tile, no
/// atomics, so the backward stays deterministic) and takes its place where <see cref="Applies(AttentionProblem, bool, bool)"/> holds; everything else
/// takes the mma.sync kernels. The kernel is written by tools/FlashAttention.Cuda.KernelGen (Sm90BackwardDqGenerator.cs).
/// </summary>
internal static partial class Sm90BackwardDq
{
    public const int Threads = 256, BlockM = 128, BlockN = 64, HeadDim = 64, Stages = 2;

    /// <summary>One 8-row group of core matrices (8 rows × 128 bytes): the stride between row groups.</summary>
    private const int CoreRowGroupBytes = 8 * HeadDim * 2;

    private const int RowsBytes = BlockM * HeadDim * 2, WarpgroupRowsBytes = 64 * HeadDim * 2, TileBytes = BlockN * HeadDim * 2, StageBytes = 2 * TileBytes;

    /// <summary>Q, dO and two K/V buffers: 64 KiB.</summary>
    public const int SharedBytes = 2 * RowsBytes + Stages * StageBytes;

    /// <summary>The blocks per multiprocessor its registers are capped for (.minnctapersm): 128 registers a thread.</summary>
    public const int MinBlocksPerSm = 2;

    /// <summary>The cache label of the kernel.</summary>
    public const string Label = "Sm90_DQ_D64_M128_N64_WG2";

    /// <summary>
    /// Whether backward calls may take it (<c>FLASHATTN_SM90_DQ=0</c> turns it off, so that runs can compare it with the
    /// mma.sync dQ kernel in one build). Tests set it directly.
    /// </summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("FLASHATTN_SM90_DQ") != "0";

    /// <summary>
    /// Whether a backward call can take this kernel (pure; tested without a GPU): bf16 storage, no user modifiers, head
    /// dim exactly 64, dense, no option but the scale, Nk a positive multiple of 64.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="bf16">Whether the kernels read bf16 (the caller's storage is BFloat16).</param>
    /// <param name="userMods">Whether the caller passed score or mask modifiers.</param>
    public static bool Applies(AttentionProblem problem, bool bf16, bool userMods) =>
        bf16 && !userMods && problem.HeadDim == HeadDim && !problem.Packed && !problem.HasWindow && problem.Softcap == 0
        && problem.AlibiSlopes is null && problem.KeyMask is null && !problem.Dropout.Enabled
        && problem.Variant == AttentionVariant.Softmax && problem.MaxSeqK >= BlockN && problem.MaxSeqK % BlockN == 0;

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a dense call (tests).</summary>
    internal static bool Applies(AttentionShape shape, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(shape, options), bf16, userMods);

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a packed call (tests).</summary>
    internal static bool Applies(VarlenLayout layout, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(layout, options), bf16, userMods);

    /// <summary><see cref="LaunchGrid(AttentionProblem)"/> for a dense call (tests).</summary>
    internal static (int X, int Y, int Z) LaunchGrid(AttentionShape shape) => LaunchGrid(new AttentionProblem(shape, null));

    /// <summary>The launch grid: (query blocks, heads, batch).</summary>
    public static (int X, int Y, int Z) LaunchGrid(AttentionProblem problem) =>
        ((problem.MaxSeqQ + BlockM - 1) / BlockM, problem.Heads, problem.Batch);
}
