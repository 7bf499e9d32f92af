namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The Hopper (sm_90a) dQ kernels of the split backward: warpgroup MMA for head dim 64 in bf16, the plain case only (no
/// mask, window, causal, softcap, ALiBi, dropout, cosine variant or user modifier; dense layout; Nk a multiple of 64).
/// Warpgroups of 64 query rows share a block; Q and dO are copied to shared memory once, 64-key K/V tiles are
/// double-buffered by cp.async. Per tile: S = Q·Kᵀ and dP = dO·Vᵀ by wgmma, dS = P∘(dP − D) on their registers,
/// dQ += dS·K by RS wgmma with dS from registers. They do the mma.sync dQ kernel's work (three products per tile, no
/// atomics, so the backward stays deterministic) and take its place where <see cref="Applies(AttentionProblem, bool, bool)"/>
/// holds; everything else takes the mma.sync kernels. Written by tools/FlashAttention.Cuda.KernelGen (Sm90BackwardDqGenerator.cs).
/// </summary>
internal static partial class Sm90BackwardDq
{
    public const int BlockN = 64, HeadDim = 64, Stages = 2;

    /// <summary>One 8-row group of core matrices (8 rows × 128 bytes): the stride between row groups.</summary>
    private const int CoreRowGroupBytes = 8 * HeadDim * 2;

    private const int WarpgroupRowsBytes = 64 * HeadDim * 2, TileBytes = BlockN * HeadDim * 2, StageBytes = 2 * TileBytes;

    /// <summary>One form of the kernel.</summary>
    /// <param name="Method">The kernel method.</param>
    /// <param name="Label">Its cache label.</param>
    /// <param name="Warpgroups">Warpgroups per block (64 query rows each).</param>
    /// <param name="MinBlocksPerSm">The blocks per multiprocessor its registers are capped for (.minnctapersm).</param>
    internal sealed record Form(string Method, string Label, int Warpgroups, int MinBlocksPerSm)
    {
        /// <summary>The kernel method, looked up once.</summary>
        public System.Reflection.MethodInfo Kernel { get; } = typeof(Sm90BackwardDq).GetMethod(Method)!;

        /// <summary>Threads per block.</summary>
        public int Threads => 128 * Warpgroups;

        /// <summary>Query rows per block.</summary>
        public int BlockM => 64 * Warpgroups;

        /// <summary>Q, dO and two K/V buffers.</summary>
        public int SharedBytes => 2 * BlockM * HeadDim * 2 + Stages * StageBytes;
    }

    /// <summary>
    /// The forms, the default first: Q and dO as A operands from registers (RS wgmma, read from shared memory once per
    /// block) with three warpgroups, 154 registers, one block per multiprocessor — dQ alone 12 % faster than the mma.sync
    /// kernel at 8k and 16k (benchmarks run 44); the same with two warpgroups (slower: 8 warps a multiprocessor); and Q
    /// and dO from shared memory (SS) with two warpgroups capped at 128 registers, two blocks per multiprocessor (6 % at 16k).
    /// </summary>
    public static readonly Form[] Forms =
    [
        new(nameof(KernelD64Rs3), "Sm90_DQ_D64_M192_N64_WG3_RS", 3, 1),
        new(nameof(KernelD64Rs), "Sm90_DQ_D64_M128_N64_WG2_RS", 2, 1),
        new(nameof(KernelD64), "Sm90_DQ_D64_M128_N64_WG2", 2, 2),
    ];

    /// <summary>
    /// The form calls take (<c>FLASHATTN_SM90_DQ</c> names another by label suffix: <c>WG2</c>, <c>WG2_RS</c>,
    /// <c>WG3_RS</c>) or null: none (<c>FLASHATTN_SM90_DQ=0</c>), so that runs can compare them with the mma.sync dQ kernel
    /// in one build. Tests set it directly.
    /// </summary>
    internal static Form? Selected { get; set; } = Parse(Environment.GetEnvironmentVariable("FLASHATTN_SM90_DQ"));

    /// <summary>The form an environment value names: null for "0", the default for none or an unknown one.</summary>
    internal static Form? Parse(string? value) =>
        value == "0" ? null : Forms.FirstOrDefault(f => value is not null && f.Label.EndsWith("_" + value, StringComparison.Ordinal)) ?? Forms[0];

    /// <summary>
    /// The shortest key length the kernel is taken from: at 4k keys the two-warpgroup form was 2 % slower than the
    /// mma.sync dQ kernel (each block waits out its first copies and every tile's products), at 8k–16k the default
    /// form is 12 % faster (benchmarks run 44); between them it was not measured.
    /// </summary>
    public const int DefaultMinSeqK = 8192;

    /// <summary>The shortest key length calls take it from (<see cref="DefaultMinSeqK"/>; tests lower it to check short shapes).</summary>
    internal static int MinSeqK { get; set; } = DefaultMinSeqK;

    /// <summary>
    /// Whether a backward call can take this kernel (pure; tested without a GPU): bf16 storage, no user modifiers, head
    /// dim exactly 64, dense, no option but the scale, Nk a multiple of 64 and at least <see cref="MinSeqK"/>.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="bf16">Whether the kernels read bf16 (the caller's storage is BFloat16).</param>
    /// <param name="userMods">Whether the caller passed score or mask modifiers.</param>
    public static bool Applies(AttentionProblem problem, bool bf16, bool userMods) =>
        bf16 && !userMods && problem.HeadDim == HeadDim && !problem.Packed && !problem.HasWindow && problem.Softcap == 0
        && problem.AlibiSlopes is null && problem.KeyMask is null && !problem.Dropout.Enabled
        && problem.Variant == AttentionVariant.Softmax && problem.MaxSeqK >= MinSeqK && problem.MaxSeqK % BlockN == 0;

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a dense call (tests).</summary>
    internal static bool Applies(AttentionShape shape, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(shape, options), bf16, userMods);

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a packed call (tests).</summary>
    internal static bool Applies(VarlenLayout layout, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(layout, options), bf16, userMods);

    /// <summary><see cref="LaunchGrid(Form, AttentionProblem)"/> for a dense call (tests).</summary>
    internal static (int X, int Y, int Z) LaunchGrid(Form form, AttentionShape shape) => LaunchGrid(form, new AttentionProblem(shape, null));

    /// <summary>The launch grid: (query blocks, heads, batch).</summary>
    public static (int X, int Y, int Z) LaunchGrid(Form form, AttentionProblem problem) =>
        ((problem.MaxSeqQ + form.BlockM - 1) / form.BlockM, problem.Heads, problem.Batch);
}
