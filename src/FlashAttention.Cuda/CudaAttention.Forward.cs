using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda;

/// <summary>The forward pass on the GPU (and the returned softmax).</summary>
public sealed partial class CudaAttention
{
    private const double Log2E = 1.4426950408889634;

    /// <summary>
    /// Forward pass: output = softmax(scale·q·kᵀ, masked)·v and the log-sum-exp of every query row (natural log; a row
    /// that sees no key gets output 0 and LSE +∞). All buffers must belong to <see cref="Accelerator"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq], float32.</param>
    /// <param name="options">Scale, masks, dropout, variant; null for the defaults.</param>
    /// <exception cref="ArgumentException">A shape, a length or an option is invalid.</exception>
    /// <exception cref="NotSupportedException">The element type or the head dim has no GPU kernel.</exception>
    public void Forward<T>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        AttentionOptions? options = null)
        where T : unmanaged =>
        RunForward(new AttentionProblem(shape, options), null, q, k, v, output, lse, default, default(NoCudaScoreMod), default(NoCudaMaskMod));

    /// <summary>Forward pass that also returns the probabilities (see <see cref="Forward{T}(AttentionShape, ArrayView1D{T, Stride1D.Dense}, ArrayView1D{T, Stride1D.Dense}, ArrayView1D{T, Stride1D.Dense}, ArrayView1D{T, Stride1D.Dense}, ArrayView1D{float, Stride1D.Dense}, AttentionOptions?)"/>).</summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq], float32.</param>
    /// <param name="softmax">
    /// Receives the probabilities [B, H, Nq, Nk], float32, with the sign bit set where dropout dropped the entry
    /// (O(N²) memory by definition; computed by a second kernel after the forward one).
    /// </param>
    /// <param name="options">Scale, masks, dropout, variant; null for the defaults.</param>
    public void Forward<T>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        ArrayView1D<float, Stride1D.Dense> softmax, AttentionOptions? options = null)
        where T : unmanaged =>
        RunForward(new AttentionProblem(shape, options), null, q, k, v, output, lse, softmax, default(NoCudaScoreMod), default(NoCudaMaskMod), softmaxRequested: true);

    /// <summary>
    /// Forward pass with the caller's score and mask modifiers (FlexAttention-style), compiled into the kernels: the
    /// structs are passed by value, so their fields are the modifiers' parameters.
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <typeparam name="TScore">The score modifier (<see cref="NoCudaScoreMod"/> for none).</typeparam>
    /// <typeparam name="TMask">The mask (<see cref="NoCudaMaskMod"/> for none).</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq], float32.</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Scale, masks, dropout, variant; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, Nq, Nk] (see the overload with a softmax).</param>
    public void Forward<T, TScore, TMask>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        TScore scoreMod, TMask maskMod, AttentionOptions? options = null, ArrayView1D<float, Stride1D.Dense> softmax = default)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod =>
        RunForward(new AttentionProblem(shape, options), null, q, k, v, output, lse, softmax, scoreMod, maskMod, softmaxRequested: softmax.Length > 0);

    /// <summary>
    /// Forward pass over a packed variable-length batch: q [total_q, H, D], k/v [total_k, Hkv, D], sequence b owning
    /// rows cu_seqlens[b] .. cu_seqlens[b+1]; LSE [H, total_q]. The offsets are copied to the device per call.
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <param name="layout">The offsets and head counts.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">Receives the output [total_q, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [H, total_q], float32.</param>
    /// <param name="options">Scale, masks (key padding [B, max_seqlen_k]), dropout, variant; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, max_Nq, max_Nk] (zero outside each sequence).</param>
    public void ForwardVarlen<T>(VarlenLayout layout, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        AttentionOptions? options = null, ArrayView1D<float, Stride1D.Dense> softmax = default)
        where T : unmanaged =>
        RunForward(new AttentionProblem(layout, options), null, q, k, v, output, lse, softmax, default(NoCudaScoreMod), default(NoCudaMaskMod), softmaxRequested: softmax.Length > 0);

    /// <summary>Packed variable-length forward pass with the caller's score and mask modifiers.</summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>), <see cref="BFloat16"/> or float.</typeparam>
    /// <typeparam name="TScore">The score modifier.</typeparam>
    /// <typeparam name="TMask">The mask.</typeparam>
    /// <param name="layout">The offsets and head counts.</param>
    /// <param name="q">Queries [total_q, H, D].</param>
    /// <param name="k">Keys [total_k, Hkv, D].</param>
    /// <param name="v">Values [total_k, Hkv, D].</param>
    /// <param name="output">Receives the output [total_q, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [H, total_q], float32.</param>
    /// <param name="scoreMod">The score modifier.</param>
    /// <param name="maskMod">The mask.</param>
    /// <param name="options">Scale, masks, dropout, variant; null for the defaults.</param>
    /// <param name="softmax">Empty, or receives the probabilities [B, H, max_Nq, max_Nk].</param>
    public void ForwardVarlen<T, TScore, TMask>(VarlenLayout layout, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        TScore scoreMod, TMask maskMod, AttentionOptions? options = null, ArrayView1D<float, Stride1D.Dense> softmax = default)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod =>
        RunForward(new AttentionProblem(layout, options), null, q, k, v, output, lse, softmax, scoreMod, maskMod, softmaxRequested: softmax.Length > 0);

    /// <summary>Forward pass with a named kernel variant (benchmarks and tests).</summary>
    internal void Forward<T>(ForwardVariant variant, AttentionShape shape, AttentionOptions? options,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse)
        where T : unmanaged =>
        RunForward(new AttentionProblem(shape, options), variant, q, k, v, output, lse, default, default(NoCudaScoreMod), default(NoCudaMaskMod));

    /// <summary>
    /// The forward kernel for a head dim and the register-hungry features (measured on the H200: docs/gpu-notes.md).
    /// Dropout's Philox rounds and ALiBi's bias need registers on top of tiles that already fill 255 of them: with dropout
    /// the kernel re-reads Q from shared memory and keeps no score tile alive across the P·V step (no lazy rescale), at head
    /// dim 128 with 32-key tiles. The plain kernels would spill there (up to 400 B of local memory with dropout at head dim
    /// 128) and run up to 1.5× slower. ALiBi alone keeps the plain kernel: timed with ALiBi on (benchmarks.md run 20), the
    /// head-dim-128 default was 2–5 % faster than the kernels without lazy rescaling.
    /// At head dim 128 without dropout the pick is the 64-key kernel with one advancing K/V pointer unless
    /// <paramref name="shortWindow"/> is set (<see cref="DefaultVariant(AttentionProblem)"/> says when). On an H100
    /// (benchmarks runs 40 and 41) it ran 2–6 % faster than the 48-key kernel non-causal at every length from 512 to 16k,
    /// also with ALiBi (+5–6 %) and softcap (+3 %); causal, it was 1–10 % slower up to 2k keys and 2–5 % faster from 4k on.
    /// It spills 48 B in the driver's JIT where the 48-key kernel spills none; the time is measured with the spill.
    /// At head dim 64 the lazy-rescale kernel (the output rescaled only when a row maximum grows) is the pick without
    /// ALiBi or dropout: on an H100 (benchmarks run 42) it ran 1.5–6 % faster than the plain kernel at every length from 1k
    /// to 16k, causal or not, and 1–2 % with softcap; with ALiBi it was 1–2 % slower, so ALiBi keeps the plain kernel.
    /// Neither spills (0 B in the driver's JIT).
    /// </summary>
    internal static ForwardVariant DefaultVariant(int headDim, bool dropout = false, bool alibi = false, bool shortWindow = false) =>
        ForwardVariant.Find((KernelDim(headDim), dropout, alibi, shortWindow) switch
        {
            (32, _, _, _) => "D32_M128_N64_W4",
            (64, false, false, _) => "D64_M128_N64_W4_LR",
            (64, false, true, _) => "D64_M128_N64_W4",
            (64, true, _, _) => "D64_M128_N64_W4_QS",
            (96, false, _, _) => "D96_M128_N64_W4_QS_LR",
            (96, true, _, _) => "D96_M128_N64_W4_QS",
            (128, false, _, false) => "D128_M128_N64_W4_QS_LR_SE_AP",
            (128, false, _, true) => "D128_M128_N48_W4_QS_LR_SE",
            (128, true, _, _) => "D128_M128_N32_W4_QS",
            _ => "D256_M64_N32_W4_QS_LR",
        });

    /// <summary>
    /// The forward kernel for a problem. A causal mask over fewer than <see cref="LongCausalKeys"/> keys, a causal mask
    /// with softcap, and any sliding window (left bound set) count as a short window: the 48-key kernel's finer diagonal
    /// tiles won there (runs 40–41). Sliding windows were not timed separately; they keep the kernel of the short causal case.
    /// </summary>
    internal static ForwardVariant DefaultVariant(AttentionProblem problem) =>
        DefaultVariant(problem.HeadDim, problem.Dropout.Enabled, problem.AlibiSlopes is not null,
            shortWindow: problem.HasWindow && (problem.WindowLeft >= 0 || problem.MaxSeqK < LongCausalKeys || problem.Softcap > 0));

    /// <summary>The forward kernel for a shape and options (benchmarks).</summary>
    internal static ForwardVariant DefaultVariant(AttentionShape shape, AttentionOptions options) =>
        DefaultVariant(new AttentionProblem(shape, options));

    /// <summary>From this many keys on, a causal call at head dim 128 takes the 64-key kernel (run 41: +1.6 % at 4k, +4–5 % at 8k–16k).</summary>
    internal const int LongCausalKeys = 4096;

    /// <summary>Every forward kernel <see cref="DefaultVariant(int, bool, bool, bool)"/> may pick for a head dim (plain, short window, dropout, ALiBi).</summary>
    internal static IEnumerable<ForwardVariant> DefaultVariants(int headDim) =>
        new[]
        {
            DefaultVariant(headDim), DefaultVariant(headDim, shortWindow: true), DefaultVariant(headDim, dropout: true),
            DefaultVariant(headDim, alibi: true),
        }.Distinct();

    /// <summary>The token layout the attention kernels are instantiated for: packed (cu_seqlens) or dense.</summary>
    private static Type Layout(AttentionProblem problem) => problem.Packed ? typeof(PackedLayout) : typeof(DenseLayout);

    /// <summary>The returned-softmax kernel for a head dim.</summary>
    internal static BackwardVariant SoftmaxVariant(int headDim)
    {
        int d = KernelDim(headDim);
        return BackwardKernels.SoftmaxVariants.First(v => v.HeadDim == d);
    }

    private void RunForward<T, TScore, TMask>(AttentionProblem problem, ForwardVariant? variant,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<float, Stride1D.Dense> softmax,
        TScore scoreMod, TMask maskMod, bool softmaxRequested = false)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var kind = ElementKind<T>();
        CheckSupported(problem);
        bool sm90 = variant is null && TakesSm90Forward(problem, kind, typeof(TScore), typeof(TMask), softmaxRequested, forceLength: false);
        variant ??= DefaultVariant(problem);
        if (variant.HeadDim < problem.HeadDim)
            throw new NotSupportedException($"Kernel {variant.Name} is for head dims up to {variant.HeadDim}; the call has {problem.HeadDim}.");
        CheckForwardViews(problem, q, k, v, output, lse);
        if (softmaxRequested)
            CheckView(softmax, problem.SoftmaxLength, nameof(softmax), problem.ShapeText);
        if (problem.TotalQ == 0)
            return;
        lock (_callGate)
        {
            if (sm90)
                EnqueueSm90Forward(problem, q, k, v, output, lse);
            else
                EnqueueForward(problem, variant, kind, q, k, v, output, lse, softmax, scoreMod, maskMod, softmaxRequested);
        }
    }

    /// <summary>
    /// Whether a call runs on the Hopper wgmma kernel (<see cref="Sm90Forward"/>): an sm_90 device and the plain bf16
    /// head-dim-128 case <see cref="Sm90Forward.Applies(AttentionProblem, bool, bool, bool, int)"/> accepts; <paramref name="forceLength"/> drops its minimum query
    /// length (tests and benchmarks).
    /// </summary>
    private bool TakesSm90Forward(AttentionProblem problem, Type kind, Type score, Type mask, bool softmax, bool forceLength) =>
        IsSm90 && Sm90Forward.Applies(problem, kind == typeof(Bf16Kind), score != typeof(NoCudaScoreMod) || mask != typeof(NoCudaMaskMod), softmax,
            forceLength ? 1 : Sm90Forward.MinSeqQ);

    /// <summary>
    /// The forward pass on the wgmma kernel at any query length (tests and benchmarks): false, with nothing enqueued, where
    /// the call is not one it takes (no sm_90 device, or options it does not implement).
    /// </summary>
    internal bool ForwardSm90(AttentionShape shape, AttentionOptions? options, ArrayView1D<BFloat16, Stride1D.Dense> q,
        ArrayView1D<BFloat16, Stride1D.Dense> k, ArrayView1D<BFloat16, Stride1D.Dense> v, ArrayView1D<BFloat16, Stride1D.Dense> output,
        ArrayView1D<float, Stride1D.Dense> lse)
    {
        var problem = new AttentionProblem(shape, options);
        if (!TakesSm90Forward(problem, typeof(Bf16Kind), typeof(NoCudaScoreMod), typeof(NoCudaMaskMod), softmax: false, forceLength: true))
            return false;
        CheckForwardViews(problem, q, k, v, output, lse);
        if (problem.TotalQ > 0)
            lock (_callGate)
                EnqueueSm90Forward(problem, q, k, v, output, lse);
        return true;
    }

    /// <summary>The lengths of a forward call's views against its shape (ArgumentException naming the view).</summary>
    private void CheckForwardViews<T>(AttentionProblem problem, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse)
        where T : unmanaged
    {
        string shapeText = problem.ShapeText;
        CheckView(q, problem.QueryLength, nameof(q), shapeText);
        CheckView(k, problem.KeyValueLength, nameof(k), shapeText);
        CheckView(v, problem.KeyValueLength, nameof(v), shapeText);
        CheckView(output, problem.QueryLength, nameof(output), shapeText);
        CheckView(lse, problem.LseLength, nameof(lse), shapeText);
    }

    private void EnqueueSm90Forward<T>(AttentionProblem problem, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse)
        where T : unmanaged
    {
        var (parameters, blocks) = Sm90Forward.Parameters(problem, Address(q), Address(k), Address(v), Address(output), Address(lse),
            ScaleLog2(problem.Scale));
        var (method, label, sharedBytes, _) = Sm90Forward.Choose(problem);
        var kernel = GetKernel(typeof(Sm90Forward).GetMethod(method)!, label, Sm90Forward.Threads, sharedBytes);
        Launch(kernel, (blocks, 1, 1), parameters, [Range(q), Range(k), Range(v), Range(output), Range(lse)]);
    }

    private void EnqueueForward<T, TScore, TMask>(AttentionProblem problem, ForwardVariant variant, Type kind,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse, ArrayView1D<float, Stride1D.Dense> softmax,
        TScore scoreMod, TMask maskMod, bool softmaxRequested)
        where T : unmanaged
        where TScore : unmanaged, ICudaScoreMod
        where TMask : unmanaged, ICudaMaskMod
    {
        var inputs = PrepareInputs(problem, q, k, v, default);
        var shared = UploadShared(problem);
        var parameters = ForwardParameters(variant, problem, inputs.Q, inputs.K, inputs.V, Address(output), Address(lse), shared,
            floatOutput: typeof(T) == typeof(float));
        var ranges = inputs.Ranges.Concat(shared.Ranges).Append(Range(output)).Append(Range(lse)).ToArray();
        var kernel = GetKernel(variant.Method(kind, ScoreMode(problem), Features(problem, kind), typeof(TScore), typeof(TMask), Layout(problem)),
            variant.Name, variant.Threads, variant.SharedBytes);
        var mods = new ModPair<TScore, TMask>(scoreMod, maskMod);
        Launch(kernel, GroupedGrid(parameters.QueryBlocks, problem.Heads, problem.Batch, parameters.HeadGroupShift), parameters, mods, ranges);

        if (softmaxRequested && problem.SoftmaxLength > 0)
        {
            // Entries no row can see (outside the window, past a packed sequence) are never visited by the kernel.
            softmax.MemSetToZero(Accelerator.DefaultStream);
            var sv = SoftmaxVariant(problem.HeadDim);
            var sp = BackwardParameters(problem, 0, inputs.Q, inputs.K, 0, 0, Address(lse), 0, Address(softmax), 0, 0, 0, 0, 0, shared);
            var softmaxKernel = GetKernel(sv.Method(kind, ScoreMode(problem), Features(problem, kind), typeof(TScore), typeof(TMask), Layout(problem)),
                sv.Name, sv.Threads, sv.SharedBytes);
            Launch(softmaxKernel, (BlockInfo.BlockCount(problem.MaxSeqQ, sv.BlockM), problem.Heads, problem.Batch), sp, mods,
                ranges.Append(Range(softmax)).ToArray());
        }
    }

    /// <summary>The kernel parameters of one forward call (pure; tested without a GPU).</summary>
    internal static ForwardParams Parameters(ForwardVariant variant, AttentionShape shape, AttentionOptions? options,
        ulong q, ulong k, ulong v, ulong output, ulong lse, ulong keyMask = 0, ulong alibi = 0) =>
        ForwardParameters(variant, new AttentionProblem(shape, options), q, k, v, output, lse,
            new SharedInputs(keyMask, alibi, 0, 0, []), floatOutput: false);

    private static ForwardParams ForwardParameters(ForwardVariant variant, AttentionProblem problem, ulong q, ulong k, ulong v,
        ulong output, ulong lse, SharedInputs shared, bool floatOutput) => new()
    {
        Q = q,
        K = k,
        V = v,
        O = output,
        Lse = lse,
        KeyMask = shared.KeyMask,
        SeqQ = problem.MaxSeqQ,
        SeqK = problem.MaxSeqK,
        Heads = problem.Heads,
        KvHeads = problem.KvHeads,
        GroupSize = problem.GroupSize,
        QueryBlocks = BlockInfo.BlockCount(problem.MaxSeqQ, variant.BlockM),
        WindowLeft = problem.WindowLeft,
        WindowRight = problem.WindowRight,
        ScaleLog2 = problem.Softcap > 0 ? (float)(problem.Softcap * Log2E) : ScaleLog2(problem.Scale),
        PrepScale = problem.Softcap > 0 ? (float)(2 * Log2E * problem.Scale / problem.Softcap) : 0f,
        Alibi = shared.Alibi,
        DropSeedLow = problem.Dropout.SeedLow,
        DropKeyHigh = problem.Dropout.KeyHigh,
        DropOffsetLow = problem.Dropout.OffsetLow,
        KeepThreshold = problem.Dropout.KeepThreshold,
        DropScale = problem.Dropout.Enabled ? problem.Dropout.KeepScale : 1f,
        HeadDim = problem.HeadDim,
        TotalQ = problem.TotalQ,
        CuQ = shared.CuQ,
        CuK = shared.CuK,
        KeyMaskStride = problem.MaxSeqK,
        FloatOutput = floatOutput ? 1 : 0,
        FixedShift = problem.Variant == AttentionVariant.Cosine ? (float)(problem.ScoreBound * Log2E) : 0f,
        HeadGroupShift = OrderedHeadGroupShift(problem, problem.Heads, KeyValueBytesPerHead(problem)),
    };

    /// <summary>One head's 16-bit K and V: what the blocks of a forward or dQ kernel stream per head.</summary>
    private static long KeyValueBytesPerHead(AttentionProblem problem) => 4L * problem.MaxSeqK * problem.HeadDim;

    /// <summary>
    /// The head group of the grid order (<see cref="TileMath.GroupedBlock"/>): under a causal or local mask blocks differ
    /// in length and the longest go first across a group of heads; without one every block is as long as the next, so
    /// the order stays head by head (shift 0), where the blocks in flight share the most K/V in L2.
    /// </summary>
    /// <param name="problem">The call.</param>
    /// <param name="heads">Heads along the kernel's grid (query heads, or K/V heads for dK/dV).</param>
    /// <param name="bytesPerHead">What one head's blocks stream (<see cref="KeyValueBytesPerHead"/> for the forward and dQ kernels).</param>
    internal static int OrderedHeadGroupShift(AttentionProblem problem, int heads, long bytesPerHead) =>
        problem.HasWindow ? TileMath.HeadGroupShift(heads, bytesPerHead) : 0;

    /// <summary>The grid of <see cref="TileMath.GroupedBlock"/>'s order: (blocks · 2^shift, heads / 2^shift, batch).</summary>
    internal static (int X, int Y, int Z) GroupedGrid(int blocks, int heads, int batch, int shift) =>
        (checked(blocks * (1 << shift)), heads >> shift, batch);

    /// <summary>
    /// scale·log2(e), the factor that puts scores in base-2 units. A zero scale becomes a tiny positive one, so that masked
    /// entries (-inf) still scale to -inf instead of NaN; every other score then scales to 0, as it should.
    /// </summary>
    internal static float ScaleLog2(float scale) => scale == 0f ? 1e-30f : (float)(scale * Log2E);

    /// <summary>The features type parameter of the kernels for these options and element kind (tested without a GPU).</summary>
    internal static Type Features(AttentionShape shape, AttentionOptions? options, Type? kind = null) =>
        Features(new AttentionProblem(shape, options), kind ?? typeof(Bf16Kind));

    /// <summary>
    /// The features of a call. Cosine attention runs with its fixed shift (no running maximum) in bf16 only: its
    /// probabilities span 2^(−2·bound·log2 e) .. 1, which fp16's exponent cannot hold when the bound is large (8 bits of
    /// exponent in bf16 can). In fp16 it runs with the running maximum, on the same normalised q and k — the same function.
    /// </summary>
    private static Type Features(AttentionProblem problem, Type kind) =>
        (problem.Variant == AttentionVariant.Cosine && kind == typeof(Bf16Kind), problem.AlibiSlopes is not null, problem.Dropout.Enabled) switch
        {
            (true, _, false) => typeof(CosineFeature),
            (true, _, true) => typeof(CosineDropoutFeatures),
            (false, false, false) => typeof(NoFeatures),
            (false, true, false) => typeof(AlibiFeature),
            (false, false, true) => typeof(DropoutFeature),
            (false, true, true) => typeof(AlibiDropoutFeatures),
        };

    /// <summary>The score-mode type parameter of the kernels for these options (tested without a GPU).</summary>
    internal static Type ScoreMode(AttentionShape shape, AttentionOptions? options) => ScoreMode(new AttentionProblem(shape, options));

    private static Type ScoreMode(AttentionProblem problem) =>
        problem.Softcap > 0 ? typeof(SoftcapScore)
        : problem.Scale < 0 ? typeof(NegativeScale)
        : typeof(PositiveScale);

    /// <summary>ALiBi slopes expanded to [B·H] and multiplied by log2(e), the units of the kernel's logits (tested without a GPU).</summary>
    internal static float[] AlibiSlopesLog2(AttentionShape shape, AttentionOptions? options) => AlibiSlopesLog2(new AttentionProblem(shape, options));

    private static float[] AlibiSlopesLog2(AttentionProblem problem)
    {
        var slopes = problem.AlibiSlopes ?? throw new InvalidOperationException("No ALiBi slopes.");
        var result = new float[problem.Batch * problem.Heads];
        for (int b = 0; b < problem.Batch; b++)
            for (int h = 0; h < problem.Heads; h++)
                result[b * problem.Heads + h] = (float)(slopes[(problem.AlibiPerBatch ? b * problem.Heads : 0) + h] * Log2E);
        return result;
    }

    /// <summary>Validates what only the GPU limits (tested without a GPU): head dims, grid sizes.</summary>
    internal static void CheckSupported(AttentionShape shape, AttentionOptions? options) => CheckSupported(new AttentionProblem(shape, options));

    private static void CheckSupported(AttentionProblem problem)
    {
        KernelDim(problem.HeadDim);
        if (problem.Heads > 65535 || problem.Batch > 65535)
            throw new NotSupportedException($"The CUDA grid holds at most 65535 heads and 65535 sequences; got {problem.Heads} heads, batch {problem.Batch}.");
    }

    /// <summary>The per-call device copies every kernel of a call reads: key mask, ALiBi slopes, cu_seqlens.</summary>
    private readonly record struct SharedInputs(ulong KeyMask, ulong Alibi, ulong CuQ, ulong CuK, (ulong Address, long Bytes)[] Ranges);

    /// <summary>
    /// Copies the key padding mask (one byte per key), the ALiBi slopes (log2 units) and, for the packed layout, the
    /// offsets to device buffers reused across calls; the copies are ordered on the default stream, so they never
    /// overtake a kernel still reading the previous call's values.
    /// </summary>
    private SharedInputs UploadShared(AttentionProblem problem)
    {
        var ranges = new List<(ulong, long)>();
        ulong keyMask = 0, alibi = 0, cuQ = 0, cuK = 0;
        if (problem.KeyMask is { } mask)
        {
            var bytes = new byte[mask.Length];
            for (int i = 0; i < mask.Length; i++)
                bytes[i] = mask[i] ? (byte)1 : (byte)0;
            var view = Upload("keymask", bytes);
            keyMask = Address(view);
            ranges.Add(Range(view));
        }
        if (problem.AlibiSlopes is not null)
        {
            var view = Upload("alibi", AlibiSlopesLog2(problem));
            alibi = Address(view);
            ranges.Add(Range(view));
        }
        if (problem.Packed)
        {
            var q = Upload("cu_q", problem.CuQ);
            var k = Upload("cu_k", problem.CuK);
            cuQ = Address(q);
            cuK = Address(k);
            ranges.Add(Range(q));
            ranges.Add(Range(k));
        }
        return new SharedInputs(keyMask, alibi, cuQ, cuK, [.. ranges]);
    }
}
