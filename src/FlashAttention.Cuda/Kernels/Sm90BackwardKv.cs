namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The Hopper (sm_90a) dK/dV kernels of the split backward: warpgroup MMA for head dim 64 in bf16, the plain case only
/// (the cases <see cref="Sm90BackwardDq.Applies(AttentionProblem, bool, bool)"/> takes, at any key length). Warpgroups of
/// 64 key rows share a block; its K and V rows are copied to shared memory once, 64-query tiles of Q and dO (and their
/// LSE and rowsum(dO∘O) values) are double-buffered by cp.async, over every query head of the block's key head. Per tile:
/// Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ by wgmma, Pᵀ and dSᵀ = Pᵀ∘(dPᵀ − D) on their registers, dV += Pᵀ·dO and dK += dSᵀ·Q by RS wgmma.
/// They do the mma.sync dK/dV kernel's work (four products per tile, no atomics) and take its place where
/// <see cref="Applies(AttentionProblem, bool, bool)"/> holds. Written by tools/FlashAttention.Cuda.KernelGen (Sm90BackwardKvGenerator.cs).
/// </summary>
internal static partial class Sm90BackwardKv
{
    public const int BlockM = 64, HeadDim = 64, Stages = 2;

    /// <summary>One 8-row group of core matrices (8 rows × 128 bytes): the stride between row groups.</summary>
    private const int CoreRowGroupBytes = 8 * HeadDim * 2;

    /// <summary>A query tile of Q (or dO), and a stage: Q, dO, then 64 LSE·log2e and 64 rowsum(dO∘O) floats.</summary>
    private const int WarpgroupRowsBytes = 64 * HeadDim * 2, TileBytes = BlockM * HeadDim * 2, StageBytes = 2 * TileBytes + 2 * BlockM * 4;

    /// <summary>One form of the kernel.</summary>
    /// <param name="Method">The kernel method.</param>
    /// <param name="Label">Its cache label.</param>
    /// <param name="Warpgroups">Warpgroups per block (64 key rows each).</param>
    /// <param name="MinBlocksPerSm">The blocks per multiprocessor its registers are capped for (.minnctapersm).</param>
    internal sealed record Form(string Method, string Label, int Warpgroups, int MinBlocksPerSm)
    {
        /// <summary>The kernel method, looked up once.</summary>
        public System.Reflection.MethodInfo Kernel { get; } = typeof(Sm90BackwardKv).GetMethod(Method)!;

        /// <summary>Threads per block.</summary>
        public int Threads => 128 * Warpgroups;

        /// <summary>Key rows per block.</summary>
        public int BlockN => 64 * Warpgroups;

        /// <summary>K and V of the block and two query stages.</summary>
        public int SharedBytes => 2 * BlockN * HeadDim * 2 + Stages * StageBytes;
    }

    /// <summary>
    /// The forms, the default first: K and V as A operands from registers (RS wgmma) with two warpgroups; the same with
    /// three; and K and V from shared memory (SS) with three warpgroups, one block per multiprocessor each.
    /// </summary>
    public static readonly Form[] Forms =
    [
        new(nameof(KernelD64Rs), "Sm90_DKV_D64_N128_M64_WG2_RS", 2, 1),
        new(nameof(KernelD64Rs3), "Sm90_DKV_D64_N192_M64_WG3_RS", 3, 1),
        new(nameof(KernelD64Ss3), "Sm90_DKV_D64_N192_M64_WG3", 3, 1),
    ];

    /// <summary>
    /// The form calls take (<c>FLASHATTN_SM90_KV</c> names another by label suffix: <c>WG2_RS</c>, <c>WG3_RS</c>, <c>WG3</c>)
    /// or null: none (<c>FLASHATTN_SM90_KV=0</c>), so that runs can compare them with the mma.sync dK/dV kernel in one
    /// build. Tests set it directly.
    /// </summary>
    internal static Form? Selected { get; set; } = Parse(Environment.GetEnvironmentVariable("FLASHATTN_SM90_KV"));

    /// <summary>The form an environment value names: null for "0", the default for none or an unknown one.</summary>
    internal static Form? Parse(string? value) =>
        value == "0" ? null : Forms.FirstOrDefault(f => value is not null && f.Label.EndsWith("_" + value, StringComparison.Ordinal)) ?? Forms[0];

    /// <summary>The shortest key length the kernel is taken from (not yet measured against the mma.sync kernel: every length).</summary>
    public const int DefaultMinSeqK = 1;

    /// <summary>The shortest key length calls take it from (<see cref="DefaultMinSeqK"/>; tests and runs change it).</summary>
    internal static int MinSeqK { get; set; } = DefaultMinSeqK;

    /// <summary>
    /// Whether a backward call can take this kernel (pure; tested without a GPU): bf16 storage, no user modifiers, head
    /// dim exactly 64, dense, no option but the scale, Nk at least <see cref="MinSeqK"/>.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="bf16">Whether the kernels read bf16 (the caller's storage is BFloat16).</param>
    /// <param name="userMods">Whether the caller passed score or mask modifiers.</param>
    public static bool Applies(AttentionProblem problem, bool bf16, bool userMods) =>
        bf16 && !userMods && problem.HeadDim == HeadDim && !problem.Packed && !problem.HasWindow && problem.Softcap == 0
        && problem.AlibiSlopes is null && problem.KeyMask is null && !problem.Dropout.Enabled
        && problem.Variant == AttentionVariant.Softmax && problem.MaxSeqK >= MinSeqK && problem.MaxSeqQ >= 1;

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a dense call (tests).</summary>
    internal static bool Applies(AttentionShape shape, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(shape, options), bf16, userMods);

    /// <summary><see cref="Applies(AttentionProblem, bool, bool)"/> for a packed call (tests).</summary>
    internal static bool Applies(VarlenLayout layout, AttentionOptions? options, bool bf16, bool userMods) =>
        Applies(new AttentionProblem(layout, options), bf16, userMods);

    /// <summary><see cref="LaunchGrid(Form, AttentionProblem)"/> for a dense call (tests).</summary>
    internal static (int X, int Y, int Z) LaunchGrid(Form form, AttentionShape shape) => LaunchGrid(form, new AttentionProblem(shape, null));

    /// <summary>The launch grid: (key blocks, key heads, batch).</summary>
    public static (int X, int Y, int Z) LaunchGrid(Form form, AttentionProblem problem) =>
        ((problem.MaxSeqK + form.BlockN - 1) / form.BlockN, problem.KvHeads, problem.Batch);
}
