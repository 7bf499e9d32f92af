namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The Hopper (sm_90a) dK/dV kernels of the split backward: warpgroup MMA for head dims 64 and 128 in bf16, the plain
/// case with causal or local windows (no key mask, softcap, ALiBi, dropout, cosine variant or user modifier; dense
/// layout; any lengths). A block visits only the query tiles its keys see and masks only those on the window's edge. Warpgroups of
/// 64 key rows share a block; its K and V rows are copied to shared memory once, 64-query tiles of Q and dO (and their
/// LSE and rowsum(dO∘O) values) are double-buffered by cp.async, over every query head of the block's key head. Per tile:
/// Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ by wgmma, Pᵀ and dSᵀ = Pᵀ∘(dPᵀ − D) on their registers, dV += Pᵀ·dO and dK += dSᵀ·Q by RS wgmma.
/// They do the mma.sync dK/dV kernel's work (four products per tile, no atomics) and take its place where
/// <see cref="Applies(AttentionProblem, bool, bool)"/> holds. Written by tools/FlashAttention.Cuda.KernelGen (Sm90BackwardKvGenerator.cs).
/// </summary>
internal static partial class Sm90BackwardKv
{
    public const int BlockM = 64, Stages = 2;

    /// <summary>One form of the kernel.</summary>
    /// <param name="Method">The kernel method.</param>
    /// <param name="Label">Its cache label.</param>
    /// <param name="HeadDim">The head dim it computes (64 or 128).</param>
    /// <param name="Warpgroups">Warpgroups per block (64 key rows each).</param>
    /// <param name="MinBlocksPerSm">The blocks per multiprocessor its registers are capped for (.minnctapersm).</param>
    internal sealed record Form(string Method, string Label, int HeadDim, int Warpgroups, int MinBlocksPerSm)
    {
        /// <summary>The kernel method, looked up once.</summary>
        public System.Reflection.MethodInfo Kernel { get; } = typeof(Sm90BackwardKv).GetMethod(Method)!;

        /// <summary>Threads per block.</summary>
        public int Threads => 128 * Warpgroups;

        /// <summary>Key rows per block.</summary>
        public int BlockN => 64 * Warpgroups;

        /// <summary>What <c>FLASHATTN_SM90_KV</c> names it by: the label after its tile sizes (<c>WG3</c>, <c>WG2_SERIAL</c>, …).</summary>
        public string Suffix => Label[(Label.IndexOf("_M64_", StringComparison.Ordinal) + 5)..];

        /// <summary>K and V of the block and two query stages (Q and dO tiles, 64 LSE and 64 rowsum(dO∘O) floats each).</summary>
        public int SharedBytes => 2 * BlockN * HeadDim * 2 + Stages * (2 * BlockM * HeadDim * 2 + 2 * BlockM * 4);
    }

    /// <summary>
    /// The forms, each head dim's default first. Head dim 64: K and V as A operands from shared memory (SS) with three
    /// warpgroups and Pᵀ while dPᵀ is in flight — dK/dV alone 15 % faster than the mma.sync kernel at 16k on the H100
    /// (benchmarks run 47; the register-operand forms were slower there, and the one kept gave wrong dK once the window
    /// code went in, device run 69, so it is gone); the same SS form with Pᵀ after both products. Head dim 128: SS with
    /// two warpgroups, Pᵀ after both products or while dPᵀ is in flight.
    /// </summary>
    public static readonly Form[] Forms =
    [
        new(nameof(KernelD64Ss3), "Sm90_DKV_D64_N192_M64_WG3", 64, 3, 1),
        new(nameof(KernelD64Ss3Serial), "Sm90_DKV_D64_N192_M64_WG3_SERIAL", 64, 3, 1),
        new(nameof(KernelD128Ss), "Sm90_DKV_D128_N128_M64_WG2_SERIAL", 128, 2, 1),
        new(nameof(KernelD128SsOverlap), "Sm90_DKV_D128_N128_M64_WG2", 128, 2, 1),
    ];

    /// <summary>
    /// The form calls take, by <see cref="Form.Suffix"/> (<c>FLASHATTN_SM90_KV</c>; tests set it directly). Opt-in for
    /// now: unset or "0" none (the mma.sync dK/dV kernel), because only the first head-dim-64 build of this kernel has run
    /// on a GPU (benchmarks run 47; in run 48 the device test stopped at the register form's failure, since removed), and
    /// the head-dim-128, causal and window code has not passed there yet; "1" or a suffix a head dim has
    /// no form for takes that head dim's default; a suffix names a form.
    /// </summary>
    internal static string? Choice { get; set; } = Environment.GetEnvironmentVariable("FLASHATTN_SM90_KV");

    /// <summary>The form <see cref="Choice"/> gives a head dim: null when unset, "0" or a head dim without forms.</summary>
    internal static Form? Selected(int headDim) =>
        Choice is null or "0" ? null
        : Forms.FirstOrDefault(f => f.HeadDim == headDim && f.Suffix == Choice) ?? Forms.FirstOrDefault(f => f.HeadDim == headDim);

    /// <summary>The shortest key length the kernel is taken from (not yet measured against the mma.sync kernel below 2k: every length).</summary>
    public const int DefaultMinSeqK = 1;

    /// <summary>The shortest key length calls take it from (<see cref="DefaultMinSeqK"/>; tests and runs change it).</summary>
    internal static int MinSeqK { get; set; } = DefaultMinSeqK;

    /// <summary>
    /// Whether a backward call can take this kernel (pure; tested without a GPU): bf16 storage, no user modifiers, head
    /// dim exactly 64 or 128, dense, no option but the scale, causal and the window, Nk at least <see cref="MinSeqK"/>.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="bf16">Whether the kernels read bf16 (the caller's storage is BFloat16).</param>
    /// <param name="userMods">Whether the caller passed score or mask modifiers.</param>
    public static bool Applies(AttentionProblem problem, bool bf16, bool userMods) =>
        bf16 && !userMods && problem.HeadDim is 64 or 128 && !problem.Packed && problem.Softcap == 0
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
